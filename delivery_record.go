package watchdog

import (
	"context"
	"sync"
	"time"
)

// outcomeLinger is how long the finisher waits for more outcomes of sends
// in flight before recording a batch.
const outcomeLinger = 5 * time.Millisecond

// recordTimeout bounds one attempt to record a batch of outcomes, so that a
// store that hangs (a frozen database) holds up neither the loop nor a
// shutdown for long.
const recordTimeout = 5 * time.Second

// outcomeRecorders is how many batches of one notifier's outcomes are
// being recorded at once at most. The tokens bound what is sent and not
// yet recorded, so a notifier's sending rate is at most DeliveryBatch per
// recording's round trip: recording one batch at a time, a Postgres store
// (each commit waits for its log flush) sent a 100k-ticket catch-up to
// Slack at 13,000 alerts a second. With two in flight, the batch gathered
// while one is being recorded need not wait for it. Not more: each batch is
// a transaction that competes with the evaluations, and smaller batches
// in more transactions cost a 1x burst under a bulk import a fifth of its
// lateness on Postgres.
const outcomeRecorders = 2

// finish gathers outcomes into batches until the outcomes channel closes,
// and records each, outcomeRecorders at once at most. A batch that cannot
// be recorded is parked: the loop retries it, and until it is recorded the
// gate stays closed and its attempts' tokens stay taken, so that no more
// than DeliveryBatch sends are ever without a recorded outcome, whatever
// the store does. It returns once every batch it started is settled.
func (d *deliveryLoop) finish() {
	// Half the tokens at most, so that senders keep going with the other
	// half while a batch is being recorded.
	max := max(1, d.e.cfg.DeliveryBatch/2)
	slots := make(chan struct{}, outcomeRecorders)
	var records sync.WaitGroup
	defer records.Wait()
	for so := range d.outcomes {
		// Wait for a free slot first, so that the batch takes in what
		// arrived meanwhile.
		slots <- struct{}{}
		b := d.gather(outcomeBatch{outs: append([]DeliveryOutcome(nil), so.outs...), tokens: so.tokens}, max)
		if d.parked.len() > 0 {
			// The store was failing a moment ago: queue behind the parked
			// outcomes rather than try it once per batch.
			d.park(b, nil)
			<-slots
			continue
		}
		records.Add(1)
		go func() {
			defer records.Done()
			defer func() { <-slots }()
			d.record(b)
		}()
	}
}

// record records batch b, or parks it when the store fails.
func (d *deliveryLoop) record(b outcomeBatch) {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	err := d.e.store.FinishDeliveries(ctx, b.outs)
	cancel()
	if err != nil {
		d.park(b, err)
		return
	}
	d.recorded(b)
	d.recording.Add(-int64(len(b.outs)))
}

// outcomeBatch is outcomes to record together, with the tokens their sends
// took.
type outcomeBatch struct {
	outs   []DeliveryOutcome
	tokens int
}

func (b *outcomeBatch) add(so sentOutcomes) {
	b.outs = append(b.outs, so.outs...)
	b.tokens += so.tokens
}

// gather adds to b the outcomes of sends in flight: while sends are in
// flight their outcomes are moments away, so it waits up to outcomeLinger
// (real time; it paces transactions, it is not an SLA deadline) to record
// them in the same transaction, since each commit costs a disk flush on
// Postgres.
func (d *deliveryLoop) gather(b outcomeBatch, max int) outcomeBatch {
	var linger <-chan time.Time
	for len(b.outs) < max {
		select {
		case so, ok := <-d.outcomes:
			if !ok {
				return b
			}
			b.add(so)
			continue
		default:
		}
		if d.busy.Load() == 0 {
			return b
		}
		if linger == nil {
			linger = time.After(outcomeLinger)
		}
		select {
		case so, ok := <-d.outcomes:
			if !ok {
				return b
			}
			b.add(so)
		case <-linger:
			return b
		}
	}
	return b
}

