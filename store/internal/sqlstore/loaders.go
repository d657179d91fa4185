package sqlstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// Loaders read what a plan sees of a ticket besides its row, the timelines
// and the alerts of tickets by id, with a store's SQL and scanners.
type Loaders struct {
	// TimelinesSQL selects the timeline rows of the tickets whose ids
	// are its one parameter, in ticket and updated_at order, for ScanEvent.
	TimelinesSQL string
	ScanEvent    func(Scanner) (watchdog.Event, error)
	// EventOnRow says that the store keeps the one event of a ticket that
	// has only one, and that RowEvent reproduces exactly, on the ticket's
	// row instead of in its timeline: a ticket with no timeline rows has
	// RowEvent as its timeline. Its writers keep the invariant: a ticket's
	// timeline is either all in its rows or that one event (see
	// OnRowOnly and MergeBatch).
	EventOnRow bool
	// AlertsSQL selects the alerts rows of those tickets, by ticket and
	// oldest first, for ScanAlert.
	AlertsSQL string
	ScanAlert func(Scanner) (watchdog.Alert, error)
	// MessagesSQL selects the ticket_messages rows of those tickets, by
	// ticket in time order (at, then customer before agent), for
	// ScanMessage.
	MessagesSQL string
	ScanMessage func(Scanner) (TicketMessage, error)
	// AcksSQL selects the acks rows of those tickets, by ticket and clock,
	// for ScanAck.
	AcksSQL string
	ScanAck func(Scanner) (watchdog.Ack, error)
	// OutcomesSQL selects the sla_outcomes rows (OutcomeCols) of those
	// tickets, for ScanOutcome.
	OutcomesSQL string
	ScanOutcome func(Scanner) (watchdog.Outcome, error)
	// IDs passes a list of ids as the one parameter.
	IDs func(ids []string) any
}

// Timelines reads the timelines of tickets (read from their rows), by
// ticket id, and with EventOnRow says which of them are their rows' one
// event.
func (l *Loaders) Timelines(ctx context.Context, q Queryer, tickets []*watchdog.Ticket) (timelines map[string][]watchdog.Event, onRow map[string]bool, err error) {
	ids := make([]string, len(tickets))
	for i, t := range tickets {
		ids[i] = t.ID
	}
	timelines, err = loadByTicket(ctx, q, "timelines", l.TimelinesSQL, l.IDs, ids, l.ScanEvent, func(e watchdog.Event) string { return e.ID })
	if err != nil || !l.EventOnRow {
		return timelines, nil, err
	}
	// The row events share one array: most tickets of a pass have one.
	var events []watchdog.Event
	if len(timelines) == 0 {
		timelines = make(map[string][]watchdog.Event, len(tickets))
	}
	for _, t := range tickets {
		if _, ok := timelines[t.ID]; !ok {
			if onRow == nil {
				onRow = make(map[string]bool, len(tickets)-len(timelines))
				events = make([]watchdog.Event, 0, len(tickets)-len(timelines))
			}
			events = append(events, RowEvent(t))
			timelines[t.ID], onRow[t.ID] = events[len(events)-1:len(events):len(events)], true
		}
	}
	return timelines, onRow, nil
}

// RowEvent is the event a ticket's row holds: the fields an event sets on
// its ticket. For a ticket of one event it is that event, unless the event
// carried an empty set of attributes or tags, or tags twice over (see
// OnRowOnly).
func RowEvent(t *watchdog.Ticket) watchdog.Event {
	ev := watchdog.Event{
		ID: t.ID, Priority: t.Priority, CustomerTier: t.CustomerTier, Status: t.Status,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		Attributes: maps.Clone(t.Attributes), Tags: slices.Clone(t.Tags),
	}
	if t.FirstResponseAt != nil {
		fr := *t.FirstResponseAt
		ev.FirstResponseAt = &fr
	}
	return ev
}

// OnRowOnly reports whether a store with EventOnRow leaves out of the
// timeline rows the one event of a new ticket that Ingest merged: when the
// ticket has that one event and its row reproduces it exactly (RowEvent of
// the ticket would equal it). It compares with the ticket's fields, as
// ingest calls it for every new ticket.
func OnRowOnly(c Ingested) bool {
	if !c.New || len(c.Fresh) != 1 {
		return false
	}
	ev, t := &c.Fresh[0], c.T
	return ev.ID == t.ID && ev.Priority == t.Priority && ev.CustomerTier == t.CustomerTier &&
		ev.Status == t.Status && ev.CreatedAt.Equal(t.CreatedAt) && ev.UpdatedAt.Equal(t.UpdatedAt) &&
		SameInstant(ev.FirstResponseAt, t.FirstResponseAt) &&
		(ev.Attributes == nil) == (t.Attributes == nil) && maps.Equal(ev.Attributes, t.Attributes) &&
		(ev.Tags == nil) == (t.Tags == nil) && slices.Equal(ev.Tags, t.Tags)
}

