// Package sqlstore is the half of a SQL watchdog.Store that does not depend
// on the SQL dialect: the rules of the watchdog.Store contract that
// store/sqlite and store/postgres apply alike (merging an Ingest batch with
// watchdog.Ticket.Merge, recording a plan's alerts and deliveries, checking
// delivery outcomes) and reading rows with database/sql. Each store keeps
// its own SQL.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ticket-watchdog/watchdog"
)

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner = interface{ Scan(dest ...any) error }

// Queryer is what reads need from a pool, a connection or a transaction.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryAll runs query and scans every row with scan.
func QueryAll[T any](ctx context.Context, q Queryer, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryByTicket runs query, scans every row with scan and groups the values
// by the ticket id that ticket reads from each, keeping the query's order.
func queryByTicket[T any](ctx context.Context, q Queryer, scan func(Scanner) (T, error), ticket func(T) string, query string, args ...any) (map[string][]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]T)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		id := ticket(v)
		out[id] = append(out[id], v)
	}
	return out, rows.Err()
}

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
	// IDs passes a list of ids as the one parameter.
	IDs func(ids []string) any
}

// Timelines reads the timelines of the tickets ids, by ticket id.
func (l *Loaders) Timelines(ctx context.Context, q Queryer, ids []string) (map[string][]watchdog.Event, error) {
	return load(ctx, q, l, "timelines", l.TimelinesSQL, l.ScanEvent, func(e watchdog.Event) string { return e.ID }, ids)
}

// Alerts reads the alerts of the tickets ids, by ticket id.
func (l *Loaders) Alerts(ctx context.Context, q Queryer, ids []string) (map[string][]watchdog.Alert, error) {
	return load(ctx, q, l, "alerts", l.AlertsSQL, l.ScanAlert, func(a watchdog.Alert) string { return a.TicketID }, ids)
}

func load[T any](ctx context.Context, q Queryer, l *Loaders, what, query string, scan func(Scanner) (T, error), ticket func(T) string, ids []string) (map[string][]T, error) {
	if len(ids) == 0 {
		return map[string][]T{}, nil
	}
	out, err := queryByTicket(ctx, q, scan, ticket, query, l.IDs(ids))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	return out, nil
}

// Fill loads the timelines and alerts of tickets into them.
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
	alerts, err := l.Alerts(ctx, q, AlertedIDs(tickets))
	if err != nil {
		return err
	}
	for _, t := range tickets {
		t.Events, t.Alerts = timelines[t.ID], alerts[t.ID]
	}
	return nil
}
