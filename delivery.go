package watchdog

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/scheduler"
)

// deliveryLoop delivers one notifier's alerts: its loop claims pending
// deliveries in batches into a queue, workers send them, and a finisher
// records the outcomes in batches, so that the store sees a few
// transactions per batch rather than two per delivery.
//
// Each notifier is one destination (one webhook URL, one bot token and
// channel): when it asks for a wait (429, 503) or a send times out, the
// whole destination pauses, not only the delivery that met it.
type deliveryLoop struct {
	e    *Engine
	name string
	// cur is the notifier sends start with, and how many deliveries one
	// send takes: a reload that changes the receiver swaps it, for the
	// sends started after.
	cur  atomic.Pointer[loopNotifier]
	loop *scheduler.Loop
	// cancel stops the loop's run and done is closed once it returned;
	// both set while Run runs it (under Engine.mu).
	cancel context.CancelFunc
	done   chan struct{}

	// queue also holds the tokens that bound the attempts started and not
	// yet recorded: at most DeliveryBatch, which bounds what a crash or an
	// outage of the store can make another claimer send again. A token is
	// given back only once its outcome is recorded.
	queue    deliveryQueue
	outcomes chan sentOutcomes
	// parked holds outcomes whose recording failed, retried by the loop.
	parked parkedOutcomes
	// pending counts deliveries claimed and not yet settled (queued, being
	// sent, or waiting for their outcome to be recorded).
	pending atomic.Int64
	// recording counts outcomes handed to the finisher and not yet recorded
	// or parked.
	recording atomic.Int64
	busy      atomic.Int64
	stopping  atomic.Bool
	// claimedFull is set when the last claim took as many as it asked
	// for: the workers wake the loop to claim more as the queue drains.
	claimedFull atomic.Bool
	failures    *destinationLog
}

// sentOutcomes are the outcomes of one send, with the tokens it took.
type sentOutcomes struct {
	outs   []DeliveryOutcome
	tokens int
}

type claimedDelivery struct {
	Delivery
	// holder is the claim keeper's holder id the delivery was claimed under.
	holder string
	// claimedUntil is when the claim's backstop runs out: NextAttemptAt as
	// claimed.
	claimedUntil time.Time
}

// run runs the claim loop, the workers and the finisher until ctx is done;
// then it lets sends in progress finish, releases what is still queued and
// records every outcome it can before returning.
func (d *deliveryLoop) run(ctx context.Context) {
	cfg := d.e.cfg
	d.outcomes = make(chan sentOutcomes, cfg.DeliveryBatch)
	d.stopping.Store(false)
	d.queue.open(cfg.DeliveryConcurrency, cfg.DeliveryBatch)
	var workers, finisher sync.WaitGroup
	for range cfg.DeliveryConcurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			d.work(ctx)
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
	// One last try to record what could not be: unless the store has just
	// failed, which a shutdown should not wait on again. What stays
	// unrecorded is sent again by the next claimer (at most DeliveryBatch).
	if !d.parked.failedWithin(d.e.clock.Now(), recordTimeout) {
		d.flushParked(context.WithoutCancel(ctx), d.e.clock.Now())
	}
	// The claim keeper records what is left, should the engine go on
	// without this loop (its notifier removed).
	if b, _ := d.parked.take(); len(b.outs) > 0 {
		d.parked.endStreak()
		d.pending.Add(-int64(len(b.outs)))
		d.e.claims.adopt(b.outs)
	}
}

// work sends what the queue gives until it closes.
func (d *deliveryLoop) work(ctx context.Context) {
	for {
		cur := d.cur.Load()
		group, digest := cur.group, d.digestInterval(cur.n)
		if digest > 0 {
			group = d.e.cfg.DeliveryBatch
		}
		d.queue.setDigest(digest)
		cs, tokened, ok := d.queue.pop(group)
		if !ok {
			return
		}
		if d.claimedFull.Load() && d.queue.queued() < d.e.cfg.DeliveryBatch*3/4 {
			d.claimedFull.Store(false)
			d.loop.Wake() // room to claim more of what the last claim left
		}
		outs, delivered := d.sendWith(ctx, cs)
		so := sentOutcomes{outs: outs}
		if tokened {
			so.tokens = len(cs)
		}
		d.recording.Add(int64(len(outs)))
		d.outcomes <- so
		if d.queue.done(delivered, d.e.clock.Now()) {
			d.loop.Wake() // to resume after the pacing pause
		}
	}
}

