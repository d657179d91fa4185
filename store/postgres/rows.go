package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// This file holds the row types: how each table's rows are read (scan*,
// loaders) and written in batches (*Rows, parallel arrays for unnest), and
// the value conversions they share.

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

// ---- tickets ----------------------------------------------------------------

const ticketCols = `id, priority, customer_tier, status, created_at, updated_at, first_response_at,
	escalation_level, sla_state, untracked_reason, open, next_due_at, breach_at, backfilled_at, policy, attributes, tags,
	sla_calendar, open_clocks, response_breach_at, resolution_breach_at`

// ticketColsT is ticketCols qualified by the alias t, for joins.
const ticketColsT = `t.id, t.priority, t.customer_tier, t.status, t.created_at, t.updated_at, t.first_response_at,
	t.escalation_level, t.sla_state, t.untracked_reason, t.open, t.next_due_at, t.breach_at, t.backfilled_at,
	t.policy, t.attributes, t.tags, t.sla_calendar, t.open_clocks, t.response_breach_at, t.resolution_breach_at`

// ticketScan holds the destinations of one tickets row (ticketCols).
type ticketScan struct {
	t                    watchdog.Ticket
	fr, next, brch, back sql.NullTime
	respB, resB          sql.NullTime
	state                string
	attrs, tags          sql.NullString
	clocks               int
}

func (s *ticketScan) Dest() []any {
	t := &s.t
	return []any{&t.ID, &t.Priority, &t.CustomerTier, &t.Status, &t.CreatedAt, &t.UpdatedAt, &s.fr,
		&t.EscalationLevel, &s.state, &t.Untracked, &t.Open, &s.next, &s.brch, &s.back, &t.Policy, &s.attrs, &s.tags,
		&t.OpenClocks.Calendar, &s.clocks, &s.respB, &s.resB}
}

func (s *ticketScan) Value() (*watchdog.Ticket, error) {
	t := new(watchdog.Ticket)
	*t = s.t
	var err error
	if t.Attributes, t.Tags, err = sqlstore.DecodeExtras(s.attrs, s.tags); err != nil {
		return nil, err
	}
	t.OpenClocks.Response, t.OpenClocks.Resolution = s.clocks&1 != 0, s.clocks&2 != 0
	t.OpenClocks.ResponseBreachAt, t.OpenClocks.ResolutionBreachAt = nullTime(s.respB), nullTime(s.resB)
	t.CreatedAt = t.CreatedAt.UTC()
	t.UpdatedAt = t.UpdatedAt.UTC()
	t.FirstResponseAt = nullTime(s.fr)
	t.State = watchdog.TicketState(s.state)
	t.NextDueAt = nullTime(s.next)
	t.BreachAt = nullTime(s.brch)
	t.BackfilledAt = nullTime(s.back)
	return t, nil
}

var ticketScans = sqlstore.NewScanPool(func() *ticketScan { return new(ticketScan) })

func scanTicket(sc sqlstore.Scanner) (*watchdog.Ticket, error) { return ticketScans.Scan(sc) }

// queryTickets runs a query selecting ticketCols.
func queryTickets(ctx context.Context, q queryer, query string, args ...any) ([]*watchdog.Ticket, error) {
	return sqlstore.QueryAll(ctx, q, scanTicket, query, args...)
}

// applyPlan copies a plan's ticket columns onto t, at stored precision,
// and returns the outcome rows the plan changes (its open clocks go on t's
// row).
func applyPlan(t *watchdog.Ticket, p watchdog.Plan) sqlstore.OutcomeWrites {
	t.State = p.State
	t.Untracked = p.Untracked
	t.Open = p.Open
	t.NextDueAt = usPtr(p.NextDueAt)
	t.BreachAt = usPtr(p.BreachAt)
	t.BackfilledAt = usPtr(p.BackfilledAt)
	t.Policy = p.Policy
	_, oc := watchdog.SplitOutcomes(p.Outcomes)
	oc.ResponseBreachAt, oc.ResolutionBreachAt = usPtr(oc.ResponseBreachAt), usPtr(oc.ResolutionBreachAt)
	t.OpenClocks = oc
	return sqlstore.ChangedOutcomes(t.Outcomes, p.Outcomes)
}

// ticketRows are ticket columns as parallel arrays for unnest.
type ticketRows struct {
	id, priority, tier, status, state, untracked []string
	policy, attrs, tags                          []string // "" for NULL
	created, updated, fr, next, breach, back     timeArray
	open                                         []bool
	level                                        []int64
	calendar                                     []string
	clocks                                       []int64
	respBreach, resBreach                        timeArray
}

