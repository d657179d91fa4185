package watchdog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// These tests pin the delivery guarantees under faults (issue 13, items
// 1-4) on a fake clock: no sends while outcomes cannot be recorded, a
// destination paused as a whole when it asks for a wait or hangs, and
// claims that outlive a dead engine by ClaimTTL only.

// flakyStore fails FinishDeliveries while down is set, as a store whose
// database went away does.
type flakyStore struct {
	watchdog.Store
	down  atomic.Bool
	fails atomic.Int64
}

func (s *flakyStore) FinishDeliveries(ctx context.Context, outcomes []watchdog.DeliveryOutcome) error {
	if s.down.Load() {
		s.fails.Add(1)
		return errors.New("connection refused")
	}
	return s.Store.FinishDeliveries(ctx, outcomes)
}

// sendLog records every alert each send carried.
type sendLog struct {
	mu    sync.Mutex
	sends [][]string // alert keys per send
}

func (l *sendLog) add(alerts ...watchdog.Alert) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, len(alerts))
	for i, a := range alerts {
		keys[i] = fmt.Sprintf("%s/%s/%s", a.TicketID, a.SLAClock, a.Stage)
	}
	l.sends = append(l.sends, keys)
	return len(l.sends)
}

// count returns how many sends were made and how many times each alert was
// sent.
func (l *sendLog) count() (sends int, perAlert map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	perAlert = map[string]int{}
	for _, s := range l.sends {
		for _, k := range s {
			perAlert[k]++
		}
	}
	return len(l.sends), perAlert
}

// batchFunc is a BatchNotifier built from one function.
type batchFunc struct {
	max int
	fn  func(ctx context.Context, alerts []watchdog.Alert) (bool, error)
}

func (b batchFunc) Deliver(ctx context.Context, a watchdog.Alert) (bool, error) {
	return b.fn(ctx, []watchdog.Alert{a})
}

func (b batchFunc) DeliverBatch(ctx context.Context, as []watchdog.Alert) (bool, error) {
	return b.fn(ctx, as)
}

func (b batchFunc) MaxBatch() int { return b.max }

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// Item 1: while outcomes cannot be recorded, nothing more is sent than the
// DeliveryBatch attempts already without a recorded outcome, also once
// their claims could otherwise be taken again; when the store answers
// again the outcomes are recorded and every alert has been sent once.
func TestDeliveryStopsWhileOutcomesCannotBeRecorded(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	st := &flakyStore{Store: openStore(t, filepath.Join(t.TempDir(), "wd.db"))}
	var log sendLog
	n := watchdog.NotifierFunc(func(_ context.Context, a watchdog.Alert) (bool, error) {
		log.add(a)
		return false, nil
	})
	const batch = 8
	h := watchdogtest.StartEngine(t, st, clock, &watchdog.Config{Policy: outboxPolicy(), SweepInterval: time.Minute,
		Notifiers: map[string]watchdog.Notifier{"slack": n}, DeliveryBatch: batch, DeliveryConcurrency: 4})
	st.down.Store(true)
	tickets := ids("R", 40)
	h.Ingest(outboxEvents(tickets...)...)
	h.Settle()
	if sends, _ := log.count(); sends == 0 || sends > batch {
		t.Fatalf("%d sends while outcomes could not be recorded, want 1 to %d (DeliveryBatch)", sends, batch)
	}
	// Ten minutes of outage: far past any lease, and the loop retrying the
	// record meanwhile. Still nothing more is sent.
	for range 20 {
		h.Advance(30 * time.Second)
	}
	sends, _ := log.count()
	if sends > batch {
		t.Fatalf("%d sends after ten minutes of outage, want at most %d", sends, batch)
	}
	if st.fails.Load() < 2 {
		t.Fatalf("recording was tried %d times during the outage; want it retried", st.fails.Load())
	}
	st.down.Store(false)
	for range 10 {
		h.Advance(5 * time.Second)
	}
	_, per := log.count()
	if len(per) != len(tickets) {
		t.Fatalf("%d alerts sent, want %d", len(per), len(tickets))
	}
	for k, c := range per {
		if c != 1 {
			t.Errorf("alert %s sent %d times, want once", k, c)
		}
	}
	for _, id := range tickets {
		if d := outboxDelivery(t, h, id, "slack"); d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("%s: delivery %+v, want delivered at attempt 1", id, d)
		}
	}
}

