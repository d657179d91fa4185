package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// EvaluateDue claims up to limit due tickets (FOR UPDATE SKIP LOCKED, so
// concurrent evaluators share the work), plans them, and records their new
// alerts, escalation bumps, deliveries and columns in one transaction. The
// recorded alerts are published with NOTIFY in that transaction, so every
// process's subscribers see them once it commits.
func (s *Store) EvaluateDue(ctx context.Context, now time.Time, limit int, plan watchdog.PlanFunc) ([]watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	channel, err := s.alertChannel(ctx)
	if err != nil {
		return nil, err
	}
	var out []watchdog.Alert
	if err := rerun(ctx, func() (err error) {
		out, err = s.evaluateOnce(ctx, us(now), limit, plan, channel)
		return err
	}); err != nil {
		return nil, s.fail(ctx, "evaluate due", err)
	}
	var due time.Time
	for i := range out {
		for _, d := range out[i].Deliveries {
			if d.Status == watchdog.DeliveryPending && (due.IsZero() || d.NextAttemptAt.Before(due)) {
				due = d.NextAttemptAt
			}
		}
	}
	if !due.IsZero() {
		s.floors.lower(due)
	}
	s.publishLocal(out)
	return out, nil
}

func (s *Store) evaluateOnce(ctx context.Context, now time.Time, limit int, plan watchdog.PlanFunc, channel string) ([]watchdog.Alert, error) {
	tx, err := s.beginCopyPlanned(ctx, claimPlans)
	if err != nil {
		return nil, err
	}
	defer tx.end()
	claimed, err := claimDue(ctx, tx, now, limit)
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	e := evaluation{now: now, plans: map[string]watchdog.Plan{}}
	// Most claimed tickets fire one stage: room for that many alerts up
	// front, rather than a list of large values grown by copying.
	e.alerts.list = make([]watchdog.Alert, 0, len(claimed))
	e.fired.growFired(len(claimed))
	for _, t := range claimed {
		e.add(t, plan(t))
	}
	if err := e.write(ctx, tx, s.origin, channel); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	s.handoffs.Add(e.handed.List)
	return e.alerts.list, nil
}

// claimSQL locks up to $2 tickets due at $1, in due order; see claimDue.
const claimSQL = `SELECT ` + ticketColsT + `
	FROM tickets t WHERE t.next_due_at <= $1
	ORDER BY t.next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED`

// claimDue locks up to limit tickets due at now, with their timelines and
// alerts. The transaction must have begun with claimPlans.
func claimDue(ctx context.Context, tx queryer, now time.Time, limit int) ([]*watchdog.Ticket, error) {
	// The partial index on next_due_at gives the due tickets in order, and
	// LIMIT counts only the rows locked, so concurrent evaluators take
	// disjoint sets. A ticket another evaluator commits while this scan runs
	// is fetched again at its new version when locked, and the condition is
	// checked again on it, so a ticket just fired (and moved on) is not taken
	// and uselessly replanned.
	claimed, err := queryTickets(ctx, tx, claimSQL, now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim due tickets: %w", err)
	}
	if _, err := tx.ExecContext(ctx, afterPlans); err != nil {
		return nil, fmt.Errorf("claim due tickets: %w", err)
	}
	if err := loaders.FillPlan(ctx, tx, claimed); err != nil {
		return nil, err
	}
	return claimed, nil
}

// evaluation collects the writes of an EvaluateDue transaction, each kind
// written with one statement.
type evaluation struct {
	now  time.Time
	rows ticketRows
	// fired are the tickets whose plan changed only the columns a firing
	// changes (see otherDerivedChanged), written with a narrower statement.
	fired  ticketRows
	alerts alertRows
	plans  map[string]watchdog.Plan // by ticket id: its alerts' deliveries
	// supersede are earlier deliveries the plans supersede.
	supersede []watchdog.DeliveryRef
	outs      outcomeRows
	// handed are the hand-off rows of the deliveries handed off (see
	// handoff.go).
	handed sqlstore.HandoffList
}

// add records the writes of plan p for the claimed ticket t.
func (e *evaluation) add(t *watchdog.Ticket, p watchdog.Plan) {
	before := *t
	for _, a := range sqlstore.NewAlerts(t, p.Alerts, e.now) {
		e.alerts.add(a)
	}
	if len(p.Notifiers) > 0 || p.Routed != nil {
		e.plans[t.ID] = p
	}
	e.supersede = append(e.supersede, p.Supersede...)
	e.outs.add(applyPlan(t, p))
	t.Events, t.Alerts, t.Outcomes = nil, nil, nil
	switch {
	case otherDerivedChanged(&before, t):
		e.rows.addDerived(t)
	case firedChanged(&before, t):
		e.fired.addFired(t)
	}
}

