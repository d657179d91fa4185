package watchdog

import (
	"sync"
	"time"
)

// deliveryQueue is the FIFO between a notifier's claimers (its claim loop
// and the evaluations handing off) and its workers, with the gate that
// decides whether workers may send at all. It is unbounded so that an
// evaluation never waits for a slow notifier; DeliveryBatch bounds what the
// claim loop adds and DeliveryBacklog what hand-offs add.
//
// The gate closes while the destination is paused (it answered 429 or 503,
// or a send timed out) and while outcomes cannot be recorded. After a pause
// the destination is probed: one send at a time until one succeeds, then
// twice as many after each success, up to full concurrency, so that a
// destination that is still limited sees one request, not a burst.
type deliveryQueue struct {
	mu   sync.Mutex
	cond *sync.Cond
	// chunks are the queued deliveries in order, as pushed: a push keeps
	// the caller's slice rather than copying it, since a burst hands off
	// tens of thousands of deliveries, and growing one slice by copying
	// was about a twentieth of the server's CPU in a burst's profile. head
	// is how many of chunks[0] have been popped; n counts what is queued.
	chunks [][]claimedDelivery
	head   int
	n      int
	closed bool
	inited bool

	full        int       // most sends in flight when healthy
	limit       int       // most sends in flight now (slow start after a pause)
	inflight    int       // sends popped and not yet done
	tokens      int       // deliveries that may still be sent without a recorded outcome
	pausedUntil time.Time // zero when the destination is not paused
	blocked     bool      // outcomes cannot be recorded: send nothing
	// spacing paces sends after a rate limit: the wait the destination
	// asked for, then a quarter less after each run of paceRun messages it
	// takes, so that a burst drains at about the destination's rate
	// instead of meeting its limit again and again.
	spacing time.Duration
	// pacedRun counts the messages taken since the last rate limit: the
	// spacing shrinks only after a run of them, so that a destination held
	// at its limit (Slack's one message a second) is not sent a message too
	// early every other time.
	pacedRun int
	// digest is the receiver's group_interval: one send at a time, and
	// after each delivered one a pause that long, so that what queues up
	// meanwhile goes as one digest.
	digest time.Duration
}

func (q *deliveryQueue) lock() {
	q.mu.Lock()
	if !q.inited {
		q.cond, q.closed, q.inited = sync.NewCond(&q.mu), true, true
	}
}

// open starts accepting items (Run starting) with up to full sends at once
// and up to tokens deliveries sent without a recorded outcome.
func (q *deliveryQueue) open(full, tokens int) {
	q.lock()
	q.closed, q.full, q.limit, q.inflight, q.tokens = false, full, full, 0, tokens
	q.pausedUntil, q.blocked, q.spacing = time.Time{}, false, 0
	q.mu.Unlock()
}

// close stops accepting items; pop drains what is queued, gate or not, then
// reports false.
func (q *deliveryQueue) close() {
	q.lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *deliveryQueue) isOpen() bool {
	q.lock()
	defer q.mu.Unlock()
	return !q.closed
}

// push queues cs, which the queue owns from then on: the caller must not
// change it.
func (q *deliveryQueue) push(cs []claimedDelivery) bool {
	q.lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if len(cs) > 0 {
		q.chunks = append(q.chunks, cs)
		q.n += len(cs)
	}
	q.cond.Broadcast()
	return true
}

// pop waits until the gate lets a send start and an item is queued, and
// takes it with up to max-1 more that are queued already, as far as tokens
// last: each delivery popped to be sent takes one, given back only once
// its outcome is recorded (release). It reports false once the queue is
// closed and empty; after close it drains the queue without tokens (send
// hands those back unsent) and reports tokened false. Each pop counts as a
// send in flight until done.
func (q *deliveryQueue) pop(max int) (cs []claimedDelivery, tokened, ok bool) {
	q.lock()
	defer q.mu.Unlock()
	for !q.closed && (q.n == 0 || !q.gateOpen()) {
		q.cond.Wait()
	}
	if q.n == 0 {
		return nil, false, false
	}
	n := min(max, q.n)
	if !q.closed {
		n = min(n, q.tokens)
		q.tokens -= n
	}
	cs = make([]claimedDelivery, 0, n)
	for len(cs) < n {
		c := q.chunks[0]
		k := copy(cs[len(cs):n], c[q.head:])
		cs = cs[:len(cs)+k]
		clear(c[q.head : q.head+k])
		if q.head += k; q.head == len(c) {
			q.chunks[0] = nil
			q.chunks, q.head = q.chunks[1:], 0
		}
	}
	q.n -= n
	if q.n == 0 {
		q.chunks = nil
	}
	q.inflight++
	return cs, !q.closed, true
}

// release gives back n tokens once outcomes are recorded.
func (q *deliveryQueue) release(n int) {
	q.lock()
	q.tokens += n
	q.cond.Broadcast()
	q.mu.Unlock()
}

