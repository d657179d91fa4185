package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// Column lists, in the order the scan functions read them.
const (
	ticketCols   = "id, priority, customer_tier, status, created_at, updated_at, first_response_at, escalation_level, sla_state, untracked_reason, open, next_due_at, breach_at, backfilled_at, policy, attributes, tags, sla_calendar, open_clocks, response_breach_at, resolution_breach_at"
	eventCols    = "ticket_id, updated_at, status, priority, customer_tier, created_at, first_response_at, attributes, tags"
	alertCols    = "id, ticket_id, clock, stage, cycle, state, due_at, fired_at, escalation_level, priority, customer_tier, target_ns, elapsed_ns, details, cycle_ordinal, cycle_started_at, policy, acknowledged_by"
	messageCols  = "ticket_id, at, author"
	deliveryCols = "id, alert_id, notifier, status, attempts, next_attempt_at, last_error, delivered_at, held_until"
)

// inIDs is the constant-text way to pass a list of ids: one JSON array
// parameter, expanded by json_each, so the statement is prepared once.
const inIDs = "(SELECT value FROM json_each(?))"

// idList passes a list of ids as one JSON array parameter, for inIDs.
type idList[T string | int64] []T

// Value implements driver.Valuer.
func (l idList[T]) Value() (driver.Value, error) {
	b, err := json.Marshal([]T(l))
	if err != nil {
		return nil, fmt.Errorf("encode id list: %w", err)
	}
	return string(b), nil
}

// ticketScan holds the destinations of one tickets row (ticketCols).
type ticketScan struct {
	t                                      watchdog.Ticket
	created, updated                       int64
	firstResp, nextDue, breach, backfilled sql.NullInt64
	respBreach, resBreach                  sql.NullInt64
	state                                  string
	open, clocks                           int
	attrs, tags                            sql.NullString
}

func (s *ticketScan) Dest() []any {
	t := &s.t
	return []any{&t.ID, &t.Priority, &t.CustomerTier, &t.Status, &s.created, &s.updated, &s.firstResp,
		&t.EscalationLevel, &s.state, &t.Untracked, &s.open, &s.nextDue, &s.breach, &s.backfilled, &t.Policy, &s.attrs, &s.tags,
		&t.OpenClocks.Calendar, &s.clocks, &s.respBreach, &s.resBreach}
}

func (s *ticketScan) Value() (*watchdog.Ticket, error) {
	t := new(watchdog.Ticket)
	*t = s.t
	var err error
	if t.Attributes, t.Tags, err = sqlstore.DecodeExtras(s.attrs, s.tags); err != nil {
		return nil, err
	}
	t.OpenClocks.Response, t.OpenClocks.Resolution = s.clocks&1 != 0, s.clocks&2 != 0
	t.OpenClocks.ResponseBreachAt, t.OpenClocks.ResolutionBreachAt = fromNullMicros(s.respBreach), fromNullMicros(s.resBreach)
	t.CreatedAt, t.UpdatedAt = fromMicros(s.created), fromMicros(s.updated)
	t.FirstResponseAt = fromNullMicros(s.firstResp)
	t.State = watchdog.TicketState(s.state)
	t.Open = s.open != 0
	t.NextDueAt, t.BreachAt = fromNullMicros(s.nextDue), fromNullMicros(s.breach)
	t.BackfilledAt = fromNullMicros(s.backfilled)
	return t, nil
}

var ticketScans = sqlstore.NewScanPool(func() *ticketScan { return new(ticketScan) })

func scanTicket(sc sqlstore.Scanner) (*watchdog.Ticket, error) { return ticketScans.Scan(sc) }

// eventScan holds the destinations of one ticket_events row (eventCols).
type eventScan struct {
	e                watchdog.Event
	updated, created int64
	firstResp        sql.NullInt64
	attrs, tags      sql.NullString
}

func (s *eventScan) Dest() []any {
	e := &s.e
	return []any{&e.ID, &s.updated, &e.Status, &e.Priority, &e.CustomerTier, &s.created, &s.firstResp, &s.attrs, &s.tags}
}

func (s *eventScan) Value() (watchdog.Event, error) {
	e := s.e
	var err error
	if e.Attributes, e.Tags, err = sqlstore.DecodeExtras(s.attrs, s.tags); err != nil {
		return e, err
	}
	e.UpdatedAt, e.CreatedAt = fromMicros(s.updated), fromMicros(s.created)
	e.FirstResponseAt = fromNullMicros(s.firstResp)
	return e, nil
}

var eventScans = sqlstore.NewScanPool(func() *eventScan { return new(eventScan) })

