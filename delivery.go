package watchdog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/scheduler"
)

// deliveryLoop delivers one notifier's alerts: its loop claims pending
// deliveries in batches into a queue, workers send them, and a finisher
// records the outcomes in batches, so that the store sees a few
// transactions per batch rather than two per delivery.
type deliveryLoop struct {
	e    *Engine
	name string
	n    Notifier
	loop *scheduler.Loop

	queue    deliveryQueue
	outcomes chan DeliveryOutcome
	// unrecorded counts attempts started and not yet recorded by the
	// finisher: at most DeliveryBatch, which bounds what a crash can make
	// the next claimer send again.
	unrecorded tokenPool
	// group is the most deliveries one send takes: MaxBatch for a
	// BatchNotifier (within DeliveryBatch), else 1.
	group int
	// pending counts deliveries claimed and not yet settled (queued, being
	// sent, or waiting for their outcome to be recorded).
	pending  atomic.Int64
	busy     atomic.Int64
	stopping atomic.Bool
	failures destinationLog
}

type claimedDelivery struct {
	Delivery
	claimedAt time.Time
}

// run runs the claim loop, the workers and the finisher until ctx is done;
// then it lets sends in progress finish, releases what is still queued and
// records every outcome before returning.
func (d *deliveryLoop) run(ctx context.Context) {
	cfg := d.e.cfg
	d.outcomes = make(chan DeliveryOutcome, cfg.DeliveryBatch)
	d.unrecorded.init(cfg.DeliveryBatch)
	d.stopping.Store(false)
	d.queue.open()
	var workers, finisher sync.WaitGroup
	for range cfg.DeliveryConcurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				cs, ok := d.queue.pop(d.group)
				if !ok {
					return
				}
				d.unrecorded.acquire(len(cs)) // released by the finisher
				for _, o := range d.send(ctx, cs) {
					d.outcomes <- o
				}
			}
		}()
	}
	finisher.Add(1)
	go func() {
		defer finisher.Done()
		d.finish()
	}()
	_ = d.loop.Run(ctx)
	d.stopping.Store(true)
	d.queue.close()
	workers.Wait()
	close(d.outcomes)
	finisher.Wait()
}

func (d *deliveryLoop) step(ctx context.Context, now time.Time) (time.Time, error) {
	cfg := d.e.cfg
	free := cfg.DeliveryBatch - int(d.pending.Load())
	if free < cfg.DeliveryBatch/4 && d.pending.Load() > 0 {
		return time.Time{}, nil // the finisher wakes the loop as room frees up
	}
	ds, err := d.e.store.ClaimDeliveries(ctx, d.name, now, free, cfg.DeliveryLease)
	if err != nil {
		return time.Time{}, err
	}
	cs := make([]claimedDelivery, len(ds))
	for i, del := range ds {
		cs[i] = claimedDelivery{Delivery: del, claimedAt: now}
	}
	if !d.enqueue(cs) {
		// Stopping: nothing sends them now; hand them back.
		return time.Time{}, d.release(ctx, cs)
	}
	if len(ds) == free {
		return time.Time{}, nil // full: woken when room frees up
	}
	next, ok, err := d.e.store.NextDelivery(ctx, d.name)
	if err != nil || !ok {
		return time.Time{}, err
	}
	return next, nil
}

// release hands claimed deliveries that the stopped loop will not send back
// to the store, due at once for the next claimer.
func (d *deliveryLoop) release(ctx context.Context, cs []claimedDelivery) error {
	now := d.e.clock.Now()
	outcomes := make([]DeliveryOutcome, len(cs))
	for i, c := range cs {
		outcomes[i] = DeliveryOutcome{ID: c.ID, Attempt: c.Attempts, Status: DeliveryPending, RetryAt: now, Finished: now, Unsent: true}
	}
	return d.e.store.FinishDeliveries(context.WithoutCancel(ctx), outcomes)
}

// acceptsHandoff reports whether the loop is running and its backlog has
// room for the deliveries of another evaluation's alerts.
func (d *deliveryLoop) acceptsHandoff() bool {
	b := d.e.cfg.DeliveryBacklog
	return b > 0 && d.queue.isOpen() && d.pending.Load() < int64(b)
}

// enqueue counts cs as pending and queues them for the workers; it reports
// false, counting nothing, when the loop is not running.
func (d *deliveryLoop) enqueue(cs []claimedDelivery) bool {
	if len(cs) == 0 {
		return true
	}
	// Counted before they are visible, so that Idle never sees them queued
	// yet not pending.
	d.pending.Add(int64(len(cs)))
	if !d.queue.push(cs) {
		d.pending.Add(-int64(len(cs)))
		return false
	}
	return true
}

