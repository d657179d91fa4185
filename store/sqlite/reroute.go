package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// unsent is the condition of a delivery a re-routing may change.
const unsent = "status = 'pending' AND attempts = 0 AND holder IS NULL"

// UnsentAlerts returns alerts with unsent deliveries; see watchdog.Store.
func (s *Store) UnsentAlerts(ctx context.Context, after int64, limit int) ([]watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(ctx, "unsent alerts: begin", err)
	}
	defer tx.Rollback()
	alerts, err := sqlstore.QueryAll(ctx, tx, scanAlert, "SELECT "+alertCols+" FROM alerts WHERE id IN (SELECT DISTINCT alert_id FROM deliveries WHERE "+
		unsent+" AND alert_id > ? ORDER BY alert_id LIMIT ?) ORDER BY id", after, limit)
	if err != nil || len(alerts) == 0 {
		return nil, s.wrap(ctx, "unsent alerts", err)
	}
	ids := make([]int64, len(alerts))
	at := make(map[int64]int, len(alerts))
	for i, a := range alerts {
		ids[i], at[a.ID] = a.ID, i
	}
	ds, err := sqlstore.QueryAll(ctx, tx, scanDelivery, "SELECT "+deliveryCols+" FROM deliveries WHERE alert_id IN "+inIDs+" ORDER BY alert_id, notifier", idList[int64](ids))
	if err != nil {
		return nil, s.wrap(ctx, "unsent alerts: deliveries", err)
	}
	for _, d := range ds {
		a := &alerts[at[d.AlertID]]
		a.Deliveries = append(a.Deliveries, d)
	}
	if err := sqlstore.WithHandedOff(ctx, tx, alerts, at, func(a, b watchdog.Delivery) int { return strings.Compare(a.Notifier, b.Notifier) }, handedOffOf); err != nil {
		return nil, s.wrap(ctx, "unsent alerts", err)
	}
	return alerts, nil
}

// Reroute applies a re-routing; see watchdog.Store.
func (s *Store) Reroute(ctx context.Context, r watchdog.Reroute) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	now := micros(r.Now)
	return s.inWrite(ctx, "reroute", func(tx *sql.Tx) error {
		for _, c := range r.Cancel {
			if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET status = 'cancelled' WHERE alert_id = ? AND notifier = ? AND "+unsent,
				c.AlertID, c.Notifier); err != nil {
				return fmt.Errorf("cancel: %w", err)
			}
		}
		for _, h := range r.Hold {
			next, held := now, any(nil)
			if !h.HeldUntil.IsZero() {
				next, held = micros(h.HeldUntil), micros(h.HeldUntil)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET next_attempt_at = ?, held_until = ? WHERE alert_id = ? AND notifier = ? AND "+unsent,
				next, held, h.AlertID, h.Notifier); err != nil {
				return fmt.Errorf("hold: %w", err)
			}
		}
		// Added rows take ids after every one in use, handed-off ones too.
		var id int64
		if len(r.Add) > 0 {
			var err error
			if id, err = lastDeliveryID(ctx, tx); err != nil {
				return fmt.Errorf("add: %w", err)
			}
		}
		for _, a := range r.Add {
			next, held := now, any(nil)
			if !a.HeldUntil.IsZero() {
				next, held = micros(a.HeldUntil), micros(a.HeldUntil)
			}
			status := a.Status
			if status == "" {
				status = watchdog.DeliveryPending
			}
			// A delivery handed off has no row until its outcome is
			// recorded (see handoff.go), and is there all the same.
			id++
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, status, held_until)
				SELECT ?1, ?2, ?3, ?4, 0, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM delivery_handoffs h, `+handoffPairs+`
					WHERE h.notifier = ?3 AND h.min_alert <= ?2 AND h.max_alert >= ?2 AND `+handedAlert+` = ?2)
				ON CONFLICT (alert_id, notifier) DO NOTHING`, id, a.AlertID, a.Notifier, next, string(status), held); err != nil {
				return fmt.Errorf("add: %w", err)
			}
		}
		return nil
	})
}