// write stores the alerts with their deliveries, publishes them, and stores
// the tickets' columns.
func (e *evaluation) write(ctx context.Context, q *copyTx, origin, channel string) error {
	if len(e.alerts.list) > 0 {
		if q.conn != nil {
			if err := e.copyAlerts(ctx, q); err != nil {
				return err
			}
		} else {
			if err := e.alerts.insert(ctx, q); err != nil {
				return err
			}
			if err := insertOutbox(ctx, q, e.alerts.list, e.plans, e.now); err != nil {
				return err
			}
		}
		payloads := noticePayloads(origin, e.alerts.list)
		if _, err := q.ExecContext(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`,
			channel, pq.StringArray(payloads)); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	if err := supersede(ctx, q, e.supersede); err != nil {
		return err
	}
	if err := updateDerived(ctx, q, &e.rows, true); err != nil {
		return err
	}
	if err := updateFired(ctx, q, &e.fired); err != nil {
		return err
	}
	return e.outs.write(ctx, q)
}

// insertOutbox enqueues the deliveries of freshly recorded alerts and sets
// them on the alerts, in notifier name order.
func insertOutbox(ctx context.Context, q queryer, alerts []watchdog.Alert, plans map[string]watchdog.Plan, now time.Time) error {
	var (
		dAlert    []int64
		dName     []string
		dAt       timeArray
		dHeld     timeArray
		dStatus   []string
		dAttempts []int64
		dHolder   []string          // "" for none
		index     = map[int64]int{} // alert id → position in alerts
	)
	for i := range alerts {
		a := &alerts[i]
		index[a.ID] = i
		p, ok := plans[a.TicketID]
		if !ok {
			continue
		}
		for _, n := range sqlstore.TargetsFor(p, *a, now) {
			dAlert, dName, dStatus = append(dAlert, a.ID), append(dName, n.Notifier), append(dStatus, string(n.Status))
			at := n.At(a.FiredAt)
			dAt = append(dAt, &at)
			if n.HeldUntil.IsZero() {
				dHeld = append(dHeld, nil)
			} else {
				dHeld = append(dHeld, &n.HeldUntil)
			}
			if n.Claimed {
				dAttempts, dHolder = append(dAttempts, 1), append(dHolder, n.Holder)
			} else {
				dAttempts, dHolder = append(dAttempts, 0), append(dHolder, "")
			}
		}
	}
	if len(dAlert) == 0 {
		return nil
	}
	// The alerts are new in this transaction, so every row inserts.
	ds, err := sqlstore.QueryAll(ctx, q, scanDelivery, `INSERT INTO deliveries (alert_id, notifier, next_attempt_at, attempts, holder, status, held_until)
		SELECT u.a, u.n, u.t, u.c, NULLIF(u.h, ''), u.s, u.held
		FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::text[], $7::timestamptz[]) AS u(a, n, t, c, h, s, held)
		RETURNING `+deliveryCols,
		pq.Int64Array(dAlert), pq.StringArray(dName), dAt, pq.Int64Array(dAttempts), pq.StringArray(dHolder), pq.StringArray(dStatus), dHeld)
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	for _, d := range ds {
		if i, ok := index[d.AlertID]; ok {
			alerts[i].Deliveries = append(alerts[i].Deliveries, d)
		}
	}
	for i := range alerts {
		slices.SortFunc(alerts[i].Deliveries, func(a, b watchdog.Delivery) int { return strings.Compare(a.Notifier, b.Notifier) })
	}
	return nil
}

// derivedChanged reports whether a plan changed any column updateDerived
// writes, so that unchanged tickets are not rewritten at all.
func derivedChanged(before, after *watchdog.Ticket) bool {
	return firedChanged(before, after) || otherDerivedChanged(before, after)
}

// firedChanged reports whether a plan changed any of the columns firing a
// stage changes: the state, the next due instant and the escalation level.
func firedChanged(before, after *watchdog.Ticket) bool {
	return before.State != after.State || before.EscalationLevel != after.EscalationLevel ||
		!sqlstore.SameInstant(before.NextDueAt, after.NextDueAt)
}

// otherDerivedChanged reports whether a plan changed any derived column but
// those firedChanged compares. For most tickets of a burst it did not.
func otherDerivedChanged(before, after *watchdog.Ticket) bool {
	return before.Untracked != after.Untracked || before.Open != after.Open ||
		!sqlstore.SameInstant(before.BreachAt, after.BreachAt) || !sqlstore.SameInstant(before.BackfilledAt, after.BackfilledAt) ||
		before.Policy != after.Policy || !sameOpenClocks(before.OpenClocks, after.OpenClocks)
}

// updateFired stores the columns firedChanged compares of rows. It sends
// four arrays where updateDerived sends thirteen: PostgreSQL parses every
// element of each (five of them timestamps), and the ticket update is the
// costliest statement of a burst of firings. With 1,000 rows on 300,000
// tickets with the tickets' indexes, 13.0 ms a statement against 15.0
// (twenty of each, alternated, on a 2-CPU AMD EPYC).
func updateFired(ctx context.Context, q queryer, rows *ticketRows) error {
	if len(rows.id) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `UPDATE tickets t SET
			sla_state = u.sla_state, next_due_at = u.next_due_at, escalation_level = u.escalation_level
		FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[]) AS u(id, sla_state, next_due_at, escalation_level)
		WHERE t.id = u.id`, pq.StringArray(rows.id), pq.StringArray(rows.state), rows.next, pq.Int64Array(rows.level)); err != nil {
		return fmt.Errorf("update fired tickets: %w", err)
	}
	return nil
}

func sameOpenClocks(a, b watchdog.OpenClocks) bool {
	return a.Calendar == b.Calendar && a.Mask() == b.Mask() &&
		sqlstore.SameInstant(a.ResponseBreachAt, b.ResponseBreachAt) && sqlstore.SameInstant(a.ResolutionBreachAt, b.ResolutionBreachAt)
}

// updateDerived stores the derived columns (and the escalation level when
// withLevel) of rows.
func updateDerived(ctx context.Context, q queryer, rows *ticketRows, withLevel bool) error {
	if len(rows.id) == 0 {
		return nil
	}
	level := "t.escalation_level"
	if withLevel {
		level = "u.escalation_level"
	}
	if _, err := q.ExecContext(ctx, `UPDATE tickets t SET
			sla_state = u.sla_state, untracked_reason = u.untracked_reason, open = u.open,
			next_due_at = u.next_due_at, breach_at = u.breach_at, backfilled_at = u.backfilled_at,
			escalation_level = `+level+`, policy = u.policy, sla_calendar = u.sla_calendar, open_clocks = u.open_clocks,
			response_breach_at = u.response_breach_at, resolution_breach_at = u.resolution_breach_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[], $6::timestamptz[],
			$7::timestamptz[], $8::int[], $9::text[], $10::text[], $11::smallint[], $12::timestamptz[], $13::timestamptz[])
			AS u(id, sla_state, untracked_reason, open, next_due_at, breach_at, backfilled_at, escalation_level,
				policy, sla_calendar, open_clocks, response_breach_at, resolution_breach_at)
		WHERE t.id = u.id`, rows.derivedArgs()...); err != nil {
		return fmt.Errorf("update tickets: %w", err)
	}
	return nil
}

// alertRows collects alerts to insert with one statement.
type alertRows struct {
	list []watchdog.Alert
}

func (r *alertRows) add(a watchdog.Alert) { r.list = append(r.list, a) }

// insert writes the alerts and sets their IDs. Callers hold the tickets'
// row locks and have skipped recorded stages, so every row must insert; a
// conflict means someone recorded alerts without the lock, and the
// escalation levels computed here would be wrong, so it aborts.
func (r *alertRows) insert(ctx context.Context, q queryer) error {
	n := len(r.list)
	var (
		tid, clock, stage, state, prio, tier, details = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ackedBy                                       = make([]string, n)
		cycle, level, target, elapsed                 = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		due, fired                                    = make(timeArray, n), make(timeArray, n)
		ordinal, started, policy                      = make([]int64, n), make(timeArray, n), make([]string, n)
	)
	for i := range r.list {
		a := &r.list[i]
		tid[i], clock[i], stage[i], state[i] = a.TicketID, string(a.SLAClock), a.Stage, a.State
		prio[i], tier[i], details[i], ackedBy[i] = a.Priority, a.CustomerTier, a.Message, a.AcknowledgedBy
		cycle[i], level[i], target[i], elapsed[i] = a.Key().Cycle, int64(a.EscalationLevel), int64(a.Target), int64(a.Elapsed)
		due[i], fired[i] = &a.DueAt, &a.FiredAt
		ordinal[i], started[i], policy[i] = int64(a.Cycle), usPtr(a.CycleStartedAt), a.Policy
	}
	rows, err := q.QueryContext(ctx, `INSERT INTO alerts (ticket_id, clock, stage, cycle, state, due_at, fired_at,
			escalation_level, priority, customer_tier, target_ns, elapsed_ns, details, cycle_ordinal, cycle_started_at, policy, acknowledged_by)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::timestamptz[],
			$8::int[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::text[], $14::int[], $15::timestamptz[], $16::text[], $17::text[])
		ON CONFLICT (ticket_id, clock, stage, cycle) DO NOTHING
		RETURNING id, ticket_id, clock, stage, cycle`,
		pq.StringArray(tid), pq.StringArray(clock), pq.StringArray(stage), pq.Int64Array(cycle), pq.StringArray(state),
		due, fired, pq.Int64Array(level), pq.StringArray(prio), pq.StringArray(tier),
		pq.Int64Array(target), pq.Int64Array(elapsed), pq.StringArray(details),
		pq.Int64Array(ordinal), started, pq.StringArray(policy), pq.StringArray(ackedBy))
	if err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	defer rows.Close()
	type key struct {
		ticket string
		sk     watchdog.StageKey
	}
	ids := make(map[key]int64, n)
	for rows.Next() {
		var (
			id int64
			k  key
			c  string
		)
		if err := rows.Scan(&id, &k.ticket, &c, &k.sk.Stage, &k.sk.Cycle); err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		k.sk.SLAClock = watchdog.SLAClock(c)
		ids[k] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	if len(ids) != n {
		return fmt.Errorf("insert alerts: %d of %d stages were recorded concurrently: %w", n-len(ids), n, watchdog.ErrConflict)
	}
	for i := range r.list {
		r.list[i].ID = ids[key{r.list[i].TicketID, r.list[i].Key()}]
	}
	return nil
}

// Replan stores plan's columns for up to limit open tickets with id > after,
// in id order. Alerts in the plans are ignored.
func (s *Store) Replan(ctx context.Context, after string, limit int, plan watchdog.PlanFunc) (string, int, error) {
	if err := s.check(ctx); err != nil {
		return "", 0, err
	}
	if limit <= 0 {
		return after, 0, nil
	}
	var (
		last string
		n    int
	)
	if err := rerun(ctx, func() (err error) {
		last, n, err = s.replanOnce(ctx, after, limit, plan)
		return err
	}); err != nil {
		return "", 0, s.fail(ctx, "replan", err)
	}
	return last, n, nil
}

func (s *Store) replanOnce(ctx context.Context, after string, limit int, plan watchdog.PlanFunc) (string, int, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return "", 0, err
	}
	defer tx.Rollback()
	tickets, err := queryTickets(ctx, tx, `SELECT `+ticketCols+` FROM tickets
		WHERE open AND id > $1 ORDER BY id LIMIT $2 FOR UPDATE`, after, limit)
	if err != nil {
		return "", 0, fmt.Errorf("select tickets: %w", err)
	}
	if len(tickets) == 0 {
		return after, 0, nil
	}
	if err := loaders.FillPlan(ctx, tx, tickets); err != nil {
		return "", 0, err
	}
	var (
		rows ticketRows
		outs outcomeRows
	)
	for _, t := range tickets {
		before := *t
		outs.add(applyPlan(t, plan(t)))
		t.Events, t.Alerts, t.Outcomes = nil, nil, nil
		if derivedChanged(&before, t) {
			rows.addDerived(t)
		}
	}
	if err := updateDerived(ctx, tx, &rows, false); err != nil {
		return "", 0, err
	}
	if err := outs.write(ctx, tx); err != nil {
		return "", 0, err
	}
	if err := tx.Commit(); err != nil {
		return "", 0, fmt.Errorf("commit: %w", err)
	}
	return tickets[len(tickets)-1].ID, len(tickets), nil
}

// supersede marks the named deliveries superseded when they are still
// pending, never attempted and unclaimed.
func supersede(ctx context.Context, q queryer, refs []watchdog.DeliveryRef) error {
	if len(refs) == 0 {
		return nil
	}
	ids, names := make([]int64, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		ids[i], names[i] = r.AlertID, r.Notifier
	}
	if _, err := q.ExecContext(ctx, `UPDATE deliveries d SET status = 'superseded'
		FROM unnest($1::bigint[], $2::text[]) AS u(a, n)
		WHERE d.alert_id = u.a AND d.notifier = u.n AND d.status = `+stillPending+` AND d.attempts = 0 AND d.holder IS NULL`,
		pq.Int64Array(ids), pq.StringArray(names)); err != nil {
		return fmt.Errorf("supersede deliveries: %w", err)
	}
	return nil
}
