package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
)

// queryer is what reads need from a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

var (
	_ queryer = (*sqlx.DB)(nil)
	_ queryer = (*sqlx.Tx)(nil)
)

const ticketCols = `id, priority, customer_tier, status, created_at, updated_at, first_response_at,
	escalation_level, sla_state, untracked_reason, open, next_due_at, breach_at`

// ticketColsT is ticketCols qualified by the alias t, for joins.
const ticketColsT = `t.id, t.priority, t.customer_tier, t.status, t.created_at, t.updated_at, t.first_response_at,
	t.escalation_level, t.sla_state, t.untracked_reason, t.open, t.next_due_at, t.breach_at`

func scanTicket(sc interface{ Scan(...any) error }) (*watchdog.Ticket, error) {
	var (
		t              watchdog.Ticket
		fr, next, brch sql.NullTime
		state          string
	)
	if err := sc.Scan(&t.ID, &t.Priority, &t.CustomerTier, &t.Status, &t.CreatedAt, &t.UpdatedAt, &fr,
		&t.EscalationLevel, &state, &t.Untracked, &t.Open, &next, &brch); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.UpdatedAt = t.UpdatedAt.UTC()
	t.FirstResponseAt = nullTime(fr)
	t.State = watchdog.TicketState(state)
	t.NextDueAt = nullTime(next)
	t.BreachAt = nullTime(brch)
	return &t, nil
}

// queryTickets runs a query selecting ticketCols.
func queryTickets(ctx context.Context, q queryer, query string, args ...any) ([]*watchdog.Ticket, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*watchdog.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// loadTimelines reads the events of ids, each ticket's in updated_at order.
func loadTimelines(ctx context.Context, q queryer, ids []string) (map[string][]watchdog.Event, error) {
	out := make(map[string][]watchdog.Event, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT ticket_id, updated_at, status, priority, customer_tier, created_at, first_response_at
		FROM ticket_events WHERE ticket_id = ANY($1) ORDER BY ticket_id, updated_at`, pq.StringArray(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ev watchdog.Event
			fr sql.NullTime
		)
		if err := rows.Scan(&ev.ID, &ev.UpdatedAt, &ev.Status, &ev.Priority, &ev.CustomerTier, &ev.CreatedAt, &fr); err != nil {
			return nil, err
		}
		ev.UpdatedAt = ev.UpdatedAt.UTC()
		ev.CreatedAt = ev.CreatedAt.UTC()
		ev.FirstResponseAt = nullTime(fr)
		out[ev.ID] = append(out[ev.ID], ev)
	}
	return out, rows.Err()
}

const alertCols = `id, ticket_id, clock, stage, cycle, state, due_at, fired_at, escalation_level,
	priority, customer_tier, target_ns, elapsed_ns, details`

// alertScan holds the destinations of one alerts row (alertCols).
type alertScan struct {
	a               watchdog.Alert
	clock           string
	target, elapsed int64
}

func (s *alertScan) dest() []any {
	a := &s.a
	return []any{&a.ID, &a.TicketID, &s.clock, &a.Stage, &a.Cycle, &a.State, &a.DueAt, &a.FiredAt,
		&a.EscalationLevel, &a.Priority, &a.CustomerTier, &s.target, &s.elapsed, &a.Details}
}

func (s *alertScan) alert() watchdog.Alert {
	a := s.a
	a.SLAClock = watchdog.SLAClock(s.clock)
	a.DueAt = a.DueAt.UTC()
	a.FiredAt = a.FiredAt.UTC()
	a.Target = time.Duration(s.target)
	a.Elapsed = time.Duration(s.elapsed)
	return a
}

func scanAlert(sc interface{ Scan(...any) error }) (watchdog.Alert, error) {
	var as alertScan
	if err := sc.Scan(as.dest()...); err != nil {
		return watchdog.Alert{}, err
	}
	return as.alert(), nil
}

// loadAlerts reads the alerts of ids, each ticket's oldest first.
func loadAlerts(ctx context.Context, q queryer, ids []string) (map[string][]watchdog.Alert, error) {
	out := make(map[string][]watchdog.Alert)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+alertCols+` FROM alerts
		WHERE ticket_id = ANY($1) ORDER BY ticket_id, fired_at, id`, pq.StringArray(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out[a.TicketID] = append(out[a.TicketID], a)
	}
	return out, rows.Err()
}

func nullTime(nt sql.NullTime) *time.Time {
	if !nt.Valid {
		return nil
	}
	t := nt.Time.UTC()
	return &t
}

// us truncates t to the microsecond, the precision PostgreSQL keeps, in UTC,
// so that values returned to callers equal what a later read gives.
func us(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

func usPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := us(*t)
	return &v
}

// timeArray encodes times as a PostgreSQL array literal for $n::timestamptz[];
// nil elements become NULL. Times are written to the microsecond, in UTC.
type timeArray []*time.Time

// Value implements driver.Valuer.
func (a timeArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.Grow(len(a)*30 + 2)
	b.WriteByte('{')
	for i, t := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if t == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteString(t.UTC().Format("2006-01-02T15:04:05.999999Z"))
	}
	b.WriteByte('}')
	return b.String(), nil
}

func ptr[T any](v T) *T { return &v }
