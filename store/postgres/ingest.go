package postgres

import (
	"context"
	"fmt"
	"slices"

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
	tx, err := s.beginCopyWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.end()
	m, err := mergeBatch(ctx, tx, b)
	if err != nil {
		return nil, err
	}
	var w ingestWrites
	for _, c := range m.Changed {
		w.outcomes.add(applyPlan(c.T, plan(c.T)))
		c.T.Events, c.T.Alerts, c.T.Messages, c.T.Outcomes = nil, nil, nil, nil
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
		out[i] = m.Tickets[id]
		out[i].Events, out[i].Alerts, out[i].Messages, out[i].Outcomes = nil, nil, nil, nil
	}
	return out, nil
}

// mergeBatch locks the batch's stored tickets, in id order so that
// concurrent batches cannot deadlock on them, and merges the batch into
// them. Under the row locks no one else adds to their timelines, so the
// events it finds new are written with plain inserts (no speculative
// insertion, no RETURNING). If another batch creates a ticket this one
// takes for new, an insert fails with a unique violation and the whole
// batch reruns.
func mergeBatch(ctx context.Context, tx queryer, b *batch) (*sqlstore.Merged, error) {
	stored, err := queryTickets(ctx, tx, lockTicketsSQL, pq.StringArray(b.sorted))
	if err != nil {
		return nil, fmt.Errorf("lock tickets: %w", err)
	}
	return sqlstore.MergeBatch(ctx, tx, writeLoaders, b.Batch, b.sorted, stored)
}

var lockTicketsSQL = prepared(`SELECT ` + ticketCols + ` FROM tickets
	WHERE id = ANY($1) ORDER BY id FOR UPDATE`)

// ingestWrites collects the writes of an Ingest transaction, each kind
// written with one statement (or one COPY).
type ingestWrites struct {
	fresh    [][]watchdog.Event // the new timeline events, per ticket
	created  []*watchdog.Ticket // the new tickets
	updates  ticketRows
	messages messageRows
	outcomes outcomeRows
}

// add records the writes of a planned ticket. A new ticket's one event
// stays on its row (sqlstore.Loaders.EventOnRow): most tickets are created
// by one event, and a timeline row for it would be a second row, and a
// second index entry, to write for each.
func (w *ingestWrites) add(c sqlstore.Ingested) {
	if len(c.Fresh) > 0 && !sqlstore.OnRowOnly(c) {
		w.fresh = append(w.fresh, c.Fresh)
	}
	w.messages.add(c.T.ID, c.FreshMessages)
	if c.New {
		w.created = append(w.created, c.T)
		return
	}
	w.updates.add(c.T)
}

func (w *ingestWrites) write(ctx context.Context, tx *copyTx) error {
	if err := w.insert(ctx, tx); err != nil {
		return raced(err)
	}
	if err := w.messages.insert(ctx, tx); err != nil {
		return err
	}
	if len(w.updates.id) > 0 {
		if _, err := tx.ExecContext(ctx, updateTicketsSQL, w.updates.args()...); err != nil {
			return fmt.Errorf("update tickets: %w", err)
		}
	}
	return w.outcomes.write(ctx, tx)
}

// updateTicketsSQL writes the stored tickets' rows (ticketRows.args).
var updateTicketsSQL = prepared(`UPDATE tickets t SET
	priority = u.priority, customer_tier = u.customer_tier, status = u.status,
	created_at = u.created_at, updated_at = u.updated_at, first_response_at = u.first_response_at,
	sla_state = u.sla_state, untracked_reason = u.untracked_reason, open = u.open,
	next_due_at = u.next_due_at, breach_at = u.breach_at, backfilled_at = u.backfilled_at,
	policy = u.policy, attributes = NULLIF(u.attributes, ''), tags = NULLIF(u.tags, ''),
	sla_calendar = u.sla_calendar, open_clocks = u.open_clocks,
	response_breach_at = u.response_breach_at, resolution_breach_at = u.resolution_breach_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
	$7::timestamptz[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
	$14::text[], $15::text[], $16::text[], $17::text[], $18::smallint[], $19::timestamptz[], $20::timestamptz[])
	AS u(id, priority, customer_tier, status, created_at, updated_at, first_response_at,
		sla_state, untracked_reason, open, next_due_at, breach_at, backfilled_at, policy, attributes, tags,
		sla_calendar, open_clocks, response_breach_at, resolution_breach_at)
WHERE t.id = u.id`)

// insert writes the plain inserts: the new timeline events and the new
// tickets. Under the batch's row locks no one else adds to the stored
// tickets' timelines, and a new ticket that another batch creates meanwhile
// makes one of them fail with a unique violation.
// They go by COPY when the connection offers it.
func (w *ingestWrites) insert(ctx context.Context, tx *copyTx) error {
	if tx.conn != nil {
		return w.copyInserts(ctx, tx.conn)
	}
	var events eventRows
	for _, evs := range w.fresh {
		events.add(evs)
	}
	if err := events.insert(ctx, tx); err != nil {
		return err
	}
	var created ticketRows
	for _, t := range w.created {
		created.add(t)
	}
	if len(created.id) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (id, priority, customer_tier, status,
				created_at, updated_at, first_response_at, sla_state, untracked_reason, open, next_due_at, breach_at, backfilled_at,
				policy, attributes, tags, sla_calendar, open_clocks, response_breach_at, resolution_breach_at)
			SELECT id, p, ct, s, c, u, fr, st, ur, o, n, b, bf, pol, NULLIF(a, ''), NULLIF(tg, ''), cal, oc, rb, sb
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
				$7::timestamptz[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
				$14::text[], $15::text[], $16::text[], $17::text[], $18::smallint[], $19::timestamptz[], $20::timestamptz[])
				AS x(id, p, ct, s, c, u, fr, st, ur, o, n, b, bf, pol, a, tg, cal, oc, rb, sb)`,
			created.args()...); err != nil {
			return fmt.Errorf("insert tickets: %w", err)
		}
	}
	return nil
}
