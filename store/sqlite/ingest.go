package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
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
	b := sqlstore.GroupBatch(events)
	var (
		m        *sqlstore.Merged
		outcomes sqlstore.OutcomeWrites
	)
	if err := s.inWrite(ctx, "ingest", func(tx *sql.Tx) error {
		outcomes = sqlstore.OutcomeWrites{}
		s.noteTickets(b.IDs)
		stored, err := sqlstore.QueryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+" FROM tickets WHERE id IN "+inIDs, idList[string](b.IDs))
		if err != nil {
			return fmt.Errorf("load tickets: %w", err)
		}
		before := snapshot(stored)
		// The writer lock keeps the stored rows as read until the commit.
		if m, err = sqlstore.MergeBatch(ctx, tx, loaders, b, b.IDs, stored); err != nil {
			return err
		}
		for _, c := range m.Changed {
			// A plan may take a while on a large batch; stop as soon as
			// the caller gives up.
			if err := ctx.Err(); err != nil {
				return err
			}
			outcomes.Add(applyPlan(c.T, plan(c.T)))
		}
		if err := s.writeOutcomes(ctx, tx, outcomes); err != nil {
			return err
		}
		return s.writeIngest(ctx, tx, m, before)
	}); err != nil {
		return nil, err
	}
	out := make([]*watchdog.Ticket, len(b.IDs))
	for i, id := range b.IDs {
		t := *m.Tickets[id]
		t.Events, t.Alerts, t.Messages, t.Outcomes = nil, nil, nil, nil
		out[i] = &t
	}
	return out, nil
}

// writeIngest stores the tickets of m that changed and their new events.
// before holds the batch's stored rows as they were read (updateTickets
// writes only the columns that differ, so unchanged ones are left alone).
func (s *Store) writeIngest(ctx context.Context, tx *sql.Tx, m *sqlstore.Merged, before []change) error {
	var (
		created []*watchdog.Ticket
		fresh   []watchdog.Event
		msgs    []sqlstore.TicketMessage
	)
	for _, c := range m.Changed {
		fresh = append(fresh, c.Fresh...)
		for _, msg := range c.FreshMessages {
			msgs = append(msgs, sqlstore.TicketMessage{TicketID: c.T.ID, Message: msg})
		}
		if c.New {
			created = append(created, c.T)
		}
	}
	if err := s.insertTickets(ctx, tx, created); err != nil {
		return err
	}
	if err := s.updateTickets(ctx, tx, before); err != nil {
		return err
	}
	if err := s.bulkExec(ctx, tx,
		"INSERT INTO ticket_events ("+eventCols+") VALUES", "", 9, len(fresh),
		func(i int, args []any) []any {
			e := &fresh[i]
			return append(args, e.ID, micros(e.UpdatedAt), e.Status, e.Priority, e.CustomerTier, micros(e.CreatedAt), nullMicros(e.FirstResponseAt),
				sqlstore.NullText(sqlstore.EncodeAttributes(e.Attributes)), sqlstore.NullText(sqlstore.EncodeTags(e.Tags)))
		}); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	if err := s.bulkExec(ctx, tx, "INSERT INTO ticket_messages ("+messageCols+") VALUES", "", 3, len(msgs),
		func(i int, args []any) []any {
			m := &msgs[i]
			return append(args, m.TicketID, micros(m.At), m.Author)
		}); err != nil {
		return fmt.Errorf("insert messages: %w", err)
	}
	return nil
}

// insertTickets inserts new tickets (the writer lock guarantees that they
// are not stored yet).
func (s *Store) insertTickets(ctx context.Context, tx *sql.Tx, tickets []*watchdog.Ticket) error {
	err := s.bulkExec(ctx, tx, "INSERT INTO tickets ("+ticketCols+") VALUES", "", 21, len(tickets),
		func(i int, args []any) []any {
			t := tickets[i]
			oc := &t.OpenClocks
			return append(args, t.ID, t.Priority, t.CustomerTier, t.Status, micros(t.CreatedAt), micros(t.UpdatedAt),
				nullMicros(t.FirstResponseAt), t.EscalationLevel, string(t.State), t.Untracked, boolInt(t.Open),
				nullMicros(t.NextDueAt), nullMicros(t.BreachAt), nullMicros(t.BackfilledAt), t.Policy,
				sqlstore.NullText(sqlstore.EncodeAttributes(t.Attributes)), sqlstore.NullText(sqlstore.EncodeTags(t.Tags)),
				oc.Calendar, oc.Mask(), nullMicros(oc.ResponseBreachAt), nullMicros(oc.ResolutionBreachAt))
		})
	if err != nil {
		return fmt.Errorf("insert tickets: %w", err)
	}
	return nil
}