func scanEvent(sc sqlstore.Scanner) (watchdog.Event, error) { return eventScans.Scan(sc) }

// alertScan holds the destinations of one alerts row (alertCols).
type alertScan struct {
	a               watchdog.Alert
	clock           string
	due, fired      int64
	target, elapsed int64
	key             int64
	ordinal         int
	started         sql.NullInt64
}

func (s *alertScan) Dest() []any {
	a := &s.a
	return []any{&a.ID, &a.TicketID, &s.clock, &a.Stage, &s.key, &a.State, &s.due, &s.fired,
		&a.EscalationLevel, &a.Priority, &a.CustomerTier, &s.target, &s.elapsed, &a.Message, &s.ordinal, &s.started, &a.Policy, &a.AcknowledgedBy}
}

func (s *alertScan) Value() (watchdog.Alert, error) {
	a := s.a
	a.Cycle = int(s.key)
	if s.started.Valid {
		a.Cycle, a.CycleStartedAt = s.ordinal, fromNullMicros(s.started)
	}
	a.SLAClock = watchdog.SLAClock(s.clock)
	a.DueAt, a.FiredAt = fromMicros(s.due), fromMicros(s.fired)
	a.Target, a.Elapsed = time.Duration(s.target), time.Duration(s.elapsed)
	return a, nil
}

var alertScans = sqlstore.NewScanPool(func() *alertScan { return new(alertScan) })

func scanAlert(sc sqlstore.Scanner) (watchdog.Alert, error) { return alertScans.Scan(sc) }

func scanDelivery(sc sqlstore.Scanner) (watchdog.Delivery, error) {
	var (
		d         watchdog.Delivery
		status    string
		next      int64
		delivered sql.NullInt64
		held      sql.NullInt64
	)
	if err := sc.Scan(&d.ID, &d.AlertID, &d.Notifier, &status, &d.Attempts, &next, &d.LastError, &delivered, &held); err != nil {
		return d, err
	}
	d.Status = watchdog.DeliveryStatus(status)
	if d.Status == watchdog.DeliveryPending {
		d.NextAttemptAt = fromMicros(next)
	}
	d.DeliveredAt = fromNullMicros(delivered)
	d.HeldUntil = fromNullMicros(held)
	return d, nil
}

// loaders read what a plan sees of a ticket besides its row.
var loaders = &sqlstore.Loaders{
	TimelinesSQL: "SELECT " + eventCols + " FROM ticket_events WHERE ticket_id IN " + inIDs + " ORDER BY ticket_id, updated_at",
	ScanEvent:    scanEvent,
	AlertsSQL:    "SELECT " + alertCols + " FROM alerts WHERE ticket_id IN " + inIDs + " ORDER BY ticket_id, fired_at, id",
	ScanAlert:    scanAlert,
	MessagesSQL: "SELECT " + messageCols + " FROM ticket_messages WHERE ticket_id IN " + inIDs +
		" ORDER BY ticket_id, at, author = 'agent'",
	ScanMessage: scanMessage,
	AcksSQL:     "SELECT " + ackCols + " FROM acks WHERE ticket_id IN " + inIDs + " ORDER BY ticket_id, clock",
	ScanAck:     scanAck,
	OutcomesSQL: "SELECT " + sqlstore.OutcomeCols + " FROM sla_outcomes WHERE ticket_id IN " + inIDs + " ORDER BY ticket_id, sla_type, cycle",
	ScanOutcome: scanOutcome,
	IDs:         func(ids []string) any { return idList[string](ids) },
}

func scanMessage(sc sqlstore.Scanner) (sqlstore.TicketMessage, error) {
	var (
		m  sqlstore.TicketMessage
		at int64
	)
	if err := sc.Scan(&m.TicketID, &at, &m.Author); err != nil {
		return m, err
	}
	m.At = fromMicros(at)
	return m, nil
}

// applyPlan copies the plan's derived columns into t, and returns the
// outcome rows the plan changes (its open clocks go on t's row).
func applyPlan(t *watchdog.Ticket, p watchdog.Plan) sqlstore.OutcomeWrites {
	t.State, t.Untracked, t.Open, t.NextDueAt, t.BreachAt = p.State, p.Untracked, p.Open, p.NextDueAt, p.BreachAt
	t.BackfilledAt = p.BackfilledAt
	t.Policy = p.Policy
	_, t.OpenClocks = watchdog.SplitOutcomes(p.Outcomes)
	return sqlstore.ChangedOutcomes(t.Outcomes, p.Outcomes)
}

