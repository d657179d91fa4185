package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// unsent is the condition of a delivery a re-routing may change.
const unsent = "d.status = 'pending' AND d.attempts = 0 AND d.holder IS NULL"

// UnsentAlerts returns alerts with unsent deliveries; see watchdog.Store.
func (s *Store) UnsentAlerts(ctx context.Context, after int64, limit int) ([]watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	out, err := s.unsentAlerts(ctx, after, limit)
	if err != nil {
		return nil, s.fail(ctx, "unsent alerts", err)
	}
	return out, nil
}

func (s *Store) unsentAlerts(ctx context.Context, after int64, limit int) ([]watchdog.Alert, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	alerts, err := sqlstore.QueryAll(ctx, tx, scanAlert, `SELECT `+alertCols+` FROM alerts WHERE id IN (
		SELECT DISTINCT d.alert_id FROM deliveries d WHERE `+unsent+` AND d.alert_id > $1 ORDER BY d.alert_id LIMIT $2) ORDER BY id`, after, limit)
	if err != nil || len(alerts) == 0 {
		return nil, err
	}
	ids := make([]int64, len(alerts))
	at := make(map[int64]int, len(alerts))
	for i, a := range alerts {
		ids[i], at[a.ID] = a.ID, i
	}
	ds, err := sqlstore.QueryAll(ctx, tx, scanDelivery, `SELECT `+deliveryCols+` FROM deliveries WHERE alert_id = ANY($1) ORDER BY alert_id, notifier`,
		pq.Int64Array(ids))
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		a := &alerts[at[d.AlertID]]
		a.Deliveries = append(a.Deliveries, d)
	}
	if err := sqlstore.WithHandedOff(ctx, tx, alerts, at, func(a, b watchdog.Delivery) int { return strings.Compare(a.Notifier, b.Notifier) }, handedOffOf); err != nil {
		return nil, err
	}
	return alerts, tx.Commit()
}

// Reroute applies a re-routing; see watchdog.Store.
func (s *Store) Reroute(ctx context.Context, r watchdog.Reroute) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	now := us(r.Now)
	err := rerun(ctx, func() error {
		tx, err := s.beginWrite(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, c := range r.Cancel {
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries d SET status = 'cancelled' WHERE d.alert_id = $1 AND d.notifier = $2 AND `+unsent,
				c.AlertID, c.Notifier); err != nil {
				return fmt.Errorf("cancel: %w", err)
			}
		}
		for _, h := range r.Hold {
			next, held := now, sql.NullTime{}
			if !h.HeldUntil.IsZero() {
				next, held = us(h.HeldUntil), sql.NullTime{Time: us(h.HeldUntil), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries d SET next_attempt_at = $1, held_until = $2 WHERE d.alert_id = $3 AND d.notifier = $4 AND `+unsent,
				next, held, h.AlertID, h.Notifier); err != nil {
				return fmt.Errorf("hold: %w", err)
			}
		}
		for _, a := range r.Add {
			next, held := now, sql.NullTime{}
			if !a.HeldUntil.IsZero() {
				next, held = us(a.HeldUntil), sql.NullTime{Time: us(a.HeldUntil), Valid: true}
			}
			status := a.Status
			if status == "" {
				status = watchdog.DeliveryPending
			}
			// A delivery handed off has no row until its outcome is
			// recorded (see handoff.go): it is there all the same.
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (alert_id, notifier, next_attempt_at, attempts, status, held_until)
				SELECT $1::bigint, $2::text, $3::timestamptz, 0, $4::text, $5::timestamptz WHERE NOT EXISTS (SELECT 1 FROM delivery_handoffs h
					WHERE h.notifier = $2::text AND $1::bigint = ANY(h.alert_ids))
				ON CONFLICT (alert_id, notifier) DO NOTHING`, a.AlertID, a.Notifier, next, string(status), held); err != nil {
				return fmt.Errorf("add: %w", err)
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return s.fail(ctx, "reroute", err)
	}
	if len(r.Hold) > 0 || len(r.Add) > 0 {
		s.floors.lower(now) // every row it moved or added is due at now or later
	}
	return nil
}
