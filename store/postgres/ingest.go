package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
)

// maxRaceRetries bounds how often a transaction that lost a race (deadlock,
// a ticket created concurrently) is rerun before the error is returned.
const maxRaceRetries = 8

// batch is an Ingest batch folded per ticket id.
type batch struct {
	order  []string                    // ids by first appearance
	sorted []string                    // ids in lock order
	events map[string][]watchdog.Event // per id: distinct updated_at, sorted
}

func foldBatch(events []watchdog.Event) *batch {
	b := &batch{events: make(map[string][]watchdog.Event)}
	for _, ev := range events {
		evs, seen := b.events[ev.ID]
		if !seen {
			b.order = append(b.order, ev.ID)
		}
		ev.CreatedAt = us(ev.CreatedAt)
		ev.UpdatedAt = us(ev.UpdatedAt)
		ev.FirstResponseAt = usPtr(ev.FirstResponseAt)
		// The first event with a given updated_at wins, as in Ticket.Merge.
		i := sort.Search(len(evs), func(i int) bool { return !evs[i].UpdatedAt.Before(ev.UpdatedAt) })
		if i < len(evs) && evs[i].UpdatedAt.Equal(ev.UpdatedAt) {
			continue
		}
		b.events[ev.ID] = slices.Insert(evs, i, ev)
	}
	b.sorted = slices.Clone(b.order)
	slices.Sort(b.sorted)
	return b
}

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
	b := foldBatch(events)
	for attempt := 0; ; attempt++ {
		out, err := s.ingestOnce(ctx, b, plan)
		if err != nil && retryable(err) && attempt < maxRaceRetries && ctx.Err() == nil {
			continue
		}
		if err != nil {
			return nil, s.fail(ctx, "ingest", err)
		}
		return out, nil
	}
}

