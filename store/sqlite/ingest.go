package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ticket-watchdog/watchdog"
)

// Ingest merges events into the stored timelines and stores plan's columns
// for every ticket that gained an event, in one transaction. See
// watchdog.Store.
func (s *Store) Ingest(ctx context.Context, events []watchdog.Event, plan watchdog.PlanFunc) ([]*watchdog.Ticket, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	// Fold the batch per ticket, in order of first appearance.
	var order []string
	batch := make(map[string][]watchdog.Event)
	for _, e := range events {
		if _, ok := batch[e.ID]; !ok {
			order = append(order, e.ID)
		}
		batch[e.ID] = append(batch[e.ID], e)
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap(ctx, "ingest: begin", err)
	}
	defer s.endWrite(tx)

	list, err := jsonList(order)
	if err != nil {
		return nil, err
	}
	stored, err := queryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+" FROM tickets WHERE id IN "+inIDs, list)
	if err != nil {
		return nil, s.wrap(ctx, "ingest: load tickets", err)
	}
	byID := make(map[string]*watchdog.Ticket, len(order))
	existing := make([]string, 0, len(stored))
	for _, t := range stored {
		byID[t.ID] = t
		existing = append(existing, t.ID)
	}
	before := snapshot(stored)
	oldRow := make(map[string]*watchdog.Ticket, len(before))
	for _, c := range before {
		oldRow[c.old.ID] = c.old
	}
	timelines, err := loadTimelines(ctx, tx, existing)
	if err != nil {
		return nil, s.wrap(ctx, "ingest", err)
	}

	var (
		changed   []*watchdog.Ticket
		created   []*watchdog.Ticket
		updated   []change
		newEvents []watchdog.Event
		reload    []string // stored tickets that changed: their alerts go to plan
	)
	for _, id := range order {
		t := byID[id]
		isNew := t == nil
		if isNew {
			t = &watchdog.Ticket{ID: id}
			byID[id] = t
		} else {
			t.Events = timelines[id]
		}
		had := len(t.Events)
		for _, e := range batch[id] {
			if t.Merge(e) {
				newEvents = append(newEvents, e)
			}
		}
		if len(t.Events) == had {
			continue
		}
		changed = append(changed, t)
		if isNew {
			created = append(created, t)
		} else {
			if t.EscalationLevel > 0 { // level 0: no alerts recorded
				reload = append(reload, id)
			}
			updated = append(updated, change{old: oldRow[id], new: t})
		}
	}
	if len(reload) > 0 {
		alerts, err := loadAlerts(ctx, tx, reload)
		if err != nil {
			return nil, s.wrap(ctx, "ingest", err)
		}
		for _, id := range reload {
			byID[id].Alerts = alerts[id]
		}
	}
	for _, t := range changed {
		// A plan may take a while on a large batch; stop as soon as the
		// caller gives up.
		if err := ctx.Err(); err != nil {
			return nil, s.wrap(ctx, "ingest", err)
		}
		applyPlan(t, plan(t))
	}

	if err := s.insertTickets(ctx, tx, created); err != nil {
		return nil, s.wrap(ctx, "ingest", err)
	}
	if err := s.updateTickets(ctx, tx, updated); err != nil {
		return nil, s.wrap(ctx, "ingest", err)
	}
	if err := s.bulkExec(ctx, tx,
		"INSERT INTO ticket_events ("+eventCols+") VALUES", "", 7, len(newEvents),
		func(i int, args []any) []any {
			e := &newEvents[i]
			return append(args, e.ID, micros(e.UpdatedAt), e.Status, e.Priority, e.CustomerTier, micros(e.CreatedAt), nullMicros(e.FirstResponseAt))
		}); err != nil {
		return nil, s.wrap(ctx, "ingest: insert events", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap(ctx, "ingest: commit", err)
	}

	out := make([]*watchdog.Ticket, len(order))
	for i, id := range order {
		t := *byID[id]
		t.Events, t.Alerts = nil, nil
		out[i] = &t
	}
	return out, nil
}

// insertTickets inserts new tickets (the writer lock guarantees that they
// are not stored yet).
func (s *Store) insertTickets(ctx context.Context, tx *sql.Tx, tickets []*watchdog.Ticket) error {
	err := s.bulkExec(ctx, tx, "INSERT INTO tickets ("+ticketCols+") VALUES", "", 13, len(tickets),
		func(i int, args []any) []any {
			t := tickets[i]
			return append(args, t.ID, t.Priority, t.CustomerTier, t.Status, micros(t.CreatedAt), micros(t.UpdatedAt),
				nullMicros(t.FirstResponseAt), t.EscalationLevel, string(t.State), t.Untracked, boolInt(t.Open),
				nullMicros(t.NextDueAt), nullMicros(t.BreachAt))
		})
	if err != nil {
		return fmt.Errorf("insert tickets: %w", err)
	}
	return nil
}
