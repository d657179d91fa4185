package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// Ticket returns one ticket with its timeline and its alerts (oldest first),
// each with its deliveries, read in one snapshot. An unknown id gives an
// error matching watchdog.ErrNotFound.
func (s *Store) Ticket(ctx context.Context, id string) (*watchdog.Ticket, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(ctx, "ticket: begin", err)
	}
	defer tx.Rollback()
	t, err := scanTicket(tx.QueryRowContext(ctx, "SELECT "+ticketCols+" FROM tickets WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: ticket %q: %w", id, watchdog.ErrNotFound)
	}
	if err != nil {
		return nil, s.wrap(ctx, "ticket", err)
	}
	if t.Events, err = sqlstore.QueryAll(ctx, tx, scanEvent,
		"SELECT "+eventCols+" FROM ticket_events WHERE ticket_id = ? ORDER BY updated_at", id); err != nil {
		return nil, s.wrap(ctx, "ticket: events", err)
	}
	msgs, err := loaders.Messages(ctx, tx, []string{id})
	if err != nil {
		return nil, s.wrap(ctx, "ticket: messages", err)
	}
	t.Messages = msgs[id]
	if t.Alerts, err = sqlstore.QueryAll(ctx, tx, scanAlert,
		"SELECT "+alertCols+" FROM alerts WHERE ticket_id = ? ORDER BY fired_at, id", id); err != nil {
		return nil, s.wrap(ctx, "ticket: alerts", err)
	}
	if t.Acks, err = sqlstore.QueryAll(ctx, tx, scanAck,
		"SELECT "+ackCols+" FROM acks WHERE ticket_id = ? ORDER BY clock", id); err != nil {
		return nil, s.wrap(ctx, "ticket: acks", err)
	}
	if len(t.Alerts) > 0 {
		ds, err := sqlstore.QueryAll(ctx, tx, scanDelivery, "SELECT d."+strings.ReplaceAll(deliveryCols, ", ", ", d.")+
			" FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE a.ticket_id = ? ORDER BY d.id", id)
		if err != nil {
			return nil, s.wrap(ctx, "ticket: deliveries", err)
		}
		at := make(map[int64]int, len(t.Alerts))
		for i, a := range t.Alerts {
			at[a.ID] = i
		}
		for _, d := range ds {
			a := &t.Alerts[at[d.AlertID]]
			a.Deliveries = append(a.Deliveries, d)
		}
		if err := sqlstore.WithHandedOff(ctx, tx, t.Alerts, at, func(a, b watchdog.Delivery) int { return cmp.Compare(a.ID, b.ID) }, handedOffOf); err != nil {
			return nil, s.wrap(ctx, "ticket", err)
		}
	}
	return t, nil
}

