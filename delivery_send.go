package watchdog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// send makes one attempt through n for deliveries cs (several at once only
// for a BatchNotifier) and decides each one's outcome; delivered reports that the
// destination took them.
// With digest set, several go as one DeliverDigest.
func (d *deliveryLoop) send(ctx context.Context, n Notifier, cs []claimedDelivery, digest bool) (outs []DeliveryOutcome, delivered bool) {
	e := d.e
	start := e.clock.Now()
	outs = make([]DeliveryOutcome, len(cs))
	var live []int // indexes of the deliveries sent
	for i, c := range cs {
		outs[i] = DeliveryOutcome{ID: c.ID, Attempt: c.Attempts, Finished: start}
		if reason := d.unsendable(ctx, c, start); reason != "" {
			outs[i] = handBack(c, start)
			e.log.Debug("alert delivery handed back unsent", "notifier", d.name, "delivery_id", c.ID, "reason", reason)
			continue
		}
		if c.Alert == nil {
			d.decide(&outs[i], c.Delivery, false, errors.New("delivery has no alert"), start, start)
			continue
		}
		live = append(live, i)
	}
	if len(live) == 0 {
		return outs, false
	}
	d.busy.Add(int64(len(live)))
	defer d.busy.Add(-int64(len(live)))
	// Sends in progress finish even when Run is stopping.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.DeliveryTimeout)
	var (
		retry bool
		err   error
	)
	if len(live) == 1 {
		a := *cs[live[0]].Alert
		a.DeliveryID = cs[live[0]].ID
		retry, err = deliverSafely(actx, n, a)
	} else {
		alerts := make([]Alert, len(live))
		for k, i := range live {
			alerts[k] = *cs[i].Alert
			alerts[k].DeliveryID = cs[i].ID
		}
		retry, err = deliverBatchSafely(actx, n, alerts, digest)
	}
	cancel()
	now := e.clock.Now()
	for _, i := range live {
		d.decide(&outs[i], cs[i].Delivery, retry, err, start, now)
	}
	return outs, err == nil
}

// unsendable says why a claimed delivery must not be sent now, or "": the
// engine is stopping, the claim's heartbeat is no longer good (another
// claimer may take the delivery once it runs out), or the claim is so old
// that its backstop could run out during the attempt.
func (d *deliveryLoop) unsendable(ctx context.Context, c claimedDelivery, now time.Time) string {
	switch {
	case d.stopping.Load():
		return "engine stopping"
	case now.Add(d.e.cfg.DeliveryTimeout).After(c.claimedUntil):
		return "claim too old"
	}
	if holder, ok := d.e.claims.ensure(ctx, now); !ok || holder != c.holder {
		return "claim not renewed"
	}
	return ""
}