// gateOpen reports whether another send may start; q.mu is held.
func (q *deliveryQueue) gateOpen() bool {
	limit := q.limit
	if q.digest > 0 {
		limit = 1
	}
	return !q.blocked && q.pausedUntil.IsZero() && q.inflight < limit && q.tokens > 0
}

// setDigest sets the receiver's digest interval (zero: none).
func (q *deliveryQueue) setDigest(d time.Duration) {
	q.lock()
	if q.digest != d {
		q.digest = d
		q.cond.Broadcast()
	}
	q.mu.Unlock()
}

// done ends a send popped earlier at now. A delivered one lets the slow
// start after a pause double the sends allowed in flight, or, while sends
// are paced after a rate limit, pauses for the (shrinking) spacing; paused
// reports that it did.
func (q *deliveryQueue) done(delivered bool, now time.Time) (paused bool) {
	q.lock()
	defer q.mu.Unlock()
	q.inflight--
	q.cond.Broadcast()
	switch {
	case !delivered:
	case q.digest > 0:
		if until := now.Add(q.digest); until.After(q.pausedUntil) {
			q.pausedUntil = until
			return true
		}
	case q.spacing > 0:
		if q.pacedRun++; q.pacedRun%paceRun == 0 {
			q.spacing = q.spacing * 3 / 4
		}
		if q.spacing < 10*time.Millisecond {
			q.spacing = 0
			return false
		}
		if until := now.Add(q.spacing); until.After(q.pausedUntil) {
			q.pausedUntil, q.limit = until, 1
			return true
		}
	case q.pausedUntil.IsZero() && q.limit < q.full:
		q.limit = min(2*q.limit, q.full)
	}
	return false
}

// maxSpacing bounds the pacing after a rate limit: about the rate Slack
// takes messages at (one a second per webhook or channel). A long
// Retry-After is a long pause, not a slow pace after it.
const maxSpacing = time.Second

// paceRun is how many messages a paced destination takes before the
// spacing shrinks by a quarter.
const paceRun = 8

// throttle starts pacing sends at one per wait (at most maxSpacing), as
// after a rate limit.
func (q *deliveryQueue) throttle(wait time.Duration) {
	q.lock()
	q.spacing, q.pacedRun = min(wait, maxSpacing), 0
	q.mu.Unlock()
}

// pause closes the gate until until (or later, if already paused longer)
// and starts a slow start for when it opens. It reports whether the
// destination was running before, for logging.
func (q *deliveryQueue) pause(until time.Time) (wasRunning bool) {
	q.lock()
	defer q.mu.Unlock()
	wasRunning = q.pausedUntil.IsZero()
	if until.After(q.pausedUntil) {
		q.pausedUntil = until
	}
	q.limit = 1
	return wasRunning
}

// resumeAt reports when a paused destination resumes; ok is false when it
// is not paused.
func (q *deliveryQueue) resumeAt() (at time.Time, ok bool) {
	q.lock()
	defer q.mu.Unlock()
	return q.pausedUntil, !q.pausedUntil.IsZero()
}

// resume opens a paused gate once now reaches the end of the pause, and
// reports whether it did.
func (q *deliveryQueue) resume(now time.Time) bool {
	q.lock()
	defer q.mu.Unlock()
	if q.pausedUntil.IsZero() || now.Before(q.pausedUntil) {
		return false
	}
	q.pausedUntil = time.Time{}
	q.cond.Broadcast()
	return true
}

// setBlocked closes (or reopens) the gate while outcomes cannot be
// recorded.
func (q *deliveryQueue) setBlocked(b bool) {
	q.lock()
	q.blocked = b
	q.cond.Broadcast()
	q.mu.Unlock()
}

// dropHolder removes the queued deliveries claimed under holder and
// returns how many it removed.
func (q *deliveryQueue) dropHolder(holder string) int {
	q.lock()
	defer q.mu.Unlock()
	var kept []claimedDelivery
	for i, c := range q.chunks {
		if i == 0 {
			c = c[q.head:]
		}
		for _, d := range c {
			if d.holder != holder {
				kept = append(kept, d)
			}
		}
	}
	dropped := q.n - len(kept)
	q.chunks, q.head, q.n = nil, 0, len(kept)
	if len(kept) > 0 {
		q.chunks = [][]claimedDelivery{kept}
	}
	return dropped
}

// queued reports how many deliveries are queued, not yet popped.
func (q *deliveryQueue) queued() int {
	q.lock()
	defer q.mu.Unlock()
	return q.n
}

// state reports how many deliveries are queued, whether the gate keeps them
// from being sent until something external happens (a pause ending or the
// recording of outcomes succeeding), and how many sends are in flight.
func (q *deliveryQueue) state() (queued int, held bool, inflight int) {
	q.lock()
	defer q.mu.Unlock()
	return q.n, q.blocked || !q.pausedUntil.IsZero(), q.inflight
}
