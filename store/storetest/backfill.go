package storetest

import (
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// testBackfilledAtKept: Plan.BackfilledAt is stored by Ingest, EvaluateDue
// and Replan, read back by Ticket, given to the next plan on every path,
// and cleared by a plan without it.
func testBackfilledAtKept(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	imported := At(time.Hour + 1500*time.Microsecond)
	plan := func(back *time.Time, due *time.Time) watchdog.PlanFunc {
		return func(*watchdog.Ticket) watchdog.Plan {
			return watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: due, BackfilledAt: back}
		}
	}
	e0, e1 := NewEvent("b", 0), NewEvent("b", time.Minute)
	got := ingest(t, s, plan(&imported, TimePtr(imported)), e0)
	if got[0].BackfilledAt == nil || !got[0].BackfilledAt.Equal(imported) {
		t.Errorf("Ingest returned BackfilledAt %v, want %v", got[0].BackfilledAt, imported)
	}
	diffTicket(t, "Ticket after Ingest", getTicket(t, s, "b"),
		want(watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: &imported, BackfilledAt: &imported}, 0, e0))

	// sees checks what each path's plan was given, and passes it on.
	sees := func(what string, wantAt *time.Time, next watchdog.PlanFunc) watchdog.PlanFunc {
		return func(tk *watchdog.Ticket) watchdog.Plan {
			if !sameInstant(tk.BackfilledAt, wantAt) {
				t.Errorf("%s: plan saw BackfilledAt %v, want %v", what, tk.BackfilledAt, wantAt)
			}
			return next(tk)
		}
	}
	ingest(t, s, sees("Ingest", &imported, plan(&imported, TimePtr(imported))), e1)
	later := At(2 * time.Hour)
	evaluate(t, s, later, 10, sees("EvaluateDue", &imported, plan(&later, TimePtr(At(3*time.Hour)))))
	diffTicket(t, "Ticket after EvaluateDue", getTicket(t, s, "b"),
		want(watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: TimePtr(At(3 * time.Hour)), BackfilledAt: &later}, 0, e0, e1))
	if _, n, err := s.Replan(t.Context(), "", 10, sees("Replan", &later, plan(nil, nil))); err != nil || n != 1 {
		t.Fatalf("Replan visited %d, %v; want 1", n, err)
	}
	diffTicket(t, "Ticket after Replan", getTicket(t, s, "b"),
		want(watchdog.Plan{State: watchdog.TicketBreach, Open: true}, 0, e0, e1))
}

func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
