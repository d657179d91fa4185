package watchdog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// TestEngineCycles runs the next-reply and periodic-update clocks through
// the engine on a fake clock: stages fire at their instants, a late
// customer message that moves a cycle's start fires nothing twice, and a
// restarted engine fires nothing again.
func TestEngineCycles(t *testing.T) {
	p := cyclePolicy(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := watchdogtest.NewRecorder(nil)
	clock := watchdogtest.NewClock(t0)
	cfg := &watchdog.Config{Policy: p, Notifiers: map[string]watchdog.Notifier{"rec": rec}}
	h := watchdogtest.StartEngine(t, st, clock, cfg)
	event := func(msgs ...watchdog.Message) watchdog.Event {
		return watchdog.Event{ID: "E", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0, Messages: msgs}
	}
	msg := func(author string, d time.Duration) watchdog.Message {
		return watchdog.Message{At: t0.Add(d), Author: author}
	}

	h.Ingest(event(msg(watchdog.AuthorAgent, time.Minute)))
	h.AdvanceTo(t0.Add(10 * time.Minute))
	if ts := h.Ingest(event(msg(watchdog.AuthorCustomer, 10*time.Minute))); !ts[0].NextDueAt.Equal(t0.Add(61*time.Minute)) || ts[0].Policy != "gold" {
		t.Fatalf("after the customer message: next due %v, policy %q; want 11:01 (85%% of 1h from 10m), gold", ts[0].NextDueAt, ts[0].Policy)
	}
	h.AdvanceTo(t0.Add(61*time.Minute - time.Second))
	if n := len(rec.Alerts()); n != 0 {
		t.Fatalf("%d alerts before the instant", n)
	}
	h.Advance(time.Second)
	got := rec.Alerts()
	if len(got) != 1 || got[0].SLAClock != watchdog.NextReply || got[0].Cycle != 1 || !got[0].CycleStartedAt.Equal(t0.Add(10*time.Minute)) ||
		got[0].Policy != "gold" || got[0].EscalationLevel != 1 {
		t.Fatalf("delivered %+v; want the next reply alert of cycle 1", got)
	}
	// A late, earlier customer message: the same cycle, now from 5m; its
	// alert stays fired and its breach comes 5 minutes sooner.
	h.Ingest(event(msg(watchdog.AuthorCustomer, 5*time.Minute)))
	h.AdvanceTo(t0.Add(65 * time.Minute))
	got = rec.Alerts()
	if len(got) != 2 || got[1].Stage != watchdog.StageBreach || got[1].Cycle != 1 || got[1].EscalationLevel != 2 {
		t.Fatalf("delivered %+v; want the breach of cycle 1 alone", got)
	}
	h.Ingest(event(msg(watchdog.AuthorAgent, 66*time.Minute)))
	h.AdvanceTo(t0.Add(70 * time.Minute))
	v := h.Ticket("E")
	nr, pu := v.SLAClocks[watchdog.NextReply], v.SLAClocks[watchdog.PeriodicUpdate]
	if nr.State != watchdog.StateMissed || nr.Cycle != 1 || nr.CyclesMissed != 1 || !nr.CycleStartedAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("next reply %+v", nr)
	}
	if pu.State != watchdog.StateOK || pu.Cycle != 2 || pu.CyclesMet != 1 || !pu.CycleStartedAt.Equal(t0.Add(66*time.Minute)) {
		t.Errorf("periodic update %+v", pu)
	}
	if v.Policy != "gold" || v.State != watchdog.TicketBreach || len(v.Messages) != 4 {
		t.Errorf("ticket policy %q state %s messages %d", v.Policy, v.State, len(v.Messages))
	}
	// A restarted engine on the same store fires nothing again, and the
	// periodic update fires in its time.
	h.Stop()
	h2 := watchdogtest.StartEngine(t, st, clock, cfg)
	h2.AdvanceTo(t0.Add(66*time.Minute + 204*time.Minute))
	got = rec.Alerts()
	var names []string
	for _, a := range got {
		names = append(names, fmt.Sprintf("%s/%s#%d", a.SLAClock, a.Stage, a.Cycle))
	}
	if len(got) != 3 || got[2].SLAClock != watchdog.PeriodicUpdate || got[2].Cycle != 2 || got[2].EscalationLevel != 3 {
		t.Fatalf("after the restart: %v", names)
	}
}