// send makes one attempt for deliveries cs (several at once only for a
// BatchNotifier) and decides each one's outcome.
func (d *deliveryLoop) send(ctx context.Context, cs []claimedDelivery) []DeliveryOutcome {
	e := d.e
	start := e.clock.Now()
	outs := make([]DeliveryOutcome, len(cs))
	var live []int // indexes of the deliveries sent
	for i, c := range cs {
		outs[i] = DeliveryOutcome{ID: c.ID, Attempt: c.Attempts, Finished: start}
		if d.stopping.Load() || start.After(c.claimedAt.Add(e.cfg.DeliveryLease-e.cfg.DeliveryTimeout)) {
			// Not started before shutdown, or so late that the lease could
			// run out during the attempt and another claimer send it too:
			// hand it back for the next claim.
			outs[i].Status, outs[i].RetryAt, outs[i].Unsent = DeliveryPending, start, true
			e.log.Debug("alert delivery handed back unsent", "notifier", d.name, "delivery_id", c.ID, "reason", releaseReason(d.stopping.Load()))
			continue
		}
		if c.Alert == nil {
			d.decide(&outs[i], c.Delivery, false, errors.New("delivery has no alert"), start, start)
			continue
		}
		live = append(live, i)
	}
	if len(live) == 0 {
		return outs
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
		retry, err = deliverSafely(actx, d.n, *cs[live[0]].Alert)
	} else {
		alerts := make([]Alert, len(live))
		for k, i := range live {
			alerts[k] = *cs[i].Alert
		}
		retry, err = deliverBatchSafely(actx, d.n.(BatchNotifier), alerts)
	}
	cancel()
	now := e.clock.Now()
	for _, i := range live {
		d.decide(&outs[i], cs[i].Delivery, retry, err, start, now)
	}
	return outs
}

// decide fills o from one attempt's result, and reports it.
func (d *deliveryLoop) decide(o *DeliveryOutcome, del Delivery, retry bool, err error, start, now time.Time) {
	e := d.e
	o.Finished = now
	switch {
	case err == nil:
		o.Status = DeliveryDelivered
	case !retry || del.Attempts >= e.cfg.MaxAttempts:
		o.Status = DeliveryFailed
		o.Error = errorText(err)
	default:
		o.Status = DeliveryPending
		o.Error = errorText(err)
		wait := e.cfg.RetryPolicy.RetryDelay(del.Attempts)
		var ra *RetryAfterError
		if errors.As(err, &ra) && ra != nil && ra.After > wait { // nil: a typed nil returned as the error
			wait = ra.After
		}
		o.RetryAt = now.Add(wait)
	}
	e.obs.DeliveryFinished(d.name, o.Status, now.Sub(start))
	attrs := []any{"notifier", d.name, "delivery_id", del.ID, "attempt", del.Attempts, "status", o.Status}
	if del.Alert != nil {
		attrs = append(attrs, "ticket_id", del.Alert.TicketID, "sla_type", del.Alert.SLAClock, "stage", del.Alert.Stage)
	}
	switch o.Status {
	case DeliveryDelivered:
		e.log.Info("alert delivered", attrs...)
		d.failures.delivered(e.log, now, d.name)
	case DeliveryFailed:
		e.log.Error("alert delivery failed for good", append(attrs, "err", o.Error)...)
	default:
		d.failures.retrying(e.log, now, d.name, o.Error, append(attrs, "retry_at", o.RetryAt)...)
	}
}

func releaseReason(stopping bool) string {
	if stopping {
		return "engine stopping"
	}
	return "claim too old"
}

// outcomeLinger is how long the finisher waits for more outcomes of sends
// in flight before recording a batch.
const outcomeLinger = 5 * time.Millisecond

// finish records outcomes in batches until the outcomes channel closes.
func (d *deliveryLoop) finish() {
	// Half the unrecorded-attempt tokens at most, so that senders keep
	// going with the other half while a batch is being recorded.
	max := max(1, d.e.cfg.DeliveryBatch/2)
	batch := make([]DeliveryOutcome, 0, max)
	for o := range d.outcomes {
		batch = append(batch[:0], o)
		// While sends are in flight their outcomes are moments away: wait
		// up to outcomeLinger (real time; it paces transactions, it is not
		// an SLA deadline) to record them in the same transaction, since
		// each commit costs a disk flush on Postgres.
		var linger <-chan time.Time
	more:
		for len(batch) < max {
			select {
			case o, ok := <-d.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
				continue
			default:
			}
			if d.busy.Load() == 0 {
				break
			}
			if linger == nil {
				linger = time.After(outcomeLinger)
			}
			select {
			case o, ok := <-d.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			case <-linger:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := d.e.store.FinishDeliveries(ctx, batch); err != nil {
			d.e.log.Error("recording delivery outcomes failed; those deliveries will be claimed again after their lease",
				"notifier", d.name, "deliveries", len(batch), "err", err)
		}
		cancel()
		d.unrecorded.release(len(batch))
		// Wake before settling, so that Idle never sees neither.
		d.loop.Wake()
		d.pending.Add(-int64(len(batch)))
	}
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

// deliverBatchSafely is deliverSafely for a BatchNotifier's DeliverBatch.
func deliverBatchSafely(ctx context.Context, n BatchNotifier, alerts []Alert) (retry bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			retry, err = true, fmt.Errorf("notifier panicked: %v", r)
		}
	}()
	return n.DeliverBatch(ctx, alerts)
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

// DeliveryStatus is the state of one alert's delivery to one notifier.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one outbox row: an alert to be sent to one named notifier.
type Delivery struct {
	ID       int64          `json:"id"`
	AlertID  int64          `json:"alert_id"`
	Notifier string         `json:"notifier"`
	Status   DeliveryStatus `json:"status"`
	Attempts int            `json:"attempts"`
	// NextAttemptAt is when a pending delivery is tried next (while one is
	// in flight, when its lease ends); zero once delivered or failed.
	NextAttemptAt time.Time  `json:"next_attempt_at,omitzero"`
	LastError     string     `json:"last_error,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	// Alert is filled by Store.ClaimDeliveries.
	Alert *Alert `json:"-"`
}