// decide fills o from one attempt's result.
//
// A destination that asks for a wait (a *RetryAfterError: HTTP 429, or 503)
// pauses as a whole, and the deliveries it refused are retried when the
// pause ends; a refusal under its rate limit (Throttled) does not count as
// an attempt, so that a rate limit delays a delivery and never uses up its
// attempts. A send that timed out pauses the destination too, so that a
// hung destination is not sent the rest of the queue (each of which it
// might take and answer too late, making a re-send). Other retryable
// failures back off per delivery.
func (d *deliveryLoop) decide(o *DeliveryOutcome, del Delivery, retry bool, err error, start, now time.Time) {
	e := d.e
	o.Finished = now
	var ra *RetryAfterError
	switch {
	case err == nil:
		o.Status = DeliveryDelivered
	case !retry:
		o.Status, o.Error = DeliveryFailed, errorText(err)
	case errors.As(err, &ra) && ra != nil && ra.Throttled: // nil: a typed nil returned as the error
		o.Status, o.Error, o.Unsent = DeliveryPending, errorText(err), true
		wait := d.wait(ra, del)
		d.queue.throttle(wait)
		o.RetryAt = d.pause(now.Add(wait), err)
	case del.Attempts >= e.cfg.MaxAttempts:
		o.Status, o.Error = DeliveryFailed, errorText(err)
	case ra != nil:
		o.Status, o.Error = DeliveryPending, errorText(err)
		o.RetryAt = d.pause(now.Add(d.wait(ra, del)), err)
	case isTimeout(err):
		o.Status, o.Error = DeliveryPending, errorText(err)
		o.RetryAt = d.pause(now.Add(e.cfg.RetryPolicy.RetryDelay(del.Attempts)), err)
	default:
		o.Status, o.Error = DeliveryPending, errorText(err)
		o.RetryAt = now.Add(e.cfg.RetryPolicy.RetryDelay(del.Attempts))
	}
	e.obs.DeliveryFinished(d.name, o.Status, now.Sub(start))
	// The attributes are built only for a line that is written: a burst
	// delivers tens of thousands of alerts, each "alert delivered" at Info.
	attrs := func(more ...any) []any {
		a := make([]any, 0, 14+len(more))
		a = append(a, "notifier", d.name, "delivery_id", del.ID, "attempt", del.Attempts, "status", o.Status)
		if del.Alert != nil {
			a = append(a, "ticket_id", del.Alert.TicketID, "sla_type", del.Alert.SLAClock, "stage", del.Alert.Stage)
		}
		return append(a, more...)
	}
	switch {
	case o.Status == DeliveryDelivered:
		if e.log.Enabled(context.Background(), slog.LevelInfo) {
			e.log.Info("alert delivered", attrs()...)
		}
		d.failures.delivered(e.log, now, d.name)
	case o.Status == DeliveryFailed:
		e.log.Error("alert delivery failed for good", attrs("err", o.Error)...)
	case o.Unsent:
		// A rate limit is not a failure: the pause is logged (paced) instead.
		if e.log.Enabled(context.Background(), slog.LevelDebug) {
			e.log.Debug("alert delivery refused under a rate limit, will retry", attrs("err", o.Error, "retry_at", o.RetryAt)...)
		}
	default:
		// Failures to retry are logged per destination as its state
		// changes (destinationLog), not once per attempt.
		d.failures.retrying(e.log, now, d.name, o.Error, attrs("retry_at", o.RetryAt)...)
	}
}

// wait is how long a destination that asked for a wait pauses: as long as
// it asked, or one backoff interval when it named no wait.
func (d *deliveryLoop) wait(ra *RetryAfterError, del Delivery) time.Duration {
	if ra.After > 0 {
		return ra.After
	}
	return d.e.cfg.RetryPolicy.RetryDelay(max(del.Attempts, 1))
}

// pause pauses the destination until until (or the later end of a pause
// already running), wakes the loop to resume it then, and returns when it
// resumes: the instant retried deliveries come due, all together, so that
// they regroup into full messages.
func (d *deliveryLoop) pause(until time.Time, cause error) time.Time {
	if d.queue.pause(until) {
		d.failures.paused(d.e.log, d.e.clock.Now(), d.name, until, errorText(cause))
	}
	d.loop.Wake()
	at, _ := d.queue.resumeAt()
	return at
}

// isTimeout reports whether err is a send that ran out of time: its
// outcome is unknown, as the destination may have taken it.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// errorText is err's message; a notifier's error whose Error method panics
// is described instead, since one faulty notifier must not stop the engine.
func errorText(err error) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("notifier error %T: Error panicked: %v", err, r)
		}
	}()
	return err.Error()
}

// deliverBatchSafely is deliverSafely for a BatchNotifier's DeliverBatch,
// or with digest a DigestNotifier's DeliverDigest.
func deliverBatchSafely(ctx context.Context, n Notifier, alerts []Alert, digest bool) (retry bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			retry, err = true, fmt.Errorf("notifier panicked: %v", r)
		}
	}()
	if dn, ok := n.(DigestNotifier); ok && digest {
		return dn.DeliverDigest(ctx, alerts)
	}
	return n.(BatchNotifier).DeliverBatch(ctx, alerts)
}

// deliverSafely turns a notifier's panic into a retryable error so that one
// faulty notifier cannot take the engine down.
func deliverSafely(ctx context.Context, n Notifier, a Alert) (retry bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			retry, err = true, fmt.Errorf("notifier panicked: %v", r)
		}
	}()
	return n.Deliver(ctx, a)
}