// Dashboard returns a page of tickets and the number matching the filters
// (up to q.CountLimit+1 when set), read in one snapshot. Tier and priority
// match case-insensitively.
func (s *Store) Dashboard(ctx context.Context, q watchdog.DashboardQuery) ([]*watchdog.Ticket, int, error) {
	if err := s.check(ctx); err != nil {
		return nil, 0, err
	}
	if err := q.Validate(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: dashboard: %w", err)
	}
	cond, args := dashboardWhere(q)
	countSQL := "SELECT count(*) FROM tickets" + cond
	countArgs := args
	if q.CountLimit > 0 {
		countSQL = "SELECT count(*) FROM (SELECT 1 FROM tickets" + cond + " LIMIT ?)"
		countArgs = append(append([]any(nil), args...), q.CountLimit+1)
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, s.wrap(ctx, "dashboard: begin", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, countSQL, countArgs...).Scan(&total); err != nil {
		return nil, 0, s.wrap(ctx, "dashboard: count", err)
	}
	pageSQL, pageArgs := dashboardPage(q, cond, args)
	page, err := sqlstore.QueryAll(ctx, tx, scanTicket, pageSQL, pageArgs...)
	if err == nil {
		err = loaders.DashboardTimelines(ctx, tx, q, page)
	}
	if err != nil {
		return nil, 0, s.wrap(ctx, "dashboard", err)
	}
	if page == nil {
		page = []*watchdog.Ticket{}
	}
	return page, total, nil
}

// dashboardWhere is the dashboard's filter as a WHERE clause ("" for none)
// and its arguments.
func dashboardWhere(q watchdog.DashboardQuery) (string, []any) {
	var (
		where []string
		args  []any
	)
	switch q.State {
	case "ok", "breach", "untracked":
		where, args = append(where, "sla_state = ?"), append(args, q.State)
	case "alert":
		where = append(where, "sla_state IN ('alert', 'breach')")
	}
	if q.Tier != "" {
		where, args = append(where, "customer_tier = ?"), append(args, q.Tier)
	}
	if q.Priority != "" {
		where, args = append(where, "priority = ?"), append(args, q.Priority)
	}
	if q.Policy != "" {
		where, args = append(where, "policy = ?"), append(args, q.Policy)
	}
	if q.Open != nil {
		// Written as the partial index's condition so that it can be used.
		if *q.Open {
			where = append(where, "open")
		} else {
			where = append(where, "NOT open")
		}
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// dashboardPage is the query of one page. The urgency order puts tickets
// without a breach instant last; SQLite would sort every matching row for
// "breach_at IS NULL, breach_at", so the two parts are read in index order
// separately, each no further than the page's end, and only those rows
// are sorted.
func dashboardPage(q watchdog.DashboardQuery, cond string, args []any) (string, []any) {
	if q.Order != watchdog.OrderUrgency {
		return "SELECT " + ticketCols + " FROM tickets" + cond + " ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
			append(append([]any(nil), args...), q.Limit, q.Offset)
	}
	and := " WHERE "
	if cond != "" {
		and = cond + " AND "
	}
	end := q.Limit + q.Offset
	sql := "SELECT " + ticketCols + " FROM (" +
		"SELECT * FROM (SELECT " + ticketCols + ", 0 AS undated FROM tickets" + and + "breach_at IS NOT NULL ORDER BY breach_at, id LIMIT ?)" +
		" UNION ALL " +
		"SELECT * FROM (SELECT " + ticketCols + ", 1 AS undated FROM tickets" + and + "breach_at IS NULL ORDER BY id LIMIT ?)" +
		") ORDER BY undated, breach_at, id LIMIT ? OFFSET ?"
	out := append(append([]any(nil), args...), end)
	out = append(append(out, args...), end)
	return sql, append(out, q.Limit, q.Offset)
}

// Alerts returns recorded alerts newest first; see watchdog.Store.
func (s *Store) Alerts(ctx context.Context, q watchdog.AlertsQuery) ([]watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", err)
	}
	out, err := sqlstore.RecentAlerts(ctx, s.r, scanAlert, "SELECT "+alertCols+" FROM alerts WHERE id > ? AND id < ? ORDER BY id DESC LIMIT ?", q)
	if err != nil {
		return nil, s.wrap(ctx, "alerts", err)
	}
	return out, nil
}

// NextDue returns the earliest next_due_at of any ticket.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	return s.minTime(ctx, "next due", "SELECT min(next_due_at) FROM tickets WHERE next_due_at IS NOT NULL")
}

// NextDelivery returns the earliest next attempt of any pending delivery to
// notifier, or the earliest backstop of its hand-offs if sooner.
func (s *Store) NextDelivery(ctx context.Context, notifier string) (time.Time, bool, error) {
	return s.minTime(ctx, "next delivery",
		`SELECT min(at) FROM (SELECT min(next_attempt_at) AS at FROM deliveries WHERE notifier = ?1 AND status = 'pending'
			UNION ALL SELECT min(until) FROM delivery_handoffs WHERE notifier = ?1)`, notifier)
}

var _ watchdog.DeliveryLookahead = (*Store)(nil)

// NextDeliveryBefore is NextDelivery within a window; see
// watchdog.DeliveryLookahead.
func (s *Store) NextDeliveryBefore(ctx context.Context, notifier string, before time.Time) (time.Time, bool, error) {
	return s.minTime(ctx, "next delivery",
		`SELECT min(at) FROM (SELECT min(next_attempt_at) AS at FROM deliveries WHERE notifier = ?1 AND status = 'pending' AND next_attempt_at < ?2
			UNION ALL SELECT min(until) FROM delivery_handoffs WHERE notifier = ?1 AND until < ?2)`, notifier, micros(before))
}

func (s *Store) minTime(ctx context.Context, op, query string, args ...any) (time.Time, bool, error) {
	if err := s.check(ctx); err != nil {
		return time.Time{}, false, err
	}
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, query, args...).Scan(&v); err != nil {
		return time.Time{}, false, s.wrap(ctx, op, err)
	}
	if !v.Valid {
		return time.Time{}, false, nil
	}
	return fromMicros(v.Int64), true, nil
}