// add adds every column of t, the arrays args passes.
func (r *ticketRows) add(t *watchdog.Ticket) {
	r.addDerived(t)
	r.priority = append(r.priority, t.Priority)
	r.tier = append(r.tier, t.CustomerTier)
	r.status = append(r.status, t.Status)
	r.created = append(r.created, ptr(t.CreatedAt))
	r.updated = append(r.updated, ptr(t.UpdatedAt))
	r.fr = append(r.fr, t.FirstResponseAt)
	r.attrs = append(r.attrs, sqlstore.EncodeAttributes(t.Attributes))
	r.tags = append(r.tags, sqlstore.EncodeTags(t.Tags))
}

func (r *ticketRows) args() []any {
	return []any{pq.StringArray(r.id), pq.StringArray(r.priority), pq.StringArray(r.tier), pq.StringArray(r.status),
		r.created, r.updated, r.fr, pq.StringArray(r.state), pq.StringArray(r.untracked), pq.BoolArray(r.open),
		r.next, r.breach, r.back, pq.StringArray(r.policy), pq.StringArray(r.attrs), pq.StringArray(r.tags),
		pq.StringArray(r.calendar), pq.Int64Array(r.clocks), r.respBreach, r.resBreach}
}

// addDerived adds t's derived columns only, the arrays derivedArgs
// passes: a pass that updates them need not encode the rest (a ticket's
// attributes and tags as JSON text) for every ticket it fires.
func (r *ticketRows) addDerived(t *watchdog.Ticket) {
	r.id = append(r.id, t.ID)
	r.state = append(r.state, string(t.State))
	r.untracked = append(r.untracked, t.Untracked)
	r.open = append(r.open, t.Open)
	r.next = append(r.next, t.NextDueAt)
	r.breach = append(r.breach, t.BreachAt)
	r.back = append(r.back, t.BackfilledAt)
	r.level = append(r.level, int64(t.EscalationLevel))
	r.policy = append(r.policy, t.Policy)
	oc := &t.OpenClocks
	r.calendar, r.clocks = append(r.calendar, oc.Calendar), append(r.clocks, int64(oc.Mask()))
	r.respBreach, r.resBreach = append(r.respBreach, oc.ResponseBreachAt), append(r.resBreach, oc.ResolutionBreachAt)
}

// addFired adds the columns updateFired passes, the only ones a firing
// changes.
func (r *ticketRows) addFired(t *watchdog.Ticket) {
	r.id = append(r.id, t.ID)
	r.state = append(r.state, string(t.State))
	r.next = append(r.next, t.NextDueAt)
	r.level = append(r.level, int64(t.EscalationLevel))
}

// growFired makes room for n more rows of addFired.
func (r *ticketRows) growFired(n int) {
	r.id, r.state = slices.Grow(r.id, n), slices.Grow(r.state, n)
	r.next, r.level = slices.Grow(r.next, n), slices.Grow(r.level, n)
}

// derivedArgs are the arrays of the derived columns only.
func (r *ticketRows) derivedArgs() []any {
	return []any{pq.StringArray(r.id), pq.StringArray(r.state), pq.StringArray(r.untracked), pq.BoolArray(r.open),
		r.next, r.breach, r.back, pq.Int64Array(r.level), pq.StringArray(r.policy), pq.StringArray(r.calendar),
		pq.Int64Array(r.clocks), r.respBreach, r.resBreach}
}

// ---- ticket_timeline --------------------------------------------------------

func scanEvent(sc sqlstore.Scanner) (watchdog.Event, error) {
	var (
		ev          watchdog.Event
		fr          sql.NullTime
		attrs, tags sql.NullString
	)
	if err := sc.Scan(&ev.ID, &ev.UpdatedAt, &ev.Status, &ev.Priority, &ev.CustomerTier, &ev.CreatedAt, &fr, &attrs, &tags); err != nil {
		return ev, err
	}
	var err error
	if ev.Attributes, ev.Tags, err = sqlstore.DecodeExtras(attrs, tags); err != nil {
		return ev, err
	}
	ev.UpdatedAt = ev.UpdatedAt.UTC()
	ev.CreatedAt = ev.CreatedAt.UTC()
	ev.FirstResponseAt = nullTime(fr)
	return ev, nil
}

// eventRows are timeline rows as parallel arrays for unnest.
type eventRows struct {
	ids, statuses, prios, tiers []string
	updated, created, fr        timeArray
	attrs, tags                 []string // "" for NULL
}

