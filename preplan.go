package watchdog

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// SerialIngest is implemented by a Store whose Ingest transactions run one
// at a time, all of their work in turn (store/sqlite: one writer), rather
// than side by side. For such a store the engine plans a batch's tickets
// as new ones before calling Ingest, concurrently with other batches'
// transactions, and the PlanFunc it passes answers those tickets at once
// when the store finds them new (see prePlans). A store whose
// transactions run concurrently gains nothing from it: the plans of the
// batch's stored tickets would be computed twice.
type SerialIngest interface {
	Store
	// SerialIngest marks the store; it does nothing.
	SerialIngest()
}

// prePlans are the plans of a batch's tickets as they would be if none
// were stored yet, computed before the store's transaction. A store calls
// an ingest's PlanFunc inside its transaction, where on SQLite every write
// waits for it (one writer); most tickets of a bulk import are new, and a
// new ticket's plan depends on its events alone, so planning them here,
// in the caller's goroutine, takes that work out of the transaction. The
// store's call then returns the plan computed here when the ticket it
// passes is exactly the one planned (nothing stored before, the same
// events); any other ticket is planned as before.
type prePlans map[string]prePlan

type prePlan struct {
	t  *Ticket
	pl Plan
}

// planNew plans the tickets of events as new tickets with plan, which must
// depend on the ticket alone (no side effects: the wrappers that record
// what was planned go around prePlans.wrap, so they see only the store's
// calls).
func planNew(events []Event, plan PlanFunc) prePlans {
	byID := make(map[string][]Event, len(events))
	ids := make([]string, 0, len(events))
	for _, ev := range events {
		if _, ok := byID[ev.ID]; !ok {
			ids = append(ids, ev.ID)
		}
		byID[ev.ID] = append(byID[ev.ID], ev)
	}
	pre := make(prePlans, len(ids))
	for _, id := range ids {
		t := &Ticket{ID: id}
		t.Merge(byID[id]...)
		pre[id] = prePlan{t: t, pl: plan(t)}
	}
	return pre
}

// wrap returns plan, answering from pre for the tickets it planned.
func (pre prePlans) wrap(plan PlanFunc) PlanFunc {
	return func(t *Ticket) Plan {
		if p, ok := pre[t.ID]; ok && sameNewTicket(t, p.t) {
			pl := p.pl
			// A store may call again (a retried transaction); each call
			// gets slices of its own.
			pl.Outcomes = slices.Clone(pl.Outcomes)
			pl.Alerts = slices.Clone(pl.Alerts)
			return pl
		}
		return plan(t)
	}
}

// sameNewTicket reports whether t, given to a PlanFunc by a store, is a
// ticket that nothing was stored for, built from the same events as n:
// then every field a plan reads is equal, and so is its plan. Each field
// of Ticket is compared (TestSameNewTicketFields keeps the list whole).
func sameNewTicket(t, n *Ticket) bool {
	return t.ID == n.ID && t.Priority == n.Priority && t.CreatedAt == n.CreatedAt && t.UpdatedAt == n.UpdatedAt &&
		t.Status == n.Status && t.CustomerTier == n.CustomerTier && t.EscalationLevel == 0 && n.EscalationLevel == 0 &&
		sameTime(t.FirstResponseAt, n.FirstResponseAt) && maps.Equal(t.Attributes, n.Attributes) && slices.Equal(t.Tags, n.Tags) &&
		(t.Attributes == nil) == (n.Attributes == nil) && (t.Tags == nil) == (n.Tags == nil) &&
		t.State == "" && n.State == "" && t.Untracked == "" && t.Policy == "" && !t.Open && !n.Open &&
		t.NextDueAt == nil && t.BreachAt == nil && t.BackfilledAt == nil &&
		slices.EqualFunc(t.Events, n.Events, sameEvent) && len(t.Alerts) == 0 && slices.Equal(t.Messages, n.Messages) &&
		len(t.Acks) == 0 && len(t.Outcomes) == 0 && sameOpenClocks(t.OpenClocks, OpenClocks{})
}

func sameEvent(a, b Event) bool {
	return a.ID == b.ID && a.Priority == b.Priority && a.CustomerTier == b.CustomerTier && a.Status == b.Status &&
		a.CreatedAt == b.CreatedAt && a.UpdatedAt == b.UpdatedAt && sameTime(a.FirstResponseAt, b.FirstResponseAt) &&
		maps.Equal(a.Attributes, b.Attributes) && (a.Attributes == nil) == (b.Attributes == nil) &&
		slices.Equal(a.Tags, b.Tags) && (a.Tags == nil) == (b.Tags == nil) && slices.Equal(a.Messages, b.Messages)
}

func sameOpenClocks(a, b OpenClocks) bool {
	return a.Calendar == b.Calendar && a.Response == b.Response && a.Resolution == b.Resolution &&
		sameTime(a.ResponseBreachAt, b.ResponseBreachAt) && sameTime(a.ResolutionBreachAt, b.ResolutionBreachAt)
}

// sameTime reports whether a and b are both nil or the same time.Time
// (location included).
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// DuePreplanner is implemented by a Store that can read and plan due
// tickets before the transaction that records them (store/sqlite, whose
// one writer would otherwise wait while they are loaded and planned). For
// such a store the engine calls EvaluateDuePreplanned instead of
// EvaluateDue.
type DuePreplanner interface {
	Store
	// EvaluateDuePreplanned is EvaluateDue with the planning taken out of
	// the transaction where the store can. It may first read due tickets
	// outside the transaction and call prePlan for each (prePlan has no
	// side effects; its result is for plan). Inside the transaction it
	// calls plan for every ticket it records, as EvaluateDue does: for a
	// ticket that nothing has written since that read, with the very
	// *Ticket it passed to prePlan, unchanged, and plan then answers with
	// the plan computed before. It may record the tickets in several
	// transactions one after the other, each atomic for its tickets (a
	// ticket's columns, alerts and deliveries together); when one fails
	// after another committed, it returns the alerts committed with the
	// error (the engine hands off their deliveries), and the tickets not
	// recorded stay due.
	EvaluateDuePreplanned(ctx context.Context, now time.Time, limit int, prePlan, plan PlanFunc) ([]Alert, error)
}

// duePlans are the plans a DuePreplanner asked for before its
// transaction, by the *Ticket it passed.
type duePlans struct {
	mu sync.Mutex
	m  map[*Ticket]Plan
}

// record returns plan, keeping each plan it computes for answer.
func (d *duePlans) record(plan PlanFunc) PlanFunc {
	return func(t *Ticket) Plan {
		p := plan(t)
		d.mu.Lock()
		if d.m == nil {
			d.m = make(map[*Ticket]Plan)
		}
		d.m[t] = p
		d.mu.Unlock()
		return p
	}
}

// answer returns plan, answering with the plan recorded for the same
// *Ticket when there is one.
func (d *duePlans) answer(plan PlanFunc) PlanFunc {
	return func(t *Ticket) Plan {
		d.mu.Lock()
		p, ok := d.m[t]
		d.mu.Unlock()
		if !ok {
			return plan(t)
		}
		// As for prePlans: a store may call again (a retried
		// transaction); each call gets slices of its own.
		p.Outcomes = slices.Clone(p.Outcomes)
		p.Alerts = slices.Clone(p.Alerts)
		return p
	}
}