var _ watchdog.OpenTicketCounter = (*Store)(nil)

// openStates are the states the engine writes, which countOpenSQL counts.
var openStates = []watchdog.TicketState{watchdog.TicketOK, watchdog.TicketAlert, watchdog.TicketBreach, watchdog.TicketUntracked}

// countOpenSQL counts the open tickets, and those in each of openStates,
// with one read of the table from end to end (NOT INDEXED) into one row.
// Left to itself, SQLite walks tickets_state_created_idx for a grouping by
// state and looks every ticket up in the table to test open: a random read
// per stored ticket, three seconds of a reader at a million tickets, at
// every scrape of /metrics once the count's cache ran out. Read in the
// table's order it takes 0.4 s there, but grouped by state (GROUP BY) it
// sorts every open ticket's state first, in memory (temp_store): 18 MB more
// at the server's peak in the lateness runs at a million stored tickets.
// Counting each state as the rows go by sorts nothing. An index of the
// open tickets' states would take 0.09 s, but it is one more index for
// every firing to rewrite on the one writer: three times the burst came
// out later with it (Slack p99 3,065 and 3,474 ms against 2,834 and 2,908
// without it).
var countOpenSQL = func() string {
	cols := make([]string, len(openStates))
	for i, st := range openStates {
		cols[i] = fmt.Sprintf(", count(*) FILTER (WHERE sla_state = '%s')", st)
	}
	return "SELECT count(*)" + strings.Join(cols, "") + " FROM tickets NOT INDEXED WHERE open"
}()

// countOpenGroupedSQL counts the open tickets by state whatever the
// states, for a store that holds one outside openStates (written by
// another version): right, but at the cost of the sort.
const countOpenGroupedSQL = "SELECT sla_state, count(*) FROM tickets NOT INDEXED WHERE open GROUP BY sla_state"

// CountOpenTickets counts the open tickets by state with one statement
// (countOpenSQL), and a second (countOpenGroupedSQL) only when some open
// tickets are in a state outside openStates; see
// watchdog.OpenTicketCounter.
func (s *Store) CountOpenTickets(ctx context.Context) (map[watchdog.TicketState]int, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	n := make([]int, 1+len(openStates))
	dest := make([]any, len(n))
	for i := range n {
		dest[i] = &n[i]
	}
	if err := s.r.QueryRowContext(ctx, countOpenSQL).Scan(dest...); err != nil {
		return nil, s.wrap(ctx, "count open tickets", err)
	}
	counts := make(map[watchdog.TicketState]int, len(openStates))
	known := 0
	for i, st := range openStates {
		if c := n[1+i]; c > 0 {
			counts[st] = c
			known += c
		}
	}
	if known == n[0] {
		return counts, nil
	}
	counts, err := sqlstore.CountOpenTickets(ctx, s.r, countOpenGroupedSQL)
	if err != nil {
		return nil, s.wrap(ctx, "count open tickets", err)
	}
	return counts, nil
}