func (s *Store) ingestOnce(ctx context.Context, b *batch, plan watchdog.PlanFunc) ([]*watchdog.Ticket, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	// Lock the batch's existing tickets, in id order so that concurrent
	// batches cannot deadlock on them.
	stored, err := queryTickets(ctx, tx, `SELECT `+ticketCols+` FROM tickets
		WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.StringArray(b.sorted))
	if err != nil {
		return nil, fmt.Errorf("lock tickets: %w", err)
	}
	existing := make(map[string]*watchdog.Ticket, len(stored))
	oldIDs := make([]string, 0, len(stored))
	for _, t := range stored {
		existing[t.ID] = t
		oldIDs = append(oldIDs, t.ID)
	}
	// The stored timelines tell which of the batch's events are new, so
	// that the writes below are plain inserts (no speculative insertion, no
	// RETURNING). Under the row locks no one else adds to them.
	timelines, err := loadTimelines(ctx, tx, oldIDs)
	if err != nil {
		return nil, fmt.Errorf("load timelines: %w", err)
	}

	result := make(map[string]*watchdog.Ticket, len(b.order))
	var (
		updates, inserts ticketRows
		newEvents        eventRows
		sched            scheduleRows
		changedOld       []*watchdog.Ticket
	)
	for _, id := range b.sorted {
		old := existing[id]
		if old == nil {
			// New ticket: every event of the batch is new. If another
			// batch creates it concurrently, an insert below fails with a
			// unique violation and the whole batch reruns.
			t := &watchdog.Ticket{ID: id, Events: b.events[id]}
			newEvents.add(t.Events)
			fillCurrent(t)
			applyPlan(t, plan(t))
			t.Events = nil
			result[id] = t
			inserts.add(t)
			if t.NextDueAt != nil {
				sched.insert(id, t.NextDueAt)
			}
			continue
		}
		fresh := newOnly(timelines[id], b.events[id])
		if len(fresh) == 0 {
			result[id] = old
			continue
		}
		newEvents.add(fresh)
		timelines[id] = mergeTimeline(timelines[id], fresh)
		changedOld = append(changedOld, old)
	}
	var alerts map[string][]watchdog.Alert
	if alerted := alertedIDs(changedOld); len(alerted) > 0 {
		if alerts, err = loadAlerts(ctx, tx, alerted); err != nil {
			return nil, fmt.Errorf("load alerts: %w", err)
		}
	}
	for _, old := range changedOld {
		t := &watchdog.Ticket{ID: old.ID, EscalationLevel: old.EscalationLevel,
			Events: timelines[old.ID], Alerts: alerts[old.ID]}
		fillCurrent(t)
		applyPlan(t, plan(t))
		t.Events, t.Alerts = nil, nil
		result[t.ID] = t
		updates.add(t)
		sched.change(t.ID, old.NextDueAt, t.NextDueAt)
	}

	if err := newEvents.insert(ctx, tx); err != nil {
		return nil, err
	}
	if len(inserts.id) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (id, priority, customer_tier, status,
				created_at, updated_at, first_response_at, sla_state, untracked_reason, open, next_due_at, breach_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
				$7::timestamptz[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[], $12::timestamptz[])`,
			inserts.args()...); err != nil {
			return nil, raced(fmt.Errorf("insert tickets: %w", err))
		}
	}
	if len(updates.id) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets t SET
				priority = u.priority, customer_tier = u.customer_tier, status = u.status,
				created_at = u.created_at, updated_at = u.updated_at, first_response_at = u.first_response_at,
				sla_state = u.sla_state, untracked_reason = u.untracked_reason, open = u.open,
				next_due_at = u.next_due_at, breach_at = u.breach_at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
				$7::timestamptz[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[], $12::timestamptz[])
				AS u(id, priority, customer_tier, status, created_at, updated_at, first_response_at,
					sla_state, untracked_reason, open, next_due_at, breach_at)
			WHERE t.id = u.id`, updates.args()...); err != nil {
			return nil, fmt.Errorf("update tickets: %w", err)
		}
	}
	if err := sched.write(ctx, tx); err != nil {
		return nil, raced(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}

	out := make([]*watchdog.Ticket, len(b.order))
	for i, id := range b.order {
		out[i] = result[id]
	}
	return out, nil
}

// fillCurrent sets t's current fields from its timeline (Ticket.Merge's
// rules: the latest event's fields, the earliest first response).
func fillCurrent(t *watchdog.Ticket) {
	cur := watchdog.CurrentFields(t.Events)
	t.Priority, t.CustomerTier, t.Status = cur.Priority, cur.CustomerTier, cur.Status
	t.CreatedAt, t.UpdatedAt, t.FirstResponseAt = cur.CreatedAt, cur.UpdatedAt, cur.FirstResponseAt
}

// newOnly returns the events of batch (sorted, distinct) whose updated_at
// is not in stored (sorted).
func newOnly(stored, batch []watchdog.Event) []watchdog.Event {
	var out []watchdog.Event
	i := 0
	for _, ev := range batch {
		for i < len(stored) && stored[i].UpdatedAt.Before(ev.UpdatedAt) {
			i++
		}
		if i < len(stored) && stored[i].UpdatedAt.Equal(ev.UpdatedAt) {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// mergeTimeline merges two sorted timelines with no updated_at in common.
func mergeTimeline(a, b []watchdog.Event) []watchdog.Event {
	out := make([]watchdog.Event, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].UpdatedAt.Before(b[0].UpdatedAt) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// raced turns a unique violation into errRaced: a concurrent batch created
// one of the tickets (or stored one of the events) this one took for new,
// and a rerun merges with what it wrote.
func raced(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return fmt.Errorf("%w: %w", errRaced, err)
	}
	return err
}

// eventRows are timeline rows as parallel arrays for unnest.
type eventRows struct {
	ids, statuses, prios, tiers []string
	updated, created, fr        timeArray
}

func (r *eventRows) add(evs []watchdog.Event) {
	for i := range evs {
		ev := &evs[i]
		r.ids = append(r.ids, ev.ID)
		r.statuses = append(r.statuses, ev.Status)
		r.prios = append(r.prios, ev.Priority)
		r.tiers = append(r.tiers, ev.CustomerTier)
		r.updated = append(r.updated, &ev.UpdatedAt)
		r.created = append(r.created, &ev.CreatedAt)
		r.fr = append(r.fr, ev.FirstResponseAt)
	}
}

// insert writes the rows; callers have left out the stored ones.
func (r *eventRows) insert(ctx context.Context, q queryer) error {
	if len(r.ids) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO ticket_events
			(ticket_id, updated_at, status, priority, customer_tier, created_at, first_response_at)
		SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])`,
		pq.StringArray(r.ids), r.updated, pq.StringArray(r.statuses), pq.StringArray(r.prios), pq.StringArray(r.tiers),
		r.created, r.fr); err != nil {
		return raced(fmt.Errorf("insert events: %w", err))
	}
	return nil
}

// scheduleRows collects the ticket_schedule writes of a transaction: only
// the tickets whose next due instant changed. A ticket's schedule row exists
// exactly when its tickets.next_due_at is set; both change together under
// the ticket's row lock.
type scheduleRows struct {
	newID, addID, setID, delID []string
	newAt, addAt, setAt        timeArray
}

