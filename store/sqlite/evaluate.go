package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap(ctx, "evaluate due: begin", err)
	}
	defer s.endWrite(tx)
	due, err := queryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+
		" FROM tickets WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?", micros(now), limit)
	if err != nil {
		return nil, s.wrap(ctx, "evaluate due: claim", err)
	}
	if len(due) == 0 {
		return nil, nil
	}
	if err := fill(ctx, tx, due); err != nil {
		return nil, s.wrap(ctx, "evaluate due", err)
	}
	changes := snapshot(due)

	var (
		fired     []watchdog.Alert
		notifiers [][]string
		claimed   []map[string]time.Time // per fired alert: notifier → lease end
	)
	for _, t := range due {
		if err := ctx.Err(); err != nil {
			return nil, s.wrap(ctx, "evaluate due", err)
		}
		p := plan(t)
		recorded := make(map[watchdog.StageKey]bool, len(t.Alerts)+len(p.Alerts))
		for _, a := range t.Alerts {
			recorded[a.Key()] = true
		}
		names := uniqueNames(p.Notifiers)
		var leased map[string]time.Time
		for _, n := range p.Claimed {
			if slices.Contains(names, n) {
				if leased == nil {
					leased = map[string]time.Time{}
				}
				until := p.ClaimedUntil
				if until.IsZero() {
					until = now
				}
				leased[n] = until.Truncate(time.Microsecond).UTC()
			}
		}
		for _, a := range p.Alerts {
			if recorded[a.Key()] {
				continue
			}
			recorded[a.Key()] = true
			t.EscalationLevel++
			a.ID, a.TicketID, a.EscalationLevel, a.Deliveries = 0, t.ID, t.EscalationLevel, nil
			a.DueAt, a.FiredAt = a.DueAt.Truncate(time.Microsecond).UTC(), a.FiredAt.Truncate(time.Microsecond).UTC()
			fired = append(fired, a)
			notifiers = append(notifiers, names)
			claimed = append(claimed, leased)
		}
		applyPlan(t, p)
	}

	if err := s.insertAlerts(ctx, tx, fired); err != nil {
		return nil, s.wrap(ctx, "evaluate due", err)
	}
	type row struct {
		alert    int
		notifier string
		next     int64
		attempts int
	}
	var rows []row
	for i, a := range fired {
		for _, n := range notifiers[i] {
			if until, ok := claimed[i][n]; ok {
				rows = append(rows, row{i, n, micros(until), 1})
			} else {
				rows = append(rows, row{i, n, micros(a.FiredAt), 0})
			}
		}
	}
	byID := make(map[int64]int, len(fired))
	for i := range fired {
		byID[fired[i].ID] = i
	}
	if err := s.bulkQuery(ctx, tx, "INSERT INTO deliveries (alert_id, notifier, next_attempt_at, attempts) VALUES", "RETURNING "+deliveryCols, 4, len(rows),
		func(i int, args []any) []any {
			r := rows[i]
			return append(args, fired[r.alert].ID, r.notifier, r.next, r.attempts)
		},
		func(rs *sql.Rows) error {
			d, err := scanDelivery(rs)
			if err != nil {
				return err
			}
			if i, ok := byID[d.AlertID]; ok {
				fired[i].Deliveries = append(fired[i].Deliveries, d)
			}
			return nil
		}); err != nil {
		return nil, s.wrap(ctx, "evaluate due: insert deliveries", err)
	}
	for i := range fired {
		slices.SortFunc(fired[i].Deliveries, func(a, b watchdog.Delivery) int { return strings.Compare(a.Notifier, b.Notifier) })
	}
	if err := s.updateTickets(ctx, tx, changes); err != nil {
		return nil, s.wrap(ctx, "evaluate due", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap(ctx, "evaluate due: commit", err)
	}
	s.feed.publish(fired)
	return fired, nil
}

func uniqueNames(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// insertAlerts inserts alerts in multi-row statements and sets their IDs.
func (s *Store) insertAlerts(ctx context.Context, tx *sql.Tx, alerts []watchdog.Alert) error {
	const cols = 13
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
			"priority, customer_tier, target_ns, elapsed_ns, details) VALUES "+values(c, cols)+
			" RETURNING id, ticket_id, clock, stage, cycle")
		if err != nil {
			return fmt.Errorf("insert alerts: %w", err)
		}
		args = args[:0]
		for _, a := range alerts[i : i+c] {
			args = append(args, a.TicketID, string(a.SLAClock), a.Stage, a.Cycle, a.State, micros(a.DueAt), micros(a.FiredAt),
				a.EscalationLevel, a.Priority, a.CustomerTier, int64(a.Target), int64(a.Elapsed), a.Details)
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
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return after, 0, s.wrap(ctx, "replan: begin", err)
	}
	defer s.endWrite(tx)
	page, err := queryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+" FROM tickets WHERE open AND id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return after, 0, s.wrap(ctx, "replan: load", err)
	}
	if len(page) == 0 {
		return after, 0, nil
	}
	if err := fill(ctx, tx, page); err != nil {
		return after, 0, s.wrap(ctx, "replan", err)
	}
	changes := snapshot(page)
	for _, t := range page {
		if err := ctx.Err(); err != nil {
			return after, 0, s.wrap(ctx, "replan", err)
		}
		applyPlan(t, plan(t))
	}
	if err := s.updateTickets(ctx, tx, changes); err != nil {
		return after, 0, s.wrap(ctx, "replan", err)
	}
	if err := tx.Commit(); err != nil {
		return after, 0, s.wrap(ctx, "replan: commit", err)
	}
	return page[len(page)-1].ID, len(page), nil
}
