package watchdog_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// noSweep is a safety-net interval no test here reaches, so that the only
// timers of the evaluation loop are the due instants it planned: a test
// waiting for a timer by some instant then proves a planned wake-up, not a
// sweep.
const noSweep = 24 * time.Hour

// startPlanned runs an engine with noSweep and one notifier on a new SQLite
// file, seen through wrap when it is not nil.
func startPlanned(t *testing.T, clock *watchdogtest.Clock, p *watchdog.Policy, wrap func(watchdog.Store) watchdog.Store) *watchdogtest.Harness {
	t.Helper()
	var st watchdog.Store = openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	if wrap != nil {
		st = wrap(st)
	}
	cfg := watchdog.Config{Policy: p, Notifiers: map[string]watchdog.Notifier{"rec": watchdogtest.NewRecorder(nil)}, SweepInterval: noSweep}
	return watchdogtest.StartEngine(t, st, clock, &cfg)
}

// fastPolicy adds gold/urgent with a 2-minute response target (alert at
// 1m42s) to testPolicy.
func fastPolicy() *watchdog.Policy {
	p := testPolicy()
	p.Tiers["gold"].Priorities["urgent"] = watchdog.Targets{Response: 2 * time.Minute, Resolution: time.Hour}
	return p
}

// expectAlertAt checks that the engine has planned to wake by at, that
// nothing fires a millisecond before it, and that the stage fires at it.
func expectAlertAt(t *testing.T, h *watchdogtest.Harness, sub <-chan watchdog.Alert, ticket, stage string, at time.Time) {
	t.Helper()
	h.Clock.WaitForTimerAt(t, at)
	h.Clock.Set(at.Add(-time.Millisecond))
	h.Settle()
	noAlert(t, sub)
	h.Clock.Set(at)
	a := waitAlert(t, sub)
	if a.TicketID != ticket || a.Stage != stage || !a.DueAt.Equal(at) || !a.FiredAt.Equal(at) {
		t.Fatalf("alert %s/%s due %v fired %v; want %s/%s due and fired at %v", a.TicketID, a.Stage, a.DueAt, a.FiredAt, ticket, stage, at)
	}
	h.Settle()
}

// An ingest that creates a due instant earlier than the one the loop sleeps
// until wakes it, so the new ticket fires on time without any sweep.
func TestEngineIngestWakesForEarlierInstant(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	h := startPlanned(t, clock, fastPolicy(), nil)
	sub, err := h.Engine.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.Ingest(event("slow", "gold", "high", "open", t0, t0))
	h.Settle()
	if next, _ := clock.NextTimer(); !next.Equal(t0.Add(25*time.Minute + 30*time.Second)) {
		t.Fatalf("loop sleeps until %v, want the first alert at 25m30s", next)
	}

	h.Ingest(event("fast", "gold", "urgent", "open", t0, t0))
	expectAlertAt(t, h, sub, "fast", "alert", t0.Add(time.Minute+42*time.Second))
	expectAlertAt(t, h, sub, "fast", "breach", t0.Add(2*time.Minute))
	expectAlertAt(t, h, sub, "slow", "alert", t0.Add(25*time.Minute+30*time.Second))
}

// nextDueHook runs a function once, right after the store's NextDue has
// read: the moment an ingest of another request can commit unseen by it.
type nextDueHook struct {
	watchdog.Store
	mu   sync.Mutex
	hook func()
}

func (s *nextDueHook) set(f func()) {
	s.mu.Lock()
	s.hook = f
	s.mu.Unlock()
}

func (s *nextDueHook) NextDue(ctx context.Context) (time.Time, bool, error) {
	at, ok, err := s.Store.NextDue(ctx)
	s.mu.Lock()
	f := s.hook
	s.hook = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return at, ok, err
}

// An ingest that commits between the evaluation loop's read of the next due
// instant and its going to sleep still wakes it when its ticket is due
// earlier than that instant.
func TestEngineIngestDuringPlanningWakesLoop(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	var hooked *nextDueHook
	h := startPlanned(t, clock, fastPolicy(), func(s watchdog.Store) watchdog.Store {
		hooked = &nextDueHook{Store: s}
		return hooked
	})
	sub, err := h.Engine.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// "first" is due at 1m42s and "later" at 25m30s.
	h.Ingest(event("first", "gold", "urgent", "open", t0, t0), event("later", "gold", "high", "open", t0, t0))
	h.Settle()

	// The pass at 1m42s fires "first"; while it plans its next wake-up
	// (25m30s), a ticket due at 1m52s arrives.
	ingested := make(chan error, 1)
	hooked.set(func() {
		_, err := h.Engine.Ingest(context.Background(), []watchdog.Event{event("between", "gold", "urgent", "open", t0.Add(10*time.Second), t0.Add(10*time.Second))})
		ingested <- err
	})
	clock.Set(t0.Add(time.Minute + 42*time.Second))
	if a := waitAlert(t, sub); a.TicketID != "first" || a.Stage != "alert" {
		t.Fatalf("first alert %+v", a)
	}
	if err := <-ingested; err != nil {
		t.Fatal(err)
	}
	h.Settle()
	expectAlertAt(t, h, sub, "between", "alert", t0.Add(time.Minute+52*time.Second))
}
