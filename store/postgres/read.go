package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// Ticket returns one ticket with its timeline and its alerts, each with its
// deliveries, read in one snapshot. An unknown id gives watchdog.ErrNotFound.
func (s *Store) Ticket(ctx context.Context, id string) (*watchdog.Ticket, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	t, err := s.ticket(ctx, id)
	if err != nil {
		return nil, s.fail(ctx, "ticket "+strconv.Quote(truncate(id)), err)
	}
	return t, nil
}

func (s *Store) ticket(ctx context.Context, id string) (*watchdog.Ticket, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets WHERE id = $1`, id))
	if err != nil {
		return nil, err // sql.ErrNoRows becomes ErrNotFound
	}
	if err := loaders.Fill(ctx, tx, []*watchdog.Ticket{t}); err != nil {
		return nil, err
	}
	if len(t.Alerts) > 0 {
		byAlert := make(map[int64]int, len(t.Alerts))
		alertIDs := make([]int64, len(t.Alerts))
		for i, a := range t.Alerts {
			byAlert[a.ID] = i
			alertIDs[i] = a.ID
		}
		ds, err := sqlstore.QueryAll(ctx, tx, scanDelivery, `SELECT `+deliveryCols+` FROM deliveries
			WHERE alert_id = ANY($1) ORDER BY alert_id, id`, pq.Int64Array(alertIDs))
		if err != nil {
			return nil, fmt.Errorf("load deliveries: %w", err)
		}
		for _, d := range ds {
			a := &t.Alerts[byAlert[d.AlertID]]
			a.Deliveries = append(a.Deliveries, d)
		}
		if err := sqlstore.WithHandedOff(ctx, tx, t.Alerts, byAlert, func(a, b watchdog.Delivery) int { return cmp.Compare(a.ID, b.ID) }, handedOffOf); err != nil {
			return nil, err
		}
	}
	return t, tx.Commit()
}

// Dashboard returns one page of tickets matching q and the number of
// matching tickets, both from one snapshot.
func (s *Store) Dashboard(ctx context.Context, q watchdog.DashboardQuery) ([]*watchdog.Ticket, int, error) {
	if err := s.check(ctx); err != nil {
		return nil, 0, err
	}
	if err := q.Validate(); err != nil {
		return nil, 0, fmt.Errorf("postgres: dashboard: %w", err)
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch q.State {
	case "alert":
		where = append(where, "sla_state IN ('alert', 'breach')")
	case "ok", "breach", "untracked":
		where = append(where, "sla_state = "+arg(q.State))
	}
	if q.Tier != "" {
		where = append(where, "lower(customer_tier) = lower("+arg(q.Tier)+")")
	}
	if q.Priority != "" {
		where = append(where, "lower(priority) = lower("+arg(q.Priority)+")")
	}
	if q.Policy != "" {
		where = append(where, "policy = "+arg(q.Policy))
	}
	if q.Open != nil {
		where = append(where, "open = "+arg(*q.Open))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY created_at DESC, id"
	if q.Order == watchdog.OrderUrgency {
		order = " ORDER BY breach_at ASC NULLS LAST, id"
	}

	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, 0, s.fail(ctx, "dashboard", err)
	}
	defer tx.Rollback()
	countSQL, countArgs := "SELECT count(*) FROM tickets"+cond, args
	if q.CountLimit > 0 {
		countArgs = append(append([]any(nil), args...), q.CountLimit+1)
		countSQL = "SELECT count(*) FROM (SELECT 1 FROM tickets" + cond + " LIMIT $" + strconv.Itoa(len(countArgs)) + ") AS matching"
	}
	var total int
	if err := tx.QueryRowContext(ctx, countSQL, countArgs...).Scan(&total); err != nil {
		return nil, 0, s.fail(ctx, "dashboard: count", err)
	}
	page := []*watchdog.Ticket{}
	// A capped count says nothing about rows past the cap.
	if total > q.Offset || q.CountLimit > 0 && total > q.CountLimit {
		lim, off := arg(q.Limit), arg(q.Offset)
		page, err = queryTickets(ctx, tx, "SELECT "+ticketCols+" FROM tickets"+cond+order+" LIMIT "+lim+" OFFSET "+off, args...)
		if err != nil {
			return nil, 0, s.fail(ctx, "dashboard: page", err)
		}
		if page == nil {
			page = []*watchdog.Ticket{}
		}
	}
	if err := loaders.DashboardTimelines(ctx, tx, q, page); err != nil {
		return nil, 0, s.fail(ctx, "dashboard: timelines", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, s.fail(ctx, "dashboard", err)
	}
	return page, total, nil
}

// Alerts returns recorded alerts newest first; see watchdog.Store.
func (s *Store) Alerts(ctx context.Context, q watchdog.AlertsQuery) ([]watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: alerts: %w", err)
	}
	out, err := sqlstore.RecentAlerts(ctx, s.db, scanAlert, `SELECT `+alertCols+` FROM alerts WHERE id > $1 AND id < $2 ORDER BY id DESC LIMIT $3`, q)
	if err != nil {
		return nil, s.fail(ctx, "alerts", err)
	}
	return out, nil
}

// NextDue returns the earliest scheduled due instant, read from the end of
// the tickets' due index.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	return s.earliest(ctx, "next due", `SELECT next_due_at FROM tickets
		WHERE next_due_at IS NOT NULL ORDER BY next_due_at LIMIT 1`)
}

// NextDelivery returns the earliest next_attempt_at of notifier's pending
// deliveries, read from the end of its index, or the earliest backstop of
// its hand-offs (see handoff.go) if that is sooner.
func (s *Store) NextDelivery(ctx context.Context, notifier string) (time.Time, bool, error) {
	return s.earliest(ctx, "next delivery", `(SELECT next_attempt_at FROM deliveries
		WHERE status = 'pending' AND notifier = $1 ORDER BY next_attempt_at LIMIT 1)
		UNION ALL (SELECT until FROM delivery_handoffs WHERE notifier = $1 ORDER BY until LIMIT 1)
		ORDER BY 1 LIMIT 1`, notifier)
}

var _ watchdog.DeliveryLookahead = (*Store)(nil)

// NextDeliveryBefore is NextDelivery within a window: its scan of the
// pending index ends at before, short of the dead entries sent handed-off
// deliveries leave at their backstop; see watchdog.DeliveryLookahead.
func (s *Store) NextDeliveryBefore(ctx context.Context, notifier string, before time.Time) (time.Time, bool, error) {
	return s.earliest(ctx, "next delivery", `(SELECT next_attempt_at FROM deliveries
		WHERE status = 'pending' AND notifier = $1 AND next_attempt_at < $2 ORDER BY next_attempt_at LIMIT 1)
		UNION ALL (SELECT until FROM delivery_handoffs WHERE notifier = $1 AND until < $2 ORDER BY until LIMIT 1)
		ORDER BY 1 LIMIT 1`, notifier, us(before))
}

// earliest reads the instant query selects, if it selects a row.
func (s *Store) earliest(ctx context.Context, op, query string, args ...any) (time.Time, bool, error) {
	if err := s.check(ctx); err != nil {
		return time.Time{}, false, err
	}
	var at time.Time
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, s.fail(ctx, op, err)
	}
	return at.UTC(), true, nil
}

// truncate shortens an id for error messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

var _ watchdog.OpenTicketCounter = (*Store)(nil)

// CountOpenTickets counts the open tickets by state with one statement;
// see watchdog.OpenTicketCounter.
func (s *Store) CountOpenTickets(ctx context.Context) (map[watchdog.TicketState]int, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	counts, err := sqlstore.CountOpenTickets(ctx, s.db, sqlstore.CountOpenTicketsSQL)
	if err != nil {
		return nil, s.fail(ctx, "count open tickets", err)
	}
	return counts, nil
}
