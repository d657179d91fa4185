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

// FinishDeliveries records attempt outcomes in one transaction, with one
// statement per chunk of outcomes; see watchdog.Store.
func (s *Store) FinishDeliveries(ctx context.Context, outcomes []watchdog.DeliveryOutcome) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if len(outcomes) == 0 {
		return nil
	}
	at := make([]any, len(outcomes)) // delivered_at or next_attempt_at
	for i, o := range outcomes {
		switch o.Status {
		case watchdog.DeliveryDelivered:
			at[i] = micros(o.Finished)
		case watchdog.DeliveryFailed:
		case watchdog.DeliveryPending:
			if o.RetryAt.IsZero() {
				return fmt.Errorf("sqlite: finish delivery %d: retry without a RetryAt: %w", o.ID, watchdog.ErrInvalid)
			}
			at[i] = micros(o.RetryAt)
		default:
			return fmt.Errorf("sqlite: finish delivery %d: unknown status %q: %w", o.ID, o.Status, watchdog.ErrInvalid)
		}
		if o.Unsent && o.Status != watchdog.DeliveryPending {
			return fmt.Errorf("sqlite: finish delivery %d: unsent but %q: %w", o.ID, o.Status, watchdog.ErrInvalid)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, "finish deliveries", err)
	}
	defer tx.Rollback()
	// Only the claim an outcome is for (same attempts, still pending) is
	// updated; an unsent one takes back that claim's attempt and keeps the
	// previous error. SET expressions see the row as it was.
	const head = `UPDATE deliveries SET status = v.column3,
			attempts = CASE WHEN v.column6 THEN attempts - 1 ELSE attempts END,
			next_attempt_at = CASE WHEN v.column3 = 'pending' THEN v.column4 ELSE next_attempt_at END,
			delivered_at = CASE WHEN v.column3 = 'delivered' THEN v.column4 ELSE delivered_at END,
			last_error = CASE WHEN v.column6 THEN last_error ELSE v.column5 END
		FROM (VALUES`
	const tail = `) AS v WHERE deliveries.id = v.column1 AND deliveries.attempts = v.column2 AND deliveries.status = 'pending'`
	if err := s.bulkExec(ctx, tx, head, tail, 6, len(outcomes), func(i int, args []any) []any {
		o := &outcomes[i]
		msg := o.Error
		if o.Status == watchdog.DeliveryDelivered {
			msg = ""
		}
		return append(args, o.ID, o.Attempt, string(o.Status), at[i], msg, o.Unsent)
	}); err != nil {
		return s.wrap(ctx, "finish deliveries", err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(ctx, "finish deliveries", err)
	}
	return nil
}
