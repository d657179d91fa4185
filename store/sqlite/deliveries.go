package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
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
	var ds []watchdog.Delivery
	if err := s.inWrite(ctx, "claim deliveries", func(tx *sql.Tx) (err error) {
		// The writer lock makes select-then-update atomic, and selecting
		// first keeps the oldest-first order for the caller.
		ds, err = sqlstore.QueryAll(ctx, tx, scanDelivery, "SELECT "+deliveryCols+" FROM deliveries"+
			" WHERE notifier = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
			notifier, micros(now), limit)
		if err != nil || len(ds) == 0 {
			return err
		}
		return leaseClaimed(ctx, tx, ds, now.Add(lease).Truncate(time.Microsecond).UTC())
	}); err != nil {
		return nil, err
	}
	return ds, nil
}

// leaseClaimed counts an attempt on each of ds and hides them from claims until
// until, and fills in their alerts.
func leaseClaimed(ctx context.Context, tx *sql.Tx, ds []watchdog.Delivery, until time.Time) error {
	ids := make(idList[int64], len(ds))
	alertIDs := make(idList[int64], len(ds))
	for i := range ds {
		ids[i], alertIDs[i] = ds[i].ID, ds[i].AlertID
		ds[i].Attempts++
		ds[i].NextAttemptAt = until
	}
	if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN "+inIDs,
		micros(until), ids); err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	alerts, err := sqlstore.QueryAll(ctx, tx, scanAlert, "SELECT "+alertCols+" FROM alerts WHERE id IN "+inIDs, alertIDs)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
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
	return nil
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
		if err := sqlstore.CheckOutcome(o); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		switch o.Status {
		case watchdog.DeliveryDelivered:
			at[i] = micros(o.Finished)
		case watchdog.DeliveryPending:
			at[i] = micros(o.RetryAt)
		}
	}
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
	return s.inWrite(ctx, "finish deliveries", func(tx *sql.Tx) error {
		return s.bulkExec(ctx, tx, head, tail, 6, len(outcomes), func(i int, args []any) []any {
			o := &outcomes[i]
			msg := o.Error
			if o.Status == watchdog.DeliveryDelivered {
				msg = ""
			}
			return append(args, o.ID, o.Attempt, string(o.Status), at[i], msg, o.Unsent)
		})
	})
}
