package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// ClaimDeliveries leases up to limit pending deliveries to notifier whose
// next attempt is due at now, oldest first: each gets attempts+1 and is
// hidden from other claims until now+lease. See watchdog.Store.
func (s *Store) ClaimDeliveries(ctx context.Context, notifier string, now time.Time, limit int, lease time.Duration) ([]watchdog.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap(ctx, "claim deliveries: begin", err)
	}
	defer s.endWrite(tx)
	// The writer lock makes select-then-update atomic, and selecting first
	// keeps the oldest-first order for the caller.
	ds, err := queryAll(ctx, tx, scanDelivery, "SELECT "+deliveryCols+" FROM deliveries"+
		" WHERE notifier = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
		notifier, micros(now), limit)
	if err != nil {
		return nil, s.wrap(ctx, "claim deliveries", err)
	}
	if len(ds) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(ds))
	alertIDs := make([]int64, len(ds))
	until := now.Add(lease).Truncate(time.Microsecond).UTC()
	for i := range ds {
		ids[i], alertIDs[i] = ds[i].ID, ds[i].AlertID
		ds[i].Attempts++
		ds[i].NextAttemptAt = until
	}
	idList, err := jsonList(ids)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN "+inIDs,
		micros(until), idList); err != nil {
		return nil, s.wrap(ctx, "claim deliveries: lease", err)
	}
	alertList, err := jsonList(alertIDs)
	if err != nil {
		return nil, err
	}
	alerts, err := queryAll(ctx, tx, scanAlert, "SELECT "+alertCols+" FROM alerts WHERE id IN "+inIDs, alertList)
	if err != nil {
		return nil, s.wrap(ctx, "claim deliveries: alerts", err)
	}
	byID := make(map[int64]*watchdog.Alert, len(alerts))
	for i := range alerts {
		byID[alerts[i].ID] = &alerts[i]
	}
	for i := range ds {
		if a, ok := byID[ds[i].AlertID]; ok {
			c := *a
			ds[i].Alert = &c
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap(ctx, "claim deliveries: commit", err)
	}
	return ds, nil
}

// FinishDeliveries records attempt outcomes in one transaction; see
// watchdog.Store.
func (s *Store) FinishDeliveries(ctx context.Context, outcomes []watchdog.DeliveryOutcome) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if len(outcomes) == 0 {
		return nil
	}
	type update struct {
		query string
		args  []any
	}
	updates := make([]update, 0, len(outcomes))
	for _, o := range outcomes {
		var u update
		switch o.Status {
		case watchdog.DeliveryDelivered:
			u = update{"UPDATE deliveries SET status = 'delivered', delivered_at = ?, last_error = ''", []any{micros(o.Finished)}}
		case watchdog.DeliveryFailed:
			u = update{"UPDATE deliveries SET status = 'failed', last_error = ?", []any{o.Error}}
		case watchdog.DeliveryPending:
			if o.RetryAt.IsZero() {
				return fmt.Errorf("sqlite: finish delivery %d: retry without a RetryAt: %w", o.ID, watchdog.ErrInvalid)
			}
			u = update{"UPDATE deliveries SET next_attempt_at = ?, last_error = ?", []any{micros(o.RetryAt), o.Error}}
		default:
			return fmt.Errorf("sqlite: finish delivery %d: unknown status %q: %w", o.ID, o.Status, watchdog.ErrInvalid)
		}
		u.query += " WHERE id = ? AND status = 'pending' AND attempts = ?"
		u.args = append(u.args, o.ID, o.Attempt)
		updates = append(updates, u)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, "finish deliveries", err)
	}
	defer tx.Rollback()
	for i, u := range updates {
		if _, err := tx.ExecContext(ctx, u.query, u.args...); err != nil {
			return s.wrap(ctx, fmt.Sprintf("finish delivery %d", outcomes[i].ID), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, "finish deliveries", err)
	}
	return nil
}
