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
	var f firing
	if err := s.inWrite(ctx, "evaluate due", func(tx *sql.Tx) error {
		due, err := sqlstore.QueryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+
			" FROM tickets WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?", micros(now), limit)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if err := s.planEach(ctx, tx, due, func(t *watchdog.Ticket) {
			p := plan(t)
			f.add(t, p, now)
			applyPlan(t, p)
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
	s.feed.publish(f.alerts)
	return f.alerts, nil
}

// planEach loads the timelines and alerts of tickets, calls apply for each
// (stopping as soon as the caller gives up: a plan may take a while) and
// stores the columns apply changed.
func (s *Store) planEach(ctx context.Context, tx *sql.Tx, tickets []*watchdog.Ticket, apply func(t *watchdog.Ticket)) error {
	if len(tickets) == 0 {
		return nil
	}
	if err := loaders.Fill(ctx, tx, tickets); err != nil {
		return err
	}
	changes := snapshot(tickets)
	for _, t := range tickets {
		if err := ctx.Err(); err != nil {
			return err
		}
		apply(t)
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
// already) and sets them on the alerts, in notifier name order.
func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, f *firing) error {
	type row struct {
		alert  int
		target sqlstore.Target
	}
	var rows []row
	byID := make(map[int64]int, len(f.alerts))
	for i, a := range f.alerts {
		byID[a.ID] = i
		for _, t := range f.targets[i] {
			rows = append(rows, row{i, t})
		}
	}
	if err := s.bulkQuery(ctx, tx, "INSERT INTO deliveries (alert_id, notifier, next_attempt_at, attempts, holder, status, held_until) VALUES", "RETURNING "+deliveryCols, 7, len(rows),
		func(i int, args []any) []any {
			r := rows[i]
			a := &f.alerts[r.alert]
			var held any
			if !r.target.HeldUntil.IsZero() {
				held = micros(r.target.HeldUntil)
			}
			at := micros(r.target.At(a.FiredAt))
			if r.target.Claimed {
				return append(args, a.ID, r.target.Notifier, at, 1, holderArg(r.target.Holder), string(r.target.Status), held)
			}
			return append(args, a.ID, r.target.Notifier, at, 0, nil, string(r.target.Status), held)
		},
		func(rs *sql.Rows) error {
			d, err := scanDelivery(rs)
			if err != nil {
				return err
			}
			if i, ok := byID[d.AlertID]; ok {
				f.alerts[i].Deliveries = append(f.alerts[i].Deliveries, d)
			}
			return nil
		}); err != nil {
		return err
	}
	for i := range f.alerts {
		slices.SortFunc(f.alerts[i].Deliveries, func(a, b watchdog.Delivery) int { return strings.Compare(a.Notifier, b.Notifier) })
	}
	return nil
}

// insertAlerts inserts alerts in multi-row statements and sets their IDs.
func (s *Store) insertAlerts(ctx context.Context, tx *sql.Tx, alerts []watchdog.Alert) error {
	const cols = 17
	type key struct {
		ticket string
		k      watchdog.StageKey
	}
	index := make(map[key]int, len(alerts))
	for i, a := range alerts {
		index[key{a.TicketID, a.Key()}] = i
	}
	args := make([]any, 0, min(len(alerts), maxChunk)*cols)
	i := 0
	for _, c := range chunks(len(alerts)) {
		st, err := s.stmt(ctx, tx, "INSERT INTO alerts (ticket_id, clock, stage, cycle, state, due_at, fired_at, escalation_level, "+
			"priority, customer_tier, target_ns, elapsed_ns, details, cycle_ordinal, cycle_started_at, policy, acknowledged_by) VALUES "+values(c, cols)+
			" RETURNING id, ticket_id, clock, stage, cycle")
		if err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		args = args[:0]
		for _, a := range alerts[i : i+c] {
			args = append(args, a.TicketID, string(a.SLAClock), a.Stage, a.Key().Cycle, a.State, micros(a.DueAt), micros(a.FiredAt),
				a.EscalationLevel, a.Priority, a.CustomerTier, int64(a.Target), int64(a.Elapsed), a.Message,
				a.Cycle, nullMicros(a.CycleStartedAt), a.Policy, a.AcknowledgedBy)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		for rows.Next() {
			var (
				id    int64
				k     key
				clock string
			)
			if err := rows.Scan(&id, &k.ticket, &clock, &k.k.Stage, &k.k.Cycle); err != nil {
				rows.Close()
				return fmt.Errorf("insert alerts: %w", err)
			}
			k.k.SLAClock = watchdog.SLAClock(clock)
			if j, ok := index[k]; ok {
				alerts[j].ID = id
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		i += c
	}
	for _, a := range alerts {
		if a.ID == 0 {
			return fmt.Errorf("insert alerts: no id returned for %s/%s/%s/%d", a.TicketID, a.SLAClock, a.Stage, a.Cycle)
		}
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
		return s.planEach(ctx, tx, page, func(t *watchdog.Ticket) { applyPlan(t, plan(t)) })
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
