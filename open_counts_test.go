package watchdog_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// plainStore hides every method of the store but watchdog.Store's: its
// OpenTicketCounter, so that the engine counts through Dashboard, and its
// DuePreplanner, so that the engine plans within the store's transaction.
type plainStore struct{ watchdog.Store }

// The engine counts open tickets by state the same way whether the store
// counts them at once or the engine asks the dashboard state by state, and
// leaves closed tickets out.
func TestEngineCountsOpenTicketsWithOrWithoutTheStoresCounter(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	if _, ok := any(st).(watchdog.OpenTicketCounter); !ok {
		t.Fatal("the SQLite store does not count open tickets at once")
	}
	now := t0.Add(10 * time.Hour)
	clk := watchdogtest.NewClock(now)
	ctx := context.Background()
	direct, err := watchdog.New(st, &watchdog.Config{Policy: testPolicy(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	evs := []watchdog.Event{
		event("ok-1", "gold", "high", "open", now.Add(-time.Minute), now.Add(-time.Minute)),
		event("ok-2", "silver", "low", "open", now.Add(-time.Hour), now.Add(-time.Hour)),
		// 27 of a 30-minute response target: past the alert threshold.
		event("alert-1", "gold", "high", "open", now.Add(-27*time.Minute), now.Add(-27*time.Minute)),
		event("breach-1", "gold", "high", "open", now.Add(-5*time.Hour), now.Add(-5*time.Hour)),
		event("breach-2", "gold", "low", "open", now.Add(-9*time.Hour), now.Add(-9*time.Hour)),
		event("untracked-1", "bronze", "high", "open", now.Add(-time.Hour), now.Add(-time.Hour)),
		event("closed-1", "gold", "high", "resolved", now.Add(-5*time.Hour), now.Add(-time.Hour)),
	}
	if _, err := direct.Ingest(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, err := direct.CountOpenTickets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[watchdog.TicketState]int{watchdog.TicketOK: 2, watchdog.TicketAlert: 1, watchdog.TicketBreach: 2, watchdog.TicketUntracked: 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("counted by the store (-want +got):\n%s", d)
	}
	viaDashboard, err := watchdog.New(plainStore{st}, &watchdog.Config{Policy: testPolicy(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	got, err = viaDashboard.CountOpenTickets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("counted through the dashboard (-want +got):\n%s", d)
	}
}