// insert schedules a ticket created in this transaction.
func (r *scheduleRows) insert(id string, at *time.Time) {
	r.newID, r.newAt = append(r.newID, id), append(r.newAt, at)
}

// change records a stored ticket's move from old to next, if it moved.
func (r *scheduleRows) change(id string, old, next *time.Time) {
	switch {
	case sameTime(old, next):
	case next == nil:
		r.delID = append(r.delID, id)
	case old == nil:
		r.addID, r.addAt = append(r.addID, id), append(r.addAt, next)
	default:
		r.setID, r.setAt = append(r.setID, id), append(r.setAt, next)
	}
}

func (r *scheduleRows) write(ctx context.Context, q queryer) error {
	if len(r.newID) > 0 {
		// A new ticket has no row: a plain insert, no conflict check.
		if _, err := q.ExecContext(ctx, `INSERT INTO ticket_schedule (ticket_id, next_due_at)
			SELECT * FROM unnest($1::text[], $2::timestamptz[])`, pq.StringArray(r.newID), r.newAt); err != nil {
			return fmt.Errorf("schedule tickets: %w", err)
		}
	}
	if len(r.setID) > 0 {
		// A plain UPDATE: an INSERT ... ON CONFLICT DO UPDATE would first
		// try (and fail) a speculative insertion for every row.
		if _, err := q.ExecContext(ctx, `UPDATE ticket_schedule s SET next_due_at = u.at
			FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE s.ticket_id = u.id`,
			pq.StringArray(r.setID), r.setAt); err != nil {
			return fmt.Errorf("reschedule tickets: %w", err)
		}
	}
	if len(r.addID) > 0 {
		if _, err := q.ExecContext(ctx, `INSERT INTO ticket_schedule (ticket_id, next_due_at)
			SELECT * FROM unnest($1::text[], $2::timestamptz[])
			ON CONFLICT (ticket_id) DO UPDATE SET next_due_at = excluded.next_due_at`,
			pq.StringArray(r.addID), r.addAt); err != nil {
			return fmt.Errorf("schedule tickets: %w", err)
		}
	}
	if len(r.delID) > 0 {
		if _, err := q.ExecContext(ctx, `DELETE FROM ticket_schedule WHERE ticket_id = ANY($1)`,
			pq.StringArray(r.delID)); err != nil {
			return fmt.Errorf("unschedule tickets: %w", err)
		}
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// applyPlan copies a plan's ticket columns onto t, at stored precision.
func applyPlan(t *watchdog.Ticket, p watchdog.Plan) {
	t.State = p.State
	t.Untracked = p.Untracked
	t.Open = p.Open
	t.NextDueAt = usPtr(p.NextDueAt)
	t.BreachAt = usPtr(p.BreachAt)
}

// ticketRows are ticket columns as parallel arrays for unnest.
type ticketRows struct {
	id, priority, tier, status, state, untracked []string
	created, updated, fr, next, breach           timeArray
	open                                         []bool
	level                                        []int64
}

func (r *ticketRows) add(t *watchdog.Ticket) {
	r.id = append(r.id, t.ID)
	r.priority = append(r.priority, t.Priority)
	r.tier = append(r.tier, t.CustomerTier)
	r.status = append(r.status, t.Status)
	r.created = append(r.created, ptr(t.CreatedAt))
	r.updated = append(r.updated, ptr(t.UpdatedAt))
	r.fr = append(r.fr, t.FirstResponseAt)
	r.state = append(r.state, string(t.State))
	r.untracked = append(r.untracked, t.Untracked)
	r.open = append(r.open, t.Open)
	r.next = append(r.next, t.NextDueAt)
	r.breach = append(r.breach, t.BreachAt)
	r.level = append(r.level, int64(t.EscalationLevel))
}

func (r *ticketRows) args() []any {
	return []any{pq.StringArray(r.id), pq.StringArray(r.priority), pq.StringArray(r.tier), pq.StringArray(r.status),
		r.created, r.updated, r.fr, pq.StringArray(r.state), pq.StringArray(r.untracked), pq.BoolArray(r.open),
		r.next, r.breach}
}

// derivedArgs are the arrays of the derived columns only.
func (r *ticketRows) derivedArgs() []any {
	return []any{pq.StringArray(r.id), pq.StringArray(r.state), pq.StringArray(r.untracked), pq.BoolArray(r.open),
		r.next, r.breach, pq.Int64Array(r.level)}
}
