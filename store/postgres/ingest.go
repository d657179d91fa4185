package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// Ingest merges the events into the stored timelines and stores plan's
// columns for every ticket that gained an event, in one transaction of a
// handful of statements whatever the batch size. See watchdog.Store.
func (s *Store) Ingest(ctx context.Context, events []watchdog.Event, plan watchdog.PlanFunc) ([]*watchdog.Ticket, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	b := newBatch(events)
	var out []*watchdog.Ticket
	if err := rerun(ctx, func() (err error) {
		out, err = s.ingestOnce(ctx, b, plan)
		return err
	}); err != nil {
		return nil, s.fail(ctx, "ingest", err)
	}
	return out, nil
}

// batch is an Ingest batch grouped per ticket, at stored precision.
type batch struct {
	sqlstore.Batch
	sorted []string // ids in lock order
}

func newBatch(events []watchdog.Event) *batch {
	b := &batch{Batch: sqlstore.GroupBatch(events)}
	for _, evs := range b.Events {
		for i := range evs {
			ev := &evs[i]
			ev.CreatedAt, ev.UpdatedAt, ev.FirstResponseAt = us(ev.CreatedAt), us(ev.UpdatedAt), usPtr(ev.FirstResponseAt)
		}
	}
	b.sorted = slices.Clone(b.IDs)
	slices.Sort(b.sorted)
	return b
}

func (s *Store) ingestOnce(ctx context.Context, b *batch, plan watchdog.PlanFunc) ([]*watchdog.Ticket, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	m, err := mergeBatch(ctx, tx, b)
	if err != nil {
		return nil, err
	}
	var w ingestWrites
	for _, c := range m.changed {
		applyPlan(c.t, plan(c.t))
		c.t.Events, c.t.Alerts = nil, nil
		w.add(c)
	}
	if err := w.write(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	out := make([]*watchdog.Ticket, len(b.IDs))
	for i, id := range b.IDs {
		out[i] = m.tickets[id]
		out[i].Events, out[i].Alerts = nil, nil
	}
	return out, nil
}

// merged is an Ingest batch merged into the stored timelines.
type merged struct {
	tickets map[string]*watchdog.Ticket // every ticket of the batch
	changed []ingested                  // those that gained events, in id order
}

// ingested is a ticket that gained events, merged, with its timeline and
// its alerts for plan.
type ingested struct {
	t       *watchdog.Ticket
	isNew   bool             // not stored yet
	oldNext *time.Time       // the stored NextDueAt
	fresh   []watchdog.Event // the events to insert
}

// mergeBatch locks the batch's stored tickets and merges the batch into
// their timelines (watchdog.Ticket.Merge's rules, via sqlstore.MergeNew).
func mergeBatch(ctx context.Context, tx queryer, b *batch) (*merged, error) {
	// Lock the batch's existing tickets, in id order so that concurrent
	// batches cannot deadlock on them.
	stored, err := queryTickets(ctx, tx, `SELECT `+ticketCols+` FROM tickets
		WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.StringArray(b.sorted))
	if err != nil {
		return nil, fmt.Errorf("lock tickets: %w", err)
	}
	m := &merged{tickets: make(map[string]*watchdog.Ticket, len(b.IDs))}
	oldIDs := make([]string, len(stored))
	for i, t := range stored {
		m.tickets[t.ID] = t
		oldIDs[i] = t.ID
	}
	// The stored timelines tell which of the batch's events are new, so
	// that the writes are plain inserts (no speculative insertion, no
	// RETURNING). Under the row locks no one else adds to them.
	timelines, err := loadTimelines(ctx, tx, oldIDs)
	if err != nil {
		return nil, fmt.Errorf("load timelines: %w", err)
	}
	var alerted []*watchdog.Ticket
	for _, id := range b.sorted {
		c, changed := mergeTicket(id, m.tickets[id], timelines[id], b.Events[id])
		if !changed {
			continue
		}
		m.tickets[id] = c.t
		m.changed = append(m.changed, c)
		if !c.isNew {
			alerted = append(alerted, c.t)
		}
	}
	if ids := sqlstore.AlertedIDs(alerted); len(ids) > 0 {
		alerts, err := loadAlerts(ctx, tx, ids)
		if err != nil {
			return nil, fmt.Errorf("load alerts: %w", err)
		}
		for _, id := range ids {
			m.tickets[id].Alerts = alerts[id]
		}
	}
	return m, nil
}

// mergeTicket merges the batch's events of ticket id into its stored row
// and timeline (stored nil: a new ticket) and reports whether it gained any.
func mergeTicket(id string, stored *watchdog.Ticket, timeline, events []watchdog.Event) (ingested, bool) {
	if stored == nil {
		// Every event is new. If another batch creates the ticket
		// concurrently, an insert fails with a unique violation and the
		// whole batch reruns.
		t := &watchdog.Ticket{ID: id}
		t.Merge(events...)
		return ingested{t: t, isNew: true, fresh: t.Events}, true
	}
	stored.Events = timeline
	c := ingested{t: stored, oldNext: stored.NextDueAt, fresh: sqlstore.MergeNew(stored, events)}
	return c, len(c.fresh) > 0
}

// ingestWrites collects the writes of an Ingest transaction, each kind
// written with one statement.
type ingestWrites struct {
	inserts, updates ticketRows
	events           eventRows
	sched            scheduleRows
}

// add records a planned ticket's writes.
func (w *ingestWrites) add(c ingested) {
	w.events.add(c.fresh)
	if c.isNew {
		w.inserts.add(c.t)
		if c.t.NextDueAt != nil {
			w.sched.insert(c.t.ID, c.t.NextDueAt)
		}
		return
	}
	w.updates.add(c.t)
	w.sched.change(c.t.ID, c.oldNext, c.t.NextDueAt)
}

func (w *ingestWrites) write(ctx context.Context, q queryer) error {
	if err := w.events.insert(ctx, q); err != nil {
		return err
	}
	if len(w.inserts.id) > 0 {
		if _, err := q.ExecContext(ctx, `INSERT INTO tickets (id, priority, customer_tier, status,
				created_at, updated_at, first_response_at, sla_state, untracked_reason, open, next_due_at, breach_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
				$7::timestamptz[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[], $12::timestamptz[])`,
			w.inserts.args()...); err != nil {
			return raced(fmt.Errorf("insert tickets: %w", err))
		}
	}
	if len(w.updates.id) > 0 {
		if _, err := q.ExecContext(ctx, `UPDATE tickets t SET
				priority = u.priority, customer_tier = u.customer_tier, status = u.status,
				created_at = u.created_at, updated_at = u.updated_at, first_response_at = u.first_response_at,
				sla_state = u.sla_state, untracked_reason = u.untracked_reason, open = u.open,
				next_due_at = u.next_due_at, breach_at = u.breach_at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
				$7::timestamptz[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[], $12::timestamptz[])
				AS u(id, priority, customer_tier, status, created_at, updated_at, first_response_at,
					sla_state, untracked_reason, open, next_due_at, breach_at)
			WHERE t.id = u.id`, w.updates.args()...); err != nil {
			return fmt.Errorf("update tickets: %w", err)
		}
	}
	if err := w.sched.write(ctx, q); err != nil {
		return raced(err)
	}
	return nil
}
