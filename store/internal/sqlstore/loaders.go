package sqlstore

import (
	"context"
	"fmt"

	"github.com/ticket-watchdog/watchdog"
)

// Loaders read what a plan sees of a ticket besides its row, the timelines
// and the alerts of tickets by id, with a store's SQL and scanners.
type Loaders struct {
	// TimelinesSQL selects the ticket_events rows of the tickets whose ids
	// are its one parameter, in ticket and updated_at order, for ScanEvent.
	TimelinesSQL string
	ScanEvent    func(Scanner) (watchdog.Event, error)
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
	// IDs passes a list of ids as the one parameter.
	IDs func(ids []string) any
}

// Timelines reads the timelines of the tickets ids, by ticket id.
func (l *Loaders) Timelines(ctx context.Context, q Queryer, ids []string) (map[string][]watchdog.Event, error) {
	return loadByTicket(ctx, q, "timelines", l.TimelinesSQL, l.IDs, ids, l.ScanEvent, func(e watchdog.Event) string { return e.ID })
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
	timelines, err := l.Timelines(ctx, q, ids)
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
	if err := eachRow(ctx, q, scan, func(v T) {
		id := ticket(v)
		out[id] = append(out[id], v)
	}, query, encode(ids)); err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
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
