package storetest

import (
	"slices"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// Base is the fixed instant every timeline of the suite starts at, so that no
// case depends on the wall clock.
var Base = time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)

// At returns Base plus d.
func At(d time.Duration) time.Time { return Base.Add(d) }

// TimePtr returns a pointer to a copy of t.
func TimePtr(t time.Time) *time.Time { return &t }

// NewEvent returns a valid event for ticket id, created at Base and updated at
// Base+updated, with priority "high", tier "gold" and status "open". Callers
// change fields on the returned value as a case needs.
func NewEvent(id string, updated time.Duration) watchdog.Event {
	return watchdog.Event{
		ID:           id,
		Priority:     "high",
		CustomerTier: "gold",
		Status:       "open",
		CreatedAt:    Base,
		UpdatedAt:    At(updated),
	}
}

// OpenPlan returns a PlanFunc that keeps every ticket open and ok, due at due
// (nil: never), with no breach instant.
func OpenPlan(due *time.Time) watchdog.PlanFunc {
	return func(*watchdog.Ticket) watchdog.Plan {
		return watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: due}
	}
}

// PlanByID returns a PlanFunc that answers with plans[t.ID], or with fallback
// for ids not in the map.
func PlanByID(plans map[string]watchdog.Plan, fallback watchdog.PlanFunc) watchdog.PlanFunc {
	return func(t *watchdog.Ticket) watchdog.Plan {
		if p, ok := plans[t.ID]; ok {
			return p
		}
		return fallback(t)
	}
}

// FirePlan returns a PlanFunc that fires the named response-clock stages for
// every ticket it is given: each alert is due at the ticket's NextDueAt (or
// now when it has none) and fired at now, with deliveries to notifiers. The
// ticket stays open in state alert, due next at next (nil: never). It returns
// the same alerts each time it is called, so stores must skip those already
// recorded.
func FirePlan(now time.Time, next *time.Time, notifiers []string, stages ...string) watchdog.PlanFunc {
	return func(t *watchdog.Ticket) watchdog.Plan {
		due := now
		if t.NextDueAt != nil {
			due = *t.NextDueAt
		}
		p := watchdog.Plan{
			State:     watchdog.TicketAlert,
			Open:      true,
			NextDueAt: next,
			Notifiers: slices.Clone(notifiers),
		}
		for _, st := range stages {
			p.Alerts = append(p.Alerts, NewAlert(t, st, due, now))
		}
		return p
	}
}

// NewAlert returns the response-clock alert of stage st for ticket t, due at
// due and fired at fired, with fixed target and elapsed durations.
func NewAlert(t *watchdog.Ticket, st string, due, fired time.Time) watchdog.Alert {
	state := "breach"
	if st == watchdog.StageAlert {
		state = "alert"
	}
	return watchdog.Alert{
		TicketID:     t.ID,
		SLAClock:     watchdog.Response,
		Stage:        st,
		State:        state,
		DueAt:        due,
		FiredAt:      fired,
		Priority:     t.Priority,
		CustomerTier: t.CustomerTier,
		Target:       time.Hour,
		Elapsed:      51*time.Minute + 250*time.Millisecond,
		Message:      "response SLA " + st,
	}
}

// Recorder wraps a PlanFunc and keeps a copy of every ticket it was called
// with. It is safe for concurrent use.
type Recorder struct {
	// Decide makes the plan; nil means OpenPlan(nil).
	Decide watchdog.PlanFunc

	mu    sync.Mutex
	calls []*watchdog.Ticket
}

// Plan is the PlanFunc to hand to a store.
func (r *Recorder) Plan(t *watchdog.Ticket) watchdog.Plan {
	c := *t
	c.Events = slices.Clone(t.Events)
	c.Alerts = slices.Clone(t.Alerts)
	c.Messages = slices.Clone(t.Messages)
	r.mu.Lock()
	r.calls = append(r.calls, &c)
	r.mu.Unlock()
	if r.Decide == nil {
		return OpenPlan(nil)(t)
	}
	return r.Decide(t)
}

// Calls returns copies of the tickets the plan was called with, in call
// order.
func (r *Recorder) Calls() []*watchdog.Ticket {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// IDs returns the ticket ids the plan was called with, in call order.
func (r *Recorder) IDs() []string {
	var ids []string
	for _, t := range r.Calls() {
		ids = append(ids, t.ID)
	}
	return ids
}

// Reset forgets the recorded calls.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}
