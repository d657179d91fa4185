package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// ClaimDeliveries claims for c.Holder up to c.Limit pending deliveries to
// c.Notifier whose next attempt is due at c.Now, oldest first: each gets
// attempts+1, names its holder and is hidden from other claims until
// c.Until. See watchdog.Store.
func (s *Store) ClaimDeliveries(ctx context.Context, c watchdog.DeliveryClaim) ([]watchdog.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if c.Limit <= 0 {
		return nil, nil
	}
	var ds []watchdog.Delivery
	if err := s.inUrgentWrite(ctx, "claim deliveries", func(tx *sql.Tx) (err error) {
		s.noteNoPlanInputs()
		// Hand-offs whose backstop ran out are claimed as the claimed
		// rows they stand for (see handoff.go).
		if _, err := writeHandedOff(ctx, tx, "h.notifier = ? AND h.until <= ?", []any{c.Notifier, micros(c.Now)}, nil, false); err != nil {
			return err
		}
		// The writer lock makes select-then-update atomic, and selecting
		// first keeps the oldest-first order for the caller.
		ds, err = sqlstore.QueryAll(ctx, tx, scanDelivery, "SELECT "+deliveryCols+" FROM deliveries"+
			" WHERE notifier = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
			c.Notifier, micros(c.Now), c.Limit)
		if err != nil || len(ds) == 0 {
			return err
		}
		return markClaimed(ctx, tx, ds, c.Holder, c.Until.Truncate(time.Microsecond).UTC())
	}); err != nil {
		return nil, err
	}
	return ds, nil
}

// markClaimed counts an attempt on each of ds, names their holder and hides
// them from claims until until, and fills in their alerts.
func markClaimed(ctx context.Context, tx *sql.Tx, ds []watchdog.Delivery, holder string, until time.Time) error {
	ids := make(idList[int64], len(ds))
	alertIDs := make(idList[int64], len(ds))
	for i := range ds {
		ids[i], alertIDs[i] = ds[i].ID, ds[i].AlertID
		ds[i].Attempts++
		ds[i].NextAttemptAt = until
	}
	if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, holder = ? WHERE id IN "+inIDs,
		micros(until), holderArg(holder), ids); err != nil {
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
	for _, o := range outcomes {
		if err := sqlstore.CheckOutcome(o); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	// Only the claim an outcome is for (same attempts, still pending) is
	// updated, and its holder let go; an unsent one takes back that claim's
	// attempt and keeps the previous error unless it brings one. SET
	// expressions see the row as it was.
	const head = `UPDATE deliveries SET status = v.column3, holder = NULL,
			attempts = CASE WHEN v.column6 THEN attempts - 1 ELSE attempts END,
			next_attempt_at = CASE WHEN v.column3 = 'pending' THEN v.column4 ELSE next_attempt_at END,
			delivered_at = CASE WHEN v.column3 = 'delivered' THEN v.column4 ELSE delivered_at END,
			last_error = CASE WHEN v.column6 AND v.column5 = '' THEN last_error ELSE v.column5 END
		FROM (VALUES`
	const tail = `) AS v WHERE deliveries.id = v.column1 AND deliveries.attempts = v.column2 AND deliveries.status = 'pending'`
	rest, b := s.handoffs.Take(outcomes)
	err := s.inUrgentWrite(ctx, "finish deliveries", func(tx *sql.Tx) error {
		s.noteNoPlanInputs()
		if len(rest) > 0 {
			if err := s.bulkExec(ctx, tx, head, tail, 6, len(rest), func(i int, args []any) []any {
				o := &rest[i]
				msg := o.Error
				if o.Status == watchdog.DeliveryDelivered {
					msg = ""
				}
				return append(args, o.ID, o.Attempt, string(o.Status), outcomeAt(o), msg, o.Unsent)
			}); err != nil {
				return err
			}
		}
		if len(b.Handed) > 0 {
			if err := s.recordHanded(ctx, tx, b.Handed); err != nil {
				return err
			}
		}
		return deleteHandoffs(ctx, tx, b.Deletes)
	})
	s.handoffs.Settle(b, err == nil)
	return err
}

// outcomeAt is the instant o records: delivered_at, or next_attempt_at of
// a retry.
func outcomeAt(o *watchdog.DeliveryOutcome) any {
	switch o.Status {
	case watchdog.DeliveryDelivered:
		return micros(o.Finished)
	case watchdog.DeliveryPending:
		return micros(o.RetryAt)
	}
	return nil
}

// holderArg is a holder id as a column value: NULL for none.
func holderArg(holder string) any {
	if holder == "" {
		return nil
	}
	return holder
}

// Heartbeat records that holder is alive until until; see watchdog.Store.
func (s *Store) Heartbeat(ctx context.Context, holder string, until time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	// It also deletes the hand-off rows left for the next recording (see
	// sqlstore.Handoffs), so that none outlives a quiet spell.
	deletes := s.handoffs.TakeDeletable()
	err := s.inUrgentWrite(ctx, "heartbeat", func(tx *sql.Tx) error {
		s.noteNoPlanInputs()
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_holders (id, expires_at) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`, holder, micros(until)); err != nil {
			return err
		}
		return deleteHandoffs(ctx, tx, deletes)
	})
	if err != nil {
		s.handoffs.GiveDeletable(deletes)
	}
	return err
}

// RescueDeliveries frees the pending deliveries of holders whose heartbeat
// ended by now; see watchdog.Store.
func (s *Store) RescueDeliveries(ctx context.Context, now time.Time, self string) (freed int, next time.Time, err error) {
	if err := s.check(ctx); err != nil {
		return 0, time.Time{}, err
	}
	at := micros(now)
	var nextAt sql.NullInt64
	err = s.inUrgentWrite(ctx, "rescue deliveries", func(tx *sql.Tx) error {
		s.noteNoPlanInputs()
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET holder = NULL, next_attempt_at = ?
			WHERE status = 'pending' AND holder IN (SELECT id FROM delivery_holders WHERE expires_at <= ?)`, at, at)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		// A dead holder's hand-offs get their rows, freed as its claimed
		// rows are (see handoff.go).
		written, err := writeHandedOff(ctx, tx, "h.holder IN (SELECT id FROM delivery_holders WHERE expires_at <= ?)", []any{at}, at, true)
		if err != nil {
			return err
		}
		freed = int(n + written)
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_holders WHERE expires_at <= ?`, at); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT min(expires_at) FROM delivery_holders WHERE id <> ?`, self).Scan(&nextAt)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	if nextAt.Valid {
		next = fromMicros(nextAt.Int64)
	}
	return freed, next, nil
}
