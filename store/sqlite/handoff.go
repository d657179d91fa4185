package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// A delivery an evaluation hands off (watchdog.Plan.Claimed) gets its row
// when its outcome is recorded, as on PostgreSQL (see sqlstore.Handoffs):
// inserted claimed and updated when sent, it wrote the table and its three
// indexes, then the table and the two pending indexes again; its outcome's
// insert writes the table and the (alert, notifier) key. Until then a row
// of delivery_handoffs stands for it, with its id and its alert's as a
// pair in one JSON array read with json_each (migration 00012 says why not
// two arrays).

// handoffPairs is delivery_handoffs' deliveries, one row p each, for a
// statement that reads h: handedDelivery is the delivery's id, handedAlert
// its alert's.
const (
	handoffPairs   = `json_each(h.pairs) p`
	handedDelivery = `(p.value ->> 0)`
	handedAlert    = `(p.value ->> 1)`
)

// handoffPairList is a hand-off's deliveries and their alerts as the JSON
// array of pairs delivery_handoffs.pairs holds.
type handoffPairList struct{ deliveries, alerts []int64 }

// Value implements driver.Valuer.
func (l handoffPairList) Value() (driver.Value, error) {
	if len(l.deliveries) != len(l.alerts) {
		return nil, fmt.Errorf("hand-off of %d deliveries names %d alerts", len(l.deliveries), len(l.alerts))
	}
	b := make([]byte, 0, 2+len(l.deliveries)*24)
	b = append(b, '[')
	for i, d := range l.deliveries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, d, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, l.alerts[i], 10)
		b = append(b, ']')
	}
	return string(append(b, ']')), nil
}

// lastDeliveryID returns the highest delivery id in use: of a row, or
// named by a hand-off. Under the writer lock the ids after it are free.
func lastDeliveryID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(id) FROM deliveries), 0),
		coalesce((SELECT max(last_id) FROM delivery_handoffs), 0))`).Scan(&id); err != nil {
		return 0, fmt.Errorf("last delivery id: %w", err)
	}
	return id, nil
}

// insertHandoffs writes the hand-off rows of list, setting their ids (never
// one a deleted row had: the store's memory of its hand-offs goes by them).
func insertHandoffs(ctx context.Context, tx *sql.Tx, list []sqlstore.Handoff) error {
	if len(list) == 0 {
		return nil
	}
	for i := range list {
		h := &list[i]
		if err := tx.QueryRowContext(ctx, `INSERT INTO delivery_handoffs (holder, notifier, until, last_id, pairs, min_alert, max_alert)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, h.Holder, h.Notifier, micros(h.Until), slices.Max(h.Deliveries),
			handoffPairList{h.Deliveries, h.Alerts}, slices.Min(h.Alerts), slices.Max(h.Alerts)).Scan(&h.ID); err != nil {
			return fmt.Errorf("hand off deliveries: %w", err)
		}
	}
	return nil
}

// writeHandedOff writes the missing rows of the hand-offs the condition
// where selects (h is delivery_handoffs, args its arguments) as the
// claimed rows they stand for, due at at (their backstop when at is nil),
// and held by their holder unless freed; then it deletes those hand-offs.
// It returns how many rows it wrote.
func writeHandedOff(ctx context.Context, tx *sql.Tx, where string, args []any, at any, freed bool) (int64, error) {
	next, holder := "h.until", "h.holder"
	if at != nil {
		next = "?"
	}
	if freed {
		holder = "NULL"
	}
	var all []any
	if at != nil {
		all = append(all, at)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, holder, status)
		SELECT `+handedDelivery+`, `+handedAlert+`, h.notifier, `+next+`, 1, `+holder+`, 'pending'
		FROM delivery_handoffs h, `+handoffPairs+` WHERE `+where+`
		ON CONFLICT DO NOTHING`, append(all, args...)...)
	if err != nil {
		return 0, fmt.Errorf("write handed-off deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_handoffs AS h WHERE `+where, args...); err != nil {
		return 0, fmt.Errorf("delete hand-offs: %w", err)
	}
	return n, nil
}

// handedOffOf returns the handed-off deliveries of alertIDs without a row,
// as a read of the claimed rows they stand for gave them: pending, at
// attempt 1, next attempted at their backstop.
func handedOffOf(ctx context.Context, q sqlstore.Queryer, alertIDs []int64) ([]watchdog.Delivery, error) {
	if len(alertIDs) == 0 {
		return nil, nil
	}
	return sqlstore.QueryAll(ctx, q, func(sc sqlstore.Scanner) (watchdog.Delivery, error) {
		d := watchdog.Delivery{Status: watchdog.DeliveryPending, Attempts: 1}
		var until int64
		err := sc.Scan(&d.ID, &d.AlertID, &d.Notifier, &until)
		d.NextAttemptAt = fromMicros(until)
		return d, err
	}, `SELECT `+handedDelivery+`, `+handedAlert+`, h.notifier, h.until FROM delivery_handoffs h, `+handoffPairs+`
		WHERE h.max_alert >= ? AND h.min_alert <= ? AND `+handedAlert+` IN `+inIDs+`
			AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.id = `+handedDelivery+`)`,
		slices.Min(alertIDs), slices.Max(alertIDs), idList[int64](alertIDs))
}

// recordHanded writes the rows of handed-off deliveries with their
// outcomes. A row the rescue or a claim wrote first is updated instead,
// as FinishDeliveries' update would for the hand-off's attempt (1): only
// while it is still at that attempt and pending.
func (s *Store) recordHanded(ctx context.Context, tx *sql.Tx, handed []sqlstore.HandedOutcome) error {
	const head = `INSERT INTO deliveries (id, alert_id, notifier, status, attempts, next_attempt_at, last_error, delivered_at) VALUES`
	const tail = `ON CONFLICT DO UPDATE SET status = excluded.status, holder = NULL, attempts = excluded.attempts,
			next_attempt_at = CASE WHEN excluded.status = 'pending' THEN excluded.next_attempt_at ELSE next_attempt_at END,
			delivered_at = coalesce(excluded.delivered_at, delivered_at), last_error = excluded.last_error
		WHERE deliveries.id = excluded.id AND deliveries.attempts = 1 AND deliveries.status = 'pending'`
	return s.bulkExec(ctx, tx, head, tail, 8, len(handed), func(i int, args []any) []any {
		o := &handed[i]
		attempts, next, delivered := o.HandedRow()
		msg := o.Error
		if o.Status == watchdog.DeliveryDelivered {
			msg = ""
		}
		return append(args, o.ID, o.Alert, o.Notifier, string(o.Status), attempts, micros(next), msg, nullMicros(delivered))
	})
}

// deleteHandoffs deletes the hand-off rows ids, whose deliveries all have
// rows.
func deleteHandoffs(ctx context.Context, tx *sql.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_handoffs WHERE id IN `+inIDs, idList[int64](ids)); err != nil {
		return fmt.Errorf("delete hand-offs: %w", err)
	}
	return nil
}
