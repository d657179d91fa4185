package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// EvaluateDue claims up to limit tickets due at now, calls plan for each and
// records the new alerts with their deliveries, in one transaction. The
// writer lock is held from the claim to the commit, so the alerts loaded for
// plan are all there are and a stage is recorded once. See watchdog.Store.
func (s *Store) EvaluateDue(ctx context.Context, now time.Time, limit int, plan watchdog.PlanFunc) ([]watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	return s.evaluateDue(ctx, s.inWrite, now, limit, plan, nil)
}

// evaluateDue is EvaluateDue, taking first the tickets of pre (read and
// planned before, when not nil) that nothing has written since, in a write
// transaction that write runs (s.inWrite, or s.writeHeld for a caller that
// holds the gate).
func (s *Store) evaluateDue(ctx context.Context, write func(context.Context, string, func(*sql.Tx) error) error,
	now time.Time, limit int, plan watchdog.PlanFunc, pre *preloaded) ([]watchdog.Alert, error) {
	var f firing
	if err := write(ctx, "evaluate due", func(tx *sql.Tx) error {
		f = firing{}
		due, err := s.claimDue(ctx, tx, now, limit, pre)
		if err != nil {
			return err
		}
		ids := make([]string, len(due))
		for i, t := range due {
			ids[i] = t.ID
		}
		s.noteTickets(ids)
		if err := s.planAll(ctx, tx, due, func(t *watchdog.Ticket) watchdog.Plan {
			p := plan(t)
			f.add(t, p, now)
			return p
		}); err != nil {
			return err
		}
		if err := s.insertAlerts(ctx, tx, f.alerts); err != nil {
			return err
		}
		if err := s.insertDeliveries(ctx, tx, &f); err != nil {
			return fmt.Errorf("insert deliveries: %w", err)
		}
		return supersede(ctx, tx, f.supersede)
	}); err != nil {
		return nil, err
	}
	s.handoffs.Add(f.handed.List)
	s.feed.publish(f.alerts)
	return f.alerts, nil
}

// claimDue returns up to limit tickets due at now, loaded for planning:
// first those of pre that nothing has written since its read (as read),
// then others due, read within tx, oldest due first.
func (s *Store) claimDue(ctx context.Context, tx *sql.Tx, now time.Time, limit int, pre *preloaded) ([]*watchdog.Ticket, error) {
	if pre == nil {
		due, err := sqlstore.QueryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+
			" FROM tickets WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?", micros(now), limit)
		if err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
		return due, loaders.FillPlan(ctx, tx, due)
	}
	valid, skip, err := s.claimPreloaded(ctx, tx, pre)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	need := limit - len(valid)
	if need <= 0 {
		return valid, nil
	}
	// Reading rowids walks the index alone; only the rows taken are read.
	var rowids idList[int64]
	if err := sqlstore.EachRow(ctx, tx, "SELECT rowid FROM tickets WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?",
		func(rows *sql.Rows) error {
			var r int64
			if err := rows.Scan(&r); err != nil {
				return err
			}
			if len(rowids) < need && !skip(r) {
				rowids = append(rowids, r)
			}
			return nil
		}, micros(now), limit+s.inputs.reservedCount()); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if len(rowids) == 0 {
		return valid, nil
	}
	more, err := sqlstore.QueryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+" FROM tickets WHERE rowid IN "+inIDs, rowids)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	if err := loaders.FillPlan(ctx, tx, more); err != nil {
		return nil, err
	}
	return append(valid, more...), nil
}

// planEach loads the timelines, alerts and outcomes of tickets and plans
// them (planAll).
func (s *Store) planEach(ctx context.Context, tx *sql.Tx, tickets []*watchdog.Ticket, plan func(t *watchdog.Ticket) watchdog.Plan) error {
	if len(tickets) == 0 {
		return nil
	}
	if err := loaders.FillPlan(ctx, tx, tickets); err != nil {
		return err
	}
	return s.planAll(ctx, tx, tickets, plan)
}

// planAll calls plan for each of tickets, loaded (stopping as soon as the
// caller gives up: a plan may take a while), and stores the columns and
// outcomes the plans changed.
func (s *Store) planAll(ctx context.Context, tx *sql.Tx, tickets []*watchdog.Ticket, plan func(t *watchdog.Ticket) watchdog.Plan) error {
	if len(tickets) == 0 {
		return nil
	}
	changes := snapshot(tickets)
	var outcomes sqlstore.OutcomeWrites
	for _, t := range tickets {
		if err := ctx.Err(); err != nil {
			return err
		}
		outcomes.Add(applyPlan(t, plan(t)))
	}
	if err := s.writeOutcomes(ctx, tx, outcomes); err != nil {
		return err
	}
	return s.updateTickets(ctx, tx, changes)
}

// firing collects the alerts an evaluation records, with the deliveries
// to enqueue for each.
type firing struct {
	alerts  []watchdog.Alert
	targets [][]sqlstore.Target // per alert
	// supersede are earlier deliveries the plans supersede.
	supersede []watchdog.DeliveryRef
	// handed are the hand-off rows of the deliveries handed off (see
	// handoff.go).
	handed sqlstore.HandoffList
}