// sendWith sends cs through the notifier in force once they were popped:
// a swap (SetNotifiersAndPolicy) while the worker waited takes effect for
// them. When the new notifier takes fewer deliveries per send than were
// popped, they go in several sends.
func (d *deliveryLoop) sendWith(ctx context.Context, cs []claimedDelivery) (outs []DeliveryOutcome, delivered bool) {
	cur := d.cur.Load()
	digest := d.digestInterval(cur.n) > 0
	size := cur.group
	if digest {
		size = len(cs)
	}
	delivered = true
	for chunk := range slices.Chunk(cs, max(size, 1)) {
		o, ok := d.send(ctx, cur.n, chunk, digest)
		outs = append(outs, o...)
		delivered = delivered && ok
	}
	return outs, delivered
}

// digestInterval is the receiver's group_interval under the policy in
// force, when its notifier can send digests; zero otherwise.
func (d *deliveryLoop) digestInterval(n Notifier) time.Duration {
	if _, ok := n.(DigestNotifier); !ok {
		return 0
	}
	return d.e.policy.Load().Notifications.GroupInterval(d.name)
}

// step runs at the loop's deadlines: it retries recording parked outcomes,
// claims pending deliveries into the queue, and resumes a paused
// destination once its pause is over.
func (d *deliveryLoop) step(ctx context.Context, now time.Time) (time.Time, error) {
	d.queue.setDigest(d.digestInterval(d.cur.Load().n))
	if retryAt, ok := d.flushParked(ctx, now); !ok {
		return retryAt, nil // nothing is claimed or sent until outcomes are recorded
	}
	next, err := d.claim(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	if until, paused := d.queue.resumeAt(); paused {
		if now.Before(until) {
			if next.IsZero() || until.Before(next) {
				next = until
			}
		} else if d.queue.resume(now) {
			d.e.log.Debug("destination pause over: probing it with one send at a time", "notifier", d.name)
		}
	}
	return next, nil
}

// claim claims pending deliveries into the queue as far as there is room,
// and returns when to look again (zero: when woken). The room is for
// DeliveryBatch queued unsent: those sent and not yet recorded are bounded
// by the queue's tokens, so the next claim overlaps their sending and
// recording instead of waiting for them (a round trip of claiming, sending
// and recording per DeliveryBatch held a Postgres store's catch-up to
// 13,000 alerts a second).
func (d *deliveryLoop) claim(ctx context.Context, now time.Time) (time.Time, error) {
	cfg := d.e.cfg
	queued := d.queue.queued()
	free := cfg.DeliveryBatch - queued
	if free < cfg.DeliveryBatch/4 && queued > 0 {
		return time.Time{}, nil // the workers wake the loop as the queue drains
	}
	holder, ok := d.e.claims.ensure(ctx, now)
	if !ok {
		// The claim keeper wakes the loop once its heartbeat is renewed.
		return now.Add(cfg.ClaimTTL / 3), nil
	}
	until := now.Add(d.e.claimBackstop())
	ds, err := d.e.store.ClaimDeliveries(ctx, DeliveryClaim{Notifier: d.name, Holder: holder, Now: now, Limit: free, Until: until})
	if err != nil {
		return time.Time{}, err
	}
	cs := make([]claimedDelivery, len(ds))
	for i, del := range ds {
		cs[i] = claimedDelivery{Delivery: del, holder: holder, claimedUntil: until}
	}
	if !d.enqueue(cs) {
		// Stopping: nothing sends them now; hand them back.
		return time.Time{}, d.release(ctx, cs)
	}
	if len(ds) == free {
		// Full: more may be waiting, claimed once the workers have made
		// room. (Only then: a queue fed by hand-offs has nothing for the
		// claim loop, and waking it at every send cost two round trips
		// each.)
		d.claimedFull.Store(true)
		return time.Time{}, nil
	}
	var next time.Time
	if la, isLA := d.e.store.(DeliveryLookahead); isLA {
		// An instant past the next sweep wakes the loop no sooner than
		// none does.
		next, ok, err = la.NextDeliveryBefore(ctx, d.name, now.Add(cfg.SweepInterval))
	} else {
		next, ok, err = d.e.store.NextDelivery(ctx, d.name)
	}
	if err != nil || !ok {
		return time.Time{}, err
	}
	return next, nil
}

// release hands claimed deliveries that the stopped loop will not send back
// to the store, due at once for the next claimer.
func (d *deliveryLoop) release(ctx context.Context, cs []claimedDelivery) error {
	return d.e.release(ctx, cs)
}

// release hands claimed deliveries that no loop will send back to the
// store, due at once for the next claimer. When the store fails, the claim
// keeper takes them over and retries.
func (e *Engine) release(ctx context.Context, cs []claimedDelivery) error {
	now := e.clock.Now()
	outcomes := make([]DeliveryOutcome, len(cs))
	for i, c := range cs {
		outcomes[i] = handBack(c, now)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.ClaimTTL)
	defer cancel()
	err := e.store.FinishDeliveries(rctx, outcomes)
	if err != nil {
		e.claims.adopt(outcomes)
	}
	return err
}

// handBack is the outcome of a claimed delivery given back unsent: due at
// once for the next claimer, its attempt not counted.
func handBack(c claimedDelivery, now time.Time) DeliveryOutcome {
	return DeliveryOutcome{ID: c.ID, Attempt: c.Attempts, Status: DeliveryPending, RetryAt: now, Finished: now, Unsent: true}
}

// acceptsHandoff reports whether the loop is running and its backlog has
// room for the deliveries of another evaluation's alerts.
func (d *deliveryLoop) acceptsHandoff() bool {
	b := d.e.cfg.DeliveryBacklog
	return b > 0 && d.queue.isOpen() && d.pending.Load() < int64(b) && d.parked.len() == 0
}

// enqueue counts cs as pending and queues them for the workers; it reports
// false, counting nothing, when the loop is not running.
func (d *deliveryLoop) enqueue(cs []claimedDelivery) bool {
	if len(cs) == 0 {
		return true
	}
	// Counted before they are visible, so that Idle never sees them queued
	// yet not pending.
	if d.pending.Add(int64(len(cs))) == int64(len(cs)) {
		d.e.claims.loop.Wake() // holding again: the heartbeat must go on
	}
	if !d.queue.push(cs) {
		d.pending.Add(-int64(len(cs)))
		return false
	}
	return true
}

// dropQueued forgets the queued deliveries claimed under a holder the
// claim keeper gave up: their rows stay claimed by it until the rescue of
// dead holders frees them for the next claim.
func (d *deliveryLoop) dropQueued(holder string) {
	if n := d.queue.dropHolder(holder); n > 0 {
		d.pending.Add(-int64(n))
		d.e.log.Warn("dropped queued deliveries whose claim could not be renewed; they are claimed again once the store answers",
			"notifier", d.name, "deliveries", n)
		d.loop.Wake()
	}
}

// idle reports whether nothing happens in the loop until its clock reaches
// the next timer.
func (d *deliveryLoop) idle() bool {
	if !d.loop.Idle() || d.recording.Load() > 0 {
		return false
	}
	queued, held, inflight := d.queue.state()
	return inflight == 0 && (queued == 0 || held)
}

// DeliveryStatus is the state of one alert's delivery to one notifier.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
	// DeliverySuperseded is a delivery not sent because a higher stage of
	// the same clock cycle was queued for its receiver before its first
	// attempt (a route's inhibition).
	DeliverySuperseded DeliveryStatus = "superseded"
	// DeliveryAcknowledged is a delivery not sent because its clock was
	// acknowledged before the stage was reached.
	DeliveryAcknowledged DeliveryStatus = "acknowledged"
	// DeliveryCancelled is a delivery not sent because a policy change
	// routed its alert away from its receiver before its first attempt.
	DeliveryCancelled DeliveryStatus = "cancelled"
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
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	// HeldUntil is when a delivery held outside its route's delivery hours
	// may go (the calendar's next opening); nil for any other.
	HeldUntil   *time.Time `json:"held_until,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// Alert is filled by Store.ClaimDeliveries.
	Alert *Alert `json:"-"`
}
