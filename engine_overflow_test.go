package watchdog_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// A ticket whose due instants lie past 2262-04-11 (beyond what UnixNano
// can hold) must not stop the scheduler from waking for an ordinary
// ticket: its stage fires at its due instant, not at the next sweep,
// which here never comes.
func TestEngineFarFutureTicketKeepsPlannedWakeUps(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(start)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The longest sweep a Duration holds: only a planned wake-up can fire
	// the ordinary ticket's stage in this test.
	eng, err := watchdog.New(st, &watchdog.Config{Clock: clock, SweepInterval: 1<<63 - 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() { cancel(); <-done }()
	alerts, err := eng.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(id string, at time.Time) {
		t.Helper()
		ev := watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: at, UpdatedAt: at}
		if _, err := eng.Ingest(ctx, []watchdog.Event{ev}); err != nil {
			t.Fatalf("ingest %s: %v", id, err)
		}
		watchdogtest.Settle(t, eng.Hooks())
	}

	ingest("far", time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC))
	ingest("soon", start)
	// The default policy's gold/high response target is 30 minutes, so
	// its alert stage (85 %) is due 25m30s after creation.
	due := start.Add(25*time.Minute + 30*time.Second)
	if next, ok := clock.NextTimer(); !ok || next.After(due) {
		t.Fatalf("the engine sleeps until %v (timer set: %v); want a wake-up by the ordinary ticket's alert at %v", next, ok, due)
	}
	clock.Set(due)
	select {
	case a := <-alerts:
		if a.TicketID != "soon" || a.Stage != watchdog.StageAlert || !a.FiredAt.Equal(due) {
			t.Fatalf("alert %s/%s fired at %v; want soon/alert at %v", a.TicketID, a.Stage, a.FiredAt, due)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no alert within 10s of its due instant %v", due)
	}
}