// Item 2: a 429 pauses the whole destination until Retry-After: nothing
// else is sent meanwhile, no attempt is used up, and when the pause ends
// the waiting alerts go out in full messages.
func TestDeliveryRateLimitPausesDestination(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	var log sendLog
	var limited atomic.Bool
	limited.Store(true)
	n := batchFunc{max: 10, fn: func(_ context.Context, as []watchdog.Alert) (bool, error) {
		log.add(as...)
		if limited.CompareAndSwap(true, false) {
			return true, &watchdog.RetryAfterError{After: 30 * time.Second, Throttled: true, Err: errors.New("HTTP 429: rate limited")}
		}
		return false, nil
	}}
	h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"slack": n}, DeliveryConcurrency: 1})
	tickets := ids("L", 25)
	h.Ingest(outboxEvents(tickets...)...)
	h.Settle()
	if sends, _ := log.count(); sends != 1 {
		t.Fatalf("%d sends before the 30s pause ends, want only the one refused", sends)
	}
	h.Advance(30*time.Second - time.Millisecond)
	if sends, _ := log.count(); sends != 1 {
		t.Fatalf("%d sends a millisecond before the pause ends, want 1", sends)
	}
	h.Advance(time.Millisecond)
	// Then the waiting alerts go out in full messages, paced (about one a
	// second) so as not to meet the limit again.
	for range 4 {
		h.Advance(time.Second)
	}
	sends, per := log.count()
	if sends != 1+3 {
		t.Errorf("%d sends after the pause, want 3 full messages (25 alerts, 10 each) after the refused one", sends-1)
	}
	if len(per) != len(tickets) {
		t.Fatalf("%d alerts sent, want %d", len(per), len(tickets))
	}
	log.mu.Lock()
	var sizes []int
	for _, s := range log.sends[1:] {
		sizes = append(sizes, len(s))
	}
	log.mu.Unlock()
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Errorf("messages after the pause carry %v alerts, want [10 10 5]", sizes)
	}
	for _, id := range tickets {
		if d := outboxDelivery(t, h, id, "slack"); d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("%s: delivery %+v, want delivered with one counted attempt", id, d)
		}
	}
}

// Item 4: a send that times out pauses the destination for a backoff
// interval, so that a hung destination is not sent the rest of the queue;
// then one send probes it.
func TestDeliveryTimeoutPausesDestination(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	var log sendLog
	var hung atomic.Bool
	hung.Store(true)
	n := watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
		log.add(a)
		if hung.CompareAndSwap(true, false) {
			<-ctx.Done() // the attempt's own timeout
			return true, ctx.Err()
		}
		return false, nil
	})
	h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"slack": n}, DeliveryConcurrency: 1,
		DeliveryTimeout: 50 * time.Millisecond, RetryPolicy: watchdog.ExponentialBackoff{Base: 10 * time.Second, Max: 10 * time.Second}})
	tickets := ids("H", 5)
	h.Ingest(outboxEvents(tickets...)...)
	h.Settle()
	if sends, _ := log.count(); sends != 1 {
		t.Fatalf("%d sends after the first timed out, want 1: the destination is paused", sends)
	}
	h.Advance(10 * time.Second)
	_, per := log.count()
	if len(per) != len(tickets) {
		t.Fatalf("%d alerts sent after the pause, want %d", len(per), len(tickets))
	}
	for _, id := range tickets {
		d := outboxDelivery(t, h, id, "slack")
		if d.Status != watchdog.DeliveryDelivered {
			t.Errorf("%s: delivery %+v, want delivered", id, d)
		}
	}
}