// SameInstant reports whether a and b are both nil or the same instant.
func SameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Messages reads the messages of the tickets ids, by ticket id, in
// timeline order.
func (l *Loaders) Messages(ctx context.Context, q Queryer, ids []string) (map[string][]watchdog.Message, error) {
	rows, err := loadByTicket(ctx, q, "messages", l.MessagesSQL, l.IDs, ids, l.ScanMessage, func(m TicketMessage) string { return m.TicketID })
	if err != nil {
		return nil, err
	}
	out := make(map[string][]watchdog.Message, len(rows))
	for id, ms := range rows {
		list := make([]watchdog.Message, len(ms))
		for i, m := range ms {
			list[i] = m.Message
		}
		out[id] = list
	}
	return out, nil
}

// Alerts reads the alerts of the tickets ids, by ticket id.
func (l *Loaders) Alerts(ctx context.Context, q Queryer, ids []string) (map[string][]watchdog.Alert, error) {
	return loadByTicket(ctx, q, "alerts", l.AlertsSQL, l.IDs, ids, l.ScanAlert, func(a watchdog.Alert) string { return a.TicketID })
}

// Acks reads the acknowledgements of the tickets ids, by ticket id.
func (l *Loaders) Acks(ctx context.Context, q Queryer, ids []string) (map[string][]watchdog.Ack, error) {
	return loadByTicket(ctx, q, "acks", l.AcksSQL, l.IDs, ids, l.ScanAck, func(a watchdog.Ack) string { return a.TicketID })
}

// Fill loads the timelines, alerts and acks of tickets into them.
func (l *Loaders) Fill(ctx context.Context, q Queryer, tickets []*watchdog.Ticket) error {
	if len(tickets) == 0 {
		return nil
	}
	ids := make([]string, len(tickets))
	for i, t := range tickets {
		ids[i] = t.ID
	}
	timelines, _, err := l.Timelines(ctx, q, tickets)
	if err != nil {
		return err
	}
	alerts, err := l.Alerts(ctx, q, alertedIDs(tickets))
	if err != nil {
		return err
	}
	msgs, err := l.Messages(ctx, q, ids)
	if err != nil {
		return err
	}
	acks, err := l.Acks(ctx, q, ids)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		t.Events, t.Alerts, t.Messages, t.Acks = timelines[t.ID], alerts[t.ID], msgs[t.ID], acks[t.ID]
	}
	return nil
}

// loadByTicket runs query for the tickets ids (none: no query), scans its
// rows with scan and groups them by the ticket id that ticket reads from
// each, keeping the query's order.
func loadByTicket[T any](ctx context.Context, q Queryer, what, query string, encode func([]string) any, ids []string,
	scan func(Scanner) (T, error), ticket func(T) string) (map[string][]T, error) {
	out := make(map[string][]T)
	if len(ids) == 0 {
		return out, nil
	}
	// The rows go into a few arrays, and each ticket's run of them is cut
	// out of one, rather than a slice grown per ticket: a pass loads the
	// alerts of a thousand tickets. A full array is not copied: the next
	// one, twice its size up to one row per ticket, takes the current run.
	// Runs are capped at their length, so appending to one ticket's rows
	// copies them rather than overwriting the next ticket's. A ticket whose
	// rows come in more than one run (the queries order by ticket, so none
	// should) gets them all.
	var (
		all  []T
		cur  string
		from int
	)
	cut := func() {
		if len(all) == from {
			return
		}
		run := all[from:len(all):len(all)]
		if prev, ok := out[cur]; ok {
			run = append(prev, run...)
		}
		out[cur], from = run, len(all)
	}
	if err := eachRow(ctx, q, scan, func(v T) {
		if id := ticket(v); id != cur {
			cut()
			cur = id
		}
		if all == nil {
			out = make(map[string][]T, len(ids)) // rows come: most of the tickets have some
		}
		if len(all) == cap(all) {
			run := all[from:]
			next := make([]T, 0, max(min(2*cap(all), len(ids)), 16, 2*len(run)))
			all, from = append(next, run...), 0
		}
		all = append(all, v)
	}, query, encode(ids)); err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	cut()
	return out, nil
}

// alertedIDs returns the ids of the tickets that have alerts: every
// recorded alert raised its ticket's escalation level, so level 0 means
// none, and their alerts need not be read.
func alertedIDs(tickets []*watchdog.Ticket) []string {
	var ids []string
	for _, t := range tickets {
		if t.EscalationLevel > 0 {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// DashboardTimelines fills the timelines and alerts of a dashboard page
// when its query asks for clocks (watchdog.DashboardQuery.Clocks).
func (l *Loaders) DashboardTimelines(ctx context.Context, q Queryer, dq watchdog.DashboardQuery, page []*watchdog.Ticket) error {
	if !dq.Clocks {
		return nil
	}
	return l.Fill(ctx, q, page)
}
