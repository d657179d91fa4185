package postgres

import (
	"context"
	"fmt"
	"slices"
	"sort"

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
	tx, err := s.db.BeginTxx(ctx, nil)
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
	for _, t := range stored {
		existing[t.ID] = t
	}

	// Insert the events; RETURNING names the tickets that gained one.
	changed, err := insertEvents(ctx, tx, b)
	if err != nil {
		return nil, err
	}

	var changedOld []string
	for _, id := range b.sorted {
		if changed[id] && existing[id] != nil {
			changedOld = append(changedOld, id)
		}
	}
	timelines, err := loadTimelines(ctx, tx, changedOld)
	if err != nil {
		return nil, fmt.Errorf("load timelines: %w", err)
	}
	alerts, err := loadAlerts(ctx, tx, changedOld)
	if err != nil {
		return nil, fmt.Errorf("load alerts: %w", err)
	}

	result := make(map[string]*watchdog.Ticket, len(b.order))
	var updates, inserts ticketRows
	for _, id := range b.sorted {
		old := existing[id]
		if !changed[id] {
			if old == nil {
				// Its events are stored but its ticket row is not visible:
				// another batch is creating it right now.
				return nil, errRaced
			}
			result[id] = old
			continue
		}
		t := &watchdog.Ticket{ID: id}
		if old != nil {
			t.EscalationLevel = old.EscalationLevel
			t.Events = timelines[id]
			t.Alerts = alerts[id]
		} else {
			t.Events = b.events[id]
		}
		cur := watchdog.CurrentFields(t.Events)
		t.Priority, t.CustomerTier, t.Status = cur.Priority, cur.CustomerTier, cur.Status
		t.CreatedAt, t.UpdatedAt, t.FirstResponseAt = cur.CreatedAt, cur.UpdatedAt, cur.FirstResponseAt
		applyPlan(t, plan(t))
		t.Events, t.Alerts = nil, nil
		result[id] = t
		if old != nil {
			updates.add(t)
		} else {
			inserts.add(t)
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
	if len(inserts.id) > 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO tickets (id, priority, customer_tier, status,
				created_at, updated_at, first_response_at, sla_state, untracked_reason, open, next_due_at, breach_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
				$7::timestamptz[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[], $12::timestamptz[])
			ON CONFLICT (id) DO NOTHING`, inserts.args()...)
		if err != nil {
			return nil, fmt.Errorf("insert tickets: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("insert tickets: %w", err)
		} else if n != int64(len(inserts.id)) {
			// Another batch created one of these tickets since we looked;
			// rerun so that its events are merged too.
			return nil, errRaced
		}
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

// insertEvents inserts the batch's events, skipping stored ones, and
// returns the ids of the tickets that gained at least one event.
func insertEvents(ctx context.Context, tx queryer, b *batch) (map[string]bool, error) {
	n := 0
	for _, evs := range b.events {
		n += len(evs)
	}
	var (
		ids, statuses, prios, tiers = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		updated, created, fr        = make(timeArray, 0, n), make(timeArray, 0, n), make(timeArray, 0, n)
	)
	for _, id := range b.sorted {
		for i := range b.events[id] {
			ev := &b.events[id][i]
			ids = append(ids, ev.ID)
			statuses = append(statuses, ev.Status)
			prios = append(prios, ev.Priority)
			tiers = append(tiers, ev.CustomerTier)
			updated = append(updated, &ev.UpdatedAt)
			created = append(created, &ev.CreatedAt)
			fr = append(fr, ev.FirstResponseAt)
		}
	}
	// DISTINCT keeps one row per ticket: only which tickets changed matters.
	rows, err := tx.QueryContext(ctx, `WITH ins AS (
			INSERT INTO ticket_events (ticket_id, updated_at, status, priority, customer_tier, created_at, first_response_at)
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])
			ON CONFLICT (ticket_id, updated_at) DO NOTHING
			RETURNING ticket_id)
		SELECT DISTINCT ticket_id FROM ins`,
		pq.StringArray(ids), updated, pq.StringArray(statuses), pq.StringArray(prios), pq.StringArray(tiers), created, fr)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	defer rows.Close()
	changed := make(map[string]bool, len(b.order))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("insert events: %w", err)
		}
		changed[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	return changed, nil
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