// recorded settles outcomes the store has recorded: their tokens are free
// and they no longer count as pending.
func (d *deliveryLoop) recorded(b outcomeBatch) {
	d.queue.release(b.tokens)
	// Wake before settling, so that Idle never sees neither.
	d.loop.Wake()
	d.pending.Add(-int64(len(b.outs)))
}

// park keeps outcomes the store could not record (err, or nil when it was
// not tried) for the loop to retry, and closes the gate meanwhile.
func (d *deliveryLoop) park(b outcomeBatch, err error) {
	first := d.parked.add(b, d.e.clock.Now())
	if first {
		d.queue.setBlocked(true)
		d.e.log.Error("recording delivery outcomes failed; sending stops until they are recorded",
			"notifier", d.name, "deliveries", len(b.outs), "err", err)
	}
	d.loop.Wake()
	d.recording.Add(-int64(len(b.outs)))
}

// flushParked tries to record the parked outcomes. ok is false while some
// remain, with the instant to try again.
func (d *deliveryLoop) flushParked(ctx context.Context, now time.Time) (retryAt time.Time, ok bool) {
	for {
		batch, fails := d.parked.take()
		if len(batch.outs) == 0 {
			since, ended := d.parked.endStreak()
			if !ended {
				continue // the finisher parked more meanwhile
			}
			if !since.IsZero() {
				d.queue.setBlocked(false)
				d.e.log.Info("delivery outcomes recorded again; sending resumes", "notifier", d.name,
					"blocked_for", now.Sub(since).String())
			}
			return time.Time{}, true
		}
		rctx, cancel := context.WithTimeout(ctx, recordTimeout)
		err := d.e.store.FinishDeliveries(rctx, batch.outs)
		cancel()
		if err != nil {
			d.parked.putBack(batch, d.e.clock.Now())
			wait := ExponentialBackoff{Base: 250 * time.Millisecond, Max: 5 * time.Second}.RetryDelay(fails + 1)
			return now.Add(wait), false
		}
		d.recorded(batch)
	}
}

// parkedOutcomes are outcomes waiting to be recorded after a failure.
type parkedOutcomes struct {
	mu       sync.Mutex
	items    outcomeBatch
	fails    int       // failed tries since the first failure
	since    time.Time // when the first failure happened
	lastFail time.Time // when the last failure happened
}

// add parks batch and reports whether it is the first since the last
// successful flush.
func (p *parkedOutcomes) add(b outcomeBatch, now time.Time) (first bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first = len(p.items.outs) == 0 && p.fails == 0
	if first {
		p.since = now
	}
	p.lastFail = now
	p.items.outs = append(p.items.outs, b.outs...)
	p.items.tokens += b.tokens
	return first
}

// take hands over every parked outcome for one try, with the failures so far.
func (p *parkedOutcomes) take() (outcomeBatch, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	items, fails := p.items, p.fails
	p.items = outcomeBatch{}
	if len(items.outs) > 0 {
		p.fails++
	}
	return items, fails
}

// putBack returns a batch that failed again, ahead of what was parked since.
func (p *parkedOutcomes) putBack(b outcomeBatch, now time.Time) {
	p.mu.Lock()
	p.lastFail = now
	p.items = outcomeBatch{outs: append(b.outs, p.items.outs...), tokens: b.tokens + p.items.tokens}
	p.mu.Unlock()
}

// endStreak ends a failure streak once nothing is parked, and returns when
// it began (zero when there was none); ended is false when outcomes were
// parked since the last take.
func (p *parkedOutcomes) endStreak() (since time.Time, ended bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.items.outs) > 0 {
		return time.Time{}, false
	}
	since = p.since
	p.fails, p.since = 0, time.Time{}
	return since, true
}

// failedWithin reports whether outcomes are parked after a failure within d
// of now.
func (p *parkedOutcomes) failedWithin(now time.Time, d time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.items.outs) > 0 && !p.lastFail.IsZero() && now.Sub(p.lastFail) < d
}

func (p *parkedOutcomes) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.items.outs) + p.fails
}
