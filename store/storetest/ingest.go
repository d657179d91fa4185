package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

func testIngestReturnsTickets(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	e1 := NewEvent("t-b", 0)
	e1.Priority, e1.CustomerTier = "urgent", "enterprise"
	e2 := NewEvent("t-a", time.Minute)
	e2.FirstResponseAt = TimePtr(At(30 * time.Second))
	e3 := NewEvent("t-c", 2*time.Minute)
	e3.Status = "pending"
	plans := map[string]watchdog.Plan{
		"t-b": {State: watchdog.TicketAlert, Open: true, NextDueAt: TimePtr(At(time.Hour)), BreachAt: TimePtr(At(2 * time.Hour))},
		"t-a": {State: watchdog.TicketOK, Open: false},
		"t-c": {State: watchdog.TicketUntracked, Untracked: "no policy for tier free", Open: true},
	}
	rec := &Recorder{Decide: PlanByID(plans, OpenPlan(nil))}
	got := ingest(t, s, rec.Plan, e1, e2, e3)

	if d := cmp.Diff([]string{"t-b", "t-a", "t-c"}, ids(got)); d != "" {
		t.Fatalf("ticket order (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"t-a", "t-b", "t-c"}, sortedStrings(rec.IDs())); d != "" {
		t.Errorf("plan calls (-want +got):\n%s", d)
	}
	for i, e := range []watchdog.Event{e1, e2, e3} {
		diffTicket(t, "Ingest "+e.ID, got[i], want(plans[e.ID], 0, e))
		if got[i].Events != nil || got[i].Alerts != nil {
			t.Errorf("Ingest %s: returned Events/Alerts, want none", e.ID)
		}
	}
	for _, c := range rec.Calls() {
		if len(c.Events) != 1 || len(c.Alerts) != 0 || c.EscalationLevel != 0 {
			t.Errorf("plan for %s saw %d events, %d alerts, level %d; want 1, 0, 0", c.ID, len(c.Events), len(c.Alerts), c.EscalationLevel)
		}
	}
	for _, e := range []watchdog.Event{e1, e2, e3} {
		tk := getTicket(t, s, e.ID)
		diffTicket(t, "Ticket "+e.ID, tk, want(plans[e.ID], 0, e))
		if d := cmp.Diff([]watchdog.Event{e}, tk.Events); d != "" {
			t.Errorf("Ticket %s events (-want +got):\n%s", e.ID, d)
		}
		if len(tk.Alerts) != 0 {
			t.Errorf("Ticket %s has %d alerts, want 0", e.ID, len(tk.Alerts))
		}
	}
}

func testIngestAtomic(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	z0 := NewEvent("z", 0)
	ingest(t, s, OpenPlan(nil), z0)

	notFound := func(id string) {
		t.Helper()
		if _, err := s.Ticket(t.Context(), id); !errors.Is(err, watchdog.ErrNotFound) {
			t.Errorf("Ticket(%q) after a failed batch: err = %v, want ErrNotFound", id, err)
		}
	}

	// A context cancelled before the call writes nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Ingest(ctx, []watchdog.Event{NewEvent("a", 0)}, OpenPlan(nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("Ingest with a cancelled context: err = %v, want context.Canceled", err)
	}
	notFound("a")

	// A context cancelled in the middle of the batch (from the plan, which
	// runs inside the store's transaction) writes nothing either.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		calls++
		if calls == 2 {
			cancel()
		}
		return watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: TimePtr(At(time.Minute))}
	}
	z1 := NewEvent("z", time.Minute)
	z1.Status = "closed"
	batch := []watchdog.Event{NewEvent("a", 0), NewEvent("b", 0), z1, NewEvent("c", 0)}
	if _, err := s.Ingest(ctx, batch, plan); !errors.Is(err, context.Canceled) {
		t.Errorf("Ingest cancelled mid-batch: err = %v, want context.Canceled", err)
	}
	if calls < 2 {
		t.Fatalf("plan called %d times, the case needs at least 2", calls)
	}
	notFound("a")
	notFound("b")
	notFound("c")
	tk := getTicket(t, s, "z")
	diffTicket(t, "Ticket z", tk, want(watchdog.Plan{State: watchdog.TicketOK, Open: true}, 0, z0))
	if len(tk.Events) != 1 {
		t.Errorf("z has %d events after a failed batch, want 1", len(tk.Events))
	}
	if at, ok, err := s.NextDue(t.Context()); err != nil || ok {
		t.Errorf("NextDue after a failed batch = %s, %v, %v; want nothing due", at, ok, err)
	}
}

func testIngestKeepsEscalation(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert", "breach"))

	rec := &Recorder{Decide: OpenPlan(TimePtr(At(time.Hour)))}
	e := NewEvent("a", 2*time.Minute)
	e.Status = "pending"
	got := ingest(t, s, rec.Plan, e)
	calls := rec.Calls()
	if len(calls) != 1 {
		t.Fatalf("plan called %d times, want 1", len(calls))
	}
	if calls[0].EscalationLevel != 2 || len(calls[0].Alerts) != 2 || len(calls[0].Events) != 2 {
		t.Errorf("plan saw level %d, %d alerts, %d events; want 2, 2, 2", calls[0].EscalationLevel, len(calls[0].Alerts), len(calls[0].Events))
	}
	w := want(watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(time.Hour))}, 2, NewEvent("a", 0), e)
	diffTicket(t, "Ingest", got[0], w)
	diffTicket(t, "Ticket", getTicket(t, s, "a"), w)
}