// Item 3: deliveries claimed by an engine that died (its heartbeat no
// longer renewed) are taken over once the heartbeat runs out, ClaimTTL
// after its last renewal, not after a long lease.
func TestDeliveriesOfADeadClaimerResumeAfterClaimTTL(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	ctx := t.Context()
	// The dead engine: it recorded the alert with its delivery claimed,
	// renewed its heartbeat once, then vanished.
	p := outboxPolicy()
	if _, err := st.Ingest(ctx, []watchdog.Event{outboxEvent("D")}, func(tk *watchdog.Ticket) watchdog.Plan {
		return watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: &t0} // due at once
	}); err != nil {
		t.Fatal(err)
	}
	fired, err := st.EvaluateDue(ctx, t0, 10, func(tk *watchdog.Ticket) watchdog.Plan {
		ev := watchdog.Evaluate(tk, p, t0)
		return watchdog.Plan{State: ev.State, Open: ev.Open, NextDueAt: ev.NextDueAt, BreachAt: ev.BreachAt,
			Alerts: ev.Due, Notifiers: []string{"slack"}, Claimed: []string{"slack"}, ClaimedBy: "dead", ClaimedUntil: t0.Add(time.Hour)}
	})
	if err != nil || len(fired) != 1 {
		t.Fatalf("the dead engine fired %d alerts (%v), want 1", len(fired), err)
	}
	if err := st.Heartbeat(ctx, "dead", t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	rec := watchdogtest.NewRecorder(nil)
	h := watchdogtest.StartEngine(t, st, clock, &watchdog.Config{Policy: p, SweepInterval: time.Hour,
		Notifiers: map[string]watchdog.Notifier{"slack": rec}, ClaimTTL: 5 * time.Second})
	h.Settle()
	h.Advance(2*time.Second - time.Millisecond)
	if got := len(rec.Alerts()); got != 0 {
		t.Fatalf("%d deliveries before the dead claimer's heartbeat ran out, want 0", got)
	}
	h.Advance(time.Millisecond)
	if got := len(rec.Alerts()); got != 1 {
		t.Fatalf("%d deliveries once the dead claimer's heartbeat ran out, want 1", got)
	}
	if d := outboxDelivery(t, h, "D", "slack"); d.Status != watchdog.DeliveryDelivered || d.Attempts != 2 {
		t.Errorf("delivery %+v, want delivered at attempt 2 (the dead claimer's counts)", d)
	}
}

// A notifier removed while its outcomes cannot be recorded: the engine
// records them once the store answers, although its other notifier keeps
// its claim's heartbeat going. Left with the stopped loop, they would wait
// for the claim's backstop, or be rescued back to pending with no loop to
// send them.
func TestOutcomesOfARemovedNotifierAreRecordedLater(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	st := &flakyStore{Store: openStore(t, filepath.Join(t.TempDir(), "wd.db"))}
	var gone, kept sendLog
	goneN := watchdog.NotifierFunc(func(_ context.Context, a watchdog.Alert) (bool, error) {
		gone.add(a)
		return false, nil
	})
	keptN := watchdog.NotifierFunc(func(_ context.Context, a watchdog.Alert) (bool, error) {
		kept.add(a)
		return false, nil
	})
	p := outboxPolicy()
	h := watchdogtest.StartEngine(t, st, clock, &watchdog.Config{Policy: p, SweepInterval: time.Minute,
		Notifiers: map[string]watchdog.Notifier{"gone": goneN, "kept": keptN}, ClaimTTL: 6 * time.Second})
	st.down.Store(true)
	tickets := ids("O", 5)
	h.Ingest(outboxEvents(tickets...)...)
	h.Settle()
	if _, per := gone.count(); len(per) != len(tickets) {
		t.Fatalf("%d alerts sent to the notifier to be removed, want %d", len(per), len(tickets))
	}
	if err := h.Engine.SetNotifiersAndPolicy(t.Context(), map[string]watchdog.Notifier{"kept": keptN}, p); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	st.down.Store(false)
	// More alerts for the notifier that stays, so that the engine holds
	// deliveries and renews its heartbeat all along.
	more := ids("P", 3)
	h.Ingest(outboxEvents(more...)...)
	for range 6 {
		h.Advance(2 * time.Second)
	}
	for _, id := range tickets {
		if d := outboxDelivery(t, h, id, "gone"); d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("%s: delivery to the removed notifier %+v, want delivered at attempt 1", id, d)
		}
		if d := outboxDelivery(t, h, id, "kept"); d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("%s: delivery to the notifier kept %+v, want delivered at attempt 1", id, d)
		}
	}
	if _, per := gone.count(); len(per) != len(tickets) {
		t.Errorf("%d alerts sent to the removed notifier, want %d", len(per), len(tickets))
	}
	for _, log := range []*sendLog{&gone, &kept} {
		_, per := log.count()
		for k, c := range per {
			if c != 1 {
				t.Errorf("alert %s sent %d times, want once", k, c)
			}
		}
	}
}