// add records the alerts of plan p for ticket t that t has not recorded.
func (f *firing) add(t *watchdog.Ticket, p watchdog.Plan, now time.Time) {
	f.supersede = append(f.supersede, p.Supersede...)
	alerts := sqlstore.NewAlerts(t, p.Alerts, now)
	if len(alerts) == 0 {
		return
	}
	for _, a := range alerts {
		f.alerts = append(f.alerts, a)
		f.targets = append(f.targets, sqlstore.TargetsFor(p, a, now))
	}
}

// insertDeliveries enqueues the deliveries of the alerts f records (inserted
// already) and sets them on the alerts, in notifier name order. Their ids
// follow the highest in use, which the writer lock keeps, and the
// deliveries set on the alerts are built from the rows written, as a read
// of them gives. Those handed off get a hand-off row instead (see
// handoff.go).
func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, f *firing) error {
	type row struct {
		alert  int
		target sqlstore.Target
	}
	var rows []row
	for i := range f.alerts {
		for _, t := range f.targets[i] {
			rows = append(rows, row{i, t})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	next, err := lastDeliveryID(ctx, tx)
	if err != nil {
		return err
	}
	ds := make([]watchdog.Delivery, len(rows))
	var written []int // rows not handed off
	for i, r := range rows {
		next++
		ds[i] = r.target.Row(next, &f.alerts[r.alert])
		if r.target.Claimed {
			f.handed.Add(r.target, next, ds[i].AlertID) // its row is written with its outcome
		} else {
			written = append(written, i)
		}
	}
	if len(written) > 0 {
		if err := s.bulkExec(ctx, tx, "INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, status, held_until) VALUES", "", 7, len(written),
			func(i int, args []any) []any {
				d := &ds[written[i]]
				return append(args, d.ID, d.AlertID, d.Notifier, micros(d.NextAttemptAt), d.Attempts, string(d.Status), nullMicros(d.HeldUntil))
			}); err != nil {
			return err
		}
	}
	if err := insertHandoffs(ctx, tx, f.handed.List); err != nil {
		return err
	}
	for i, r := range rows {
		a := &f.alerts[r.alert]
		a.Deliveries = append(a.Deliveries, sqlstore.Returned(ds[i]))
	}
	for i := range f.alerts {
		slices.SortFunc(f.alerts[i].Deliveries, func(a, b watchdog.Delivery) int { return strings.Compare(a.Notifier, b.Notifier) })
	}
	return nil
}

// lastID returns the highest id in table (0 when empty). Under the writer
// lock, the rows inserted next may take the ids after it.
func lastID(ctx context.Context, tx *sql.Tx, table string) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM "+table).Scan(&id); err != nil {
		return 0, fmt.Errorf("last %s id: %w", table, err)
	}
	return id, nil
}

// insertAlerts inserts alerts in multi-row statements, their ids following
// the table's highest, and sets their IDs. A stage recorded already fails
// the insert (the unique key), and with it the transaction.
func (s *Store) insertAlerts(ctx context.Context, tx *sql.Tx, alerts []watchdog.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	next, err := lastID(ctx, tx, "alerts")
	if err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	for i := range alerts {
		next++
		alerts[i].ID = next
	}
	if err := s.bulkExec(ctx, tx, "INSERT INTO alerts (id, ticket_id, clock, stage, cycle, state, due_at, fired_at, escalation_level, "+
		"priority, customer_tier, target_ns, elapsed_ns, details, cycle_ordinal, cycle_started_at, policy, acknowledged_by) VALUES", "", 18, len(alerts),
		func(i int, args []any) []any {
			a := &alerts[i]
			return append(args, a.ID, a.TicketID, string(a.SLAClock), a.Stage, a.Key().Cycle, a.State, micros(a.DueAt), micros(a.FiredAt),
				a.EscalationLevel, a.Priority, a.CustomerTier, int64(a.Target), int64(a.Elapsed), a.Message,
				a.Cycle, nullMicros(a.CycleStartedAt), a.Policy, a.AcknowledgedBy)
		}); err != nil {
		return fmt.Errorf("insert alerts: %w", err)
	}
	return nil
}

// Replan calls plan for up to limit open tickets with id > after, in id
// order, and stores the derived columns (not alerts). See watchdog.Store.
func (s *Store) Replan(ctx context.Context, after string, limit int, plan watchdog.PlanFunc) (string, int, error) {
	if err := s.check(ctx); err != nil {
		return after, 0, err
	}
	if limit <= 0 {
		return after, 0, nil
	}
	var page []*watchdog.Ticket
	if err := s.inWrite(ctx, "replan", func(tx *sql.Tx) (err error) {
		page, err = sqlstore.QueryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+" FROM tickets WHERE open AND id > ? ORDER BY id LIMIT ?", after, limit)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		return s.planEach(ctx, tx, page, plan)
	}); err != nil {
		return after, 0, err
	}
	if len(page) == 0 {
		return after, 0, nil
	}
	return page[len(page)-1].ID, len(page), nil
}

// supersede marks the named deliveries superseded when they are still
// pending, never attempted and unclaimed.
func supersede(ctx context.Context, tx *sql.Tx, refs []watchdog.DeliveryRef) error {
	for _, r := range refs {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'superseded'
			WHERE alert_id = ? AND notifier = ? AND status = 'pending' AND attempts = 0 AND holder IS NULL`, r.AlertID, r.Notifier); err != nil {
			return fmt.Errorf("supersede deliveries: %w", err)
		}
	}
	return nil
}