func (r *eventRows) add(evs []watchdog.Event) {
	for i := range evs {
		ev := &evs[i]
		r.ids = append(r.ids, ev.ID)
		r.statuses = append(r.statuses, ev.Status)
		r.prios = append(r.prios, ev.Priority)
		r.tiers = append(r.tiers, ev.CustomerTier)
		r.updated = append(r.updated, &ev.UpdatedAt)
		r.created = append(r.created, &ev.CreatedAt)
		r.fr = append(r.fr, ev.FirstResponseAt)
		r.attrs = append(r.attrs, sqlstore.EncodeAttributes(ev.Attributes))
		r.tags = append(r.tags, sqlstore.EncodeTags(ev.Tags))
	}
}

// insert writes the rows; callers have left out the stored ones.
func (r *eventRows) insert(ctx context.Context, q queryer) error {
	if len(r.ids) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO ticket_timeline
			(ticket_id, updated_at, status, priority, customer_tier, created_at, first_response_at, attributes, tags)
		SELECT i, u, s, p, c, cr, fr, NULLIF(a, ''), NULLIF(tg, '')
		FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
			$8::text[], $9::text[]) AS e(i, u, s, p, c, cr, fr, a, tg)`,
		pq.StringArray(r.ids), r.updated, pq.StringArray(r.statuses), pq.StringArray(r.prios), pq.StringArray(r.tiers),
		r.created, r.fr, pq.StringArray(r.attrs), pq.StringArray(r.tags)); err != nil {
		return raced(fmt.Errorf("insert events: %w", err))
	}
	return nil
}

// ---- alerts -------------------------------------------------------------------

const alertCols = `id, ticket_id, clock, stage, cycle, state, due_at, fired_at, escalation_level,
	priority, customer_tier, target_ns, elapsed_ns, details, cycle_ordinal, cycle_started_at, policy, acknowledged_by`

// alertScan holds the destinations of one alerts row (alertCols).
type alertScan struct {
	a               watchdog.Alert
	clock           string
	target, elapsed int64
	key             int64
	ordinal         int
	started         sql.NullTime
}

func (s *alertScan) Dest() []any {
	a := &s.a
	return []any{&a.ID, &a.TicketID, &s.clock, &a.Stage, &s.key, &a.State, &a.DueAt, &a.FiredAt,
		&a.EscalationLevel, &a.Priority, &a.CustomerTier, &s.target, &s.elapsed, &a.Message, &s.ordinal, &s.started, &a.Policy, &a.AcknowledgedBy}
}

func (s *alertScan) Value() (watchdog.Alert, error) {
	a := s.a
	a.Cycle = int(s.key)
	if s.started.Valid {
		a.Cycle, a.CycleStartedAt = s.ordinal, nullTime(s.started)
	}
	a.SLAClock = watchdog.SLAClock(s.clock)
	a.DueAt = a.DueAt.UTC()
	a.FiredAt = a.FiredAt.UTC()
	a.Target = time.Duration(s.target)
	a.Elapsed = time.Duration(s.elapsed)
	return a, nil
}

var alertScans = sqlstore.NewScanPool(func() *alertScan { return new(alertScan) })

func scanAlert(sc sqlstore.Scanner) (watchdog.Alert, error) { return alertScans.Scan(sc) }

// loaders read what a plan sees of a ticket besides its row.
var loaders = &sqlstore.Loaders{
	TimelinesSQL: `SELECT ticket_id, updated_at, status, priority, customer_tier, created_at, first_response_at, attributes, tags
		FROM ticket_timeline WHERE ticket_id = ANY($1) ORDER BY ticket_id, updated_at`,
	ScanEvent:  scanEvent,
	EventOnRow: true,
	AlertsSQL: `SELECT ` + alertCols + ` FROM alerts
		WHERE ticket_id = ANY($1) ORDER BY ticket_id, fired_at, id`,
	ScanAlert: scanAlert,
	MessagesSQL: `SELECT ticket_id, at, author FROM ticket_messages
		WHERE ticket_id = ANY($1) ORDER BY ticket_id, at, author = 'agent'`,
	ScanMessage: scanMessage,
	AcksSQL:     `SELECT ` + ackCols + ` FROM acks WHERE ticket_id = ANY($1) ORDER BY ticket_id, clock`,
	ScanAck:     scanAck,
	OutcomesSQL: `SELECT ` + sqlstore.OutcomeCols + ` FROM sla_outcomes
		WHERE ticket_id = ANY($1) ORDER BY ticket_id, sla_type, cycle`,
	ScanOutcome: scanOutcome,
	IDs:         func(ids []string) any { return pq.StringArray(ids) },
}

// writeLoaders are loaders for write transactions: the same statements,
// each marked so that its text differs from the reads' and prepared (see
// preparedSQL), since a cached plan follows the settings of the
// transaction that made it.
var writeLoaders = func() *sqlstore.Loaders {
	l := *loaders
	for _, q := range []*string{&l.TimelinesSQL, &l.AlertsSQL, &l.MessagesSQL, &l.AcksSQL, &l.OutcomesSQL} {
		*q = prepared("/* write */ " + *q)
	}
	return &l
}()

func scanMessage(sc sqlstore.Scanner) (sqlstore.TicketMessage, error) {
	var m sqlstore.TicketMessage
	if err := sc.Scan(&m.TicketID, &m.At, &m.Author); err != nil {
		return m, err
	}
	m.At = m.At.UTC()
	return m, nil
}

// messageRows are ticket_messages rows as parallel arrays for unnest.
type messageRows struct {
	ids, authors []string
	at           timeArray
}

func (r *messageRows) add(id string, msgs []watchdog.Message) {
	for i := range msgs {
		r.ids = append(r.ids, id)
		r.authors = append(r.authors, msgs[i].Author)
		r.at = append(r.at, ptr(us(msgs[i].At)))
	}
}

// insert writes the rows; callers hold the tickets' locks and have left
// out the stored ones.
func (r *messageRows) insert(ctx context.Context, q queryer) error {
	if len(r.ids) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, insertMessagesSQL, pq.StringArray(r.ids), r.at, pq.StringArray(r.authors)); err != nil {
		return raced(fmt.Errorf("insert messages: %w", err))
	}
	return nil
}

var insertMessagesSQL = prepared(`INSERT INTO ticket_messages (ticket_id, at, author)
	SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[])`)

// ---- values -------------------------------------------------------------------

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
	b := make([]byte, 0, len(a)*30+2)
	b = append(b, '{')
	for i, t := range a {
		if i > 0 {
			b = append(b, ',')
		}
		if t == nil {
			b = append(b, "NULL"...)
			continue
		}
		b = appendTimestamp(b, *t)
	}
	b = append(b, '}')
	return string(b), nil
}

func ptr[T any](v T) *T { return &v }

// storableText is s as PostgreSQL text can hold it: a text value cannot
// hold a NUL byte or bytes that are not UTF-8, and a notifier's error
// message (a destination's response, say) may have either.
func storableText(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
}

// literalQuery is query with each placeholder $n replaced by the n-th of
// args as a literal (strings quoted by the driver), for a statement sent in
// one query string with others, which cannot carry parameters. An arg is a
// string, an int, an int64, a time.Time or a driver.Valuer giving one of
// those or nil (lib/pq's arrays give their literal as a string). A string
// with a NUL byte is refused: the query string is sent NUL-terminated, and
// PostgreSQL's text cannot hold one anyway. query's own text must not hold
// a $ followed by a digit other than its placeholders.
func literalQuery(query string, args ...any) (string, error) {
	lits := make([]string, len(args))
	for i, a := range args {
		if v, ok := a.(driver.Valuer); ok {
			var err error
			if a, err = v.Value(); err != nil {
				return "", err
			}
		}
		switch v := a.(type) {
		case nil:
			lits[i] = "NULL"
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return "", fmt.Errorf("literal $%d: a NUL byte", i+1)
			}
			lits[i] = pq.QuoteLiteral(v)
		case int:
			lits[i] = strconv.Itoa(v)
		case int64:
			lits[i] = strconv.FormatInt(v, 10)
		case time.Time:
			lits[i] = "'" + string(appendTimestamp(nil, v)) + "'"
		default:
			return "", fmt.Errorf("literal $%d: unexpected %T", i+1, v)
		}
	}
	size := len(query)
	for _, l := range lits {
		size += len(l)
	}
	var b strings.Builder
	b.Grow(size) // the arrays of a recording are tens of KiB: one buffer, not a doubling series
	for i := 0; i < len(query); i++ {
		if query[i] != '$' || i+1 == len(query) || query[i+1] < '0' || query[i+1] > '9' {
			b.WriteByte(query[i])
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(query[i+1 : j])
		if err != nil || n < 1 || n > len(lits) {
			return "", fmt.Errorf("placeholder %s without a value", query[i:j])
		}
		b.WriteString(lits[n-1])
		i = j - 1
	}
	return b.String(), nil
}