// ticketCol is a column of tickets that a write may change.
type ticketCol struct {
	name string
	get  func(t *watchdog.Ticket) any
}

// mutableCols are the columns of tickets other than id.
var mutableCols = []ticketCol{
	{"priority", func(t *watchdog.Ticket) any { return t.Priority }},
	{"customer_tier", func(t *watchdog.Ticket) any { return t.CustomerTier }},
	{"status", func(t *watchdog.Ticket) any { return t.Status }},
	{"created_at", func(t *watchdog.Ticket) any { return micros(t.CreatedAt) }},
	{"updated_at", func(t *watchdog.Ticket) any { return micros(t.UpdatedAt) }},
	{"first_response_at", func(t *watchdog.Ticket) any { return nullMicros(t.FirstResponseAt) }},
	{"escalation_level", func(t *watchdog.Ticket) any { return t.EscalationLevel }},
	{"sla_state", func(t *watchdog.Ticket) any { return string(t.State) }},
	{"untracked_reason", func(t *watchdog.Ticket) any { return t.Untracked }},
	{"open", func(t *watchdog.Ticket) any { return boolInt(t.Open) }},
	{"next_due_at", func(t *watchdog.Ticket) any { return nullMicros(t.NextDueAt) }},
	{"breach_at", func(t *watchdog.Ticket) any { return nullMicros(t.BreachAt) }},
	{"backfilled_at", func(t *watchdog.Ticket) any { return nullMicros(t.BackfilledAt) }},
	{"policy", func(t *watchdog.Ticket) any { return t.Policy }},
	{"attributes", func(t *watchdog.Ticket) any { return sqlstore.NullText(sqlstore.EncodeAttributes(t.Attributes)) }},
	{"tags", func(t *watchdog.Ticket) any { return sqlstore.NullText(sqlstore.EncodeTags(t.Tags)) }},
	{"sla_calendar", func(t *watchdog.Ticket) any { return t.OpenClocks.Calendar }},
	{"open_clocks", func(t *watchdog.Ticket) any { return t.OpenClocks.Mask() }},
	{"response_breach_at", func(t *watchdog.Ticket) any { return nullMicros(t.OpenClocks.ResponseBreachAt) }},
	{"resolution_breach_at", func(t *watchdog.Ticket) any { return nullMicros(t.OpenClocks.ResolutionBreachAt) }},
}

// change is a stored ticket row before and after a write.
type change struct{ old, new *watchdog.Ticket }

// updateTickets writes the columns that differ between each change's old
// and new row. Tickets are grouped by the set of columns they change and
// each group is written with multi-row UPDATE ... FROM (VALUES ...)
// statements that set only those columns: SQLite rewrites only the indexes
// over the columns a statement sets, and most writes change a column or two
// of a row with five indexes.
func (s *Store) updateTickets(ctx context.Context, tx *sql.Tx, changes []change) error {
	groups := map[uint32][]*watchdog.Ticket{}
	var masks []uint32
	for _, c := range changes {
		var mask uint32
		for i, col := range mutableCols {
			if col.get(c.old) != col.get(c.new) {
				mask |= 1 << i
			}
		}
		if mask == 0 {
			continue
		}
		if _, ok := groups[mask]; !ok {
			masks = append(masks, mask)
		}
		groups[mask] = append(groups[mask], c.new)
	}
	for _, mask := range masks {
		var cols []ticketCol
		var set []string
		for i, col := range mutableCols {
			if mask&(1<<i) != 0 {
				cols = append(cols, col)
				set = append(set, fmt.Sprintf("%s = v.column%d", col.name, len(cols)+1))
			}
		}
		head := "UPDATE tickets SET " + strings.Join(set, ", ") + " FROM (VALUES"
		const tail = ") AS v WHERE tickets.id = v.column1"
		tickets := groups[mask]
		if err := s.bulkExec(ctx, tx, head, tail, len(cols)+1, len(tickets), func(i int, args []any) []any {
			t := tickets[i]
			args = append(args, t.ID)
			for _, col := range cols {
				args = append(args, col.get(t))
			}
			return args
		}); err != nil {
			return fmt.Errorf("update tickets: %w", err)
		}
	}
	return nil
}

// snapshot returns copies of the tickets' rows (without timelines), to
// compare with after a write.
func snapshot(tickets []*watchdog.Ticket) []change {
	out := make([]change, len(tickets))
	for i, t := range tickets {
		c := *t
		c.Events, c.Alerts = nil, nil
		out[i] = change{old: &c, new: t}
	}
	return out
}
