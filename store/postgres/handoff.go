package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// A delivery an evaluation hands to its caller (watchdog.Plan.Claimed) is
// written once, when its outcome is recorded. Inserting it claimed and
// updating it when sent wrote eight heap tuples and index entries for it:
// the insert's row, key, (alert, notifier) key and entries in the two
// pending indexes, then a second version of the row with its two keys
// (status is in the pending indexes' predicates, so the update is never
// HOT). The outcome's insert writes three.
//
// Until its outcome is recorded, the evaluation's transaction keeps the
// intent in delivery_handoffs: one row per holder, notifier and backstop
// (until), naming the deliveries' ids (drawn from deliveries_id_seq) and
// their alerts. Every read of deliveries shows such a delivery as it
// showed the claimed row: pending, attempt 1, next attempted at until. The
// store remembers its own hand-offs (sqlstore.Handoffs) and records their
// outcomes with an insert; once all of a hand-off's are, its row is
// deleted. What must happen to a claimed row when nobody records its
// outcome happens to the hand-off's missing rows, which are written then
// as the claimed rows would have been: the rescue of a dead holder writes
// them pending and due at once; a claim after until writes them as claimed
// until until, and claims them (materializeSQL).
//
// An outcome's insert finds a row already there when the rescue or a
// claim wrote it first; it then updates it as finishDeliveriesSQL would,
// if the row is still at the hand-off's attempt and pending.

// insertHandoffs writes the evaluation's hand-off rows under ids, in one
// statement.
func (e *evaluation) insertHandoffs(ctx context.Context, q queryer, ids []int64) error {
	list := e.handed.List
	if len(list) == 0 {
		return nil
	}
	if len(ids) != len(list) {
		return fmt.Errorf("hand off deliveries: drew %d ids for %d rows", len(ids), len(list))
	}
	var (
		b    strings.Builder
		args []any
	)
	b.WriteString(`INSERT INTO delivery_handoffs (id, holder, notifier, until, delivery_ids, alert_ids) VALUES `)
	for i := range list {
		h := &list[i]
		h.ID = ids[i]
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d::bigint, $%d::text, $%d::text, $%d::timestamptz, $%d::bigint[], $%d::bigint[])", n+1, n+2, n+3, n+4, n+5, n+6)
		args = append(args, h.ID, h.Holder, h.Notifier, h.Until, pq.Int64Array(h.Deliveries), pq.Int64Array(h.Alerts))
	}
	query, err := literalQuery(b.String(), args...)
	if err != nil {
		return fmt.Errorf("hand off deliveries: %w", err)
	}
	if _, err := q.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("hand off deliveries: %w", err)
	}
	return nil
}

// insertHandedSQL writes the rows of handed-off deliveries with their
// outcomes ($1 ids, $2 alerts, $3 notifiers, $4 statuses, $5 attempts, $6
// next attempts, $7 errors, $8 delivery instants). Almost always none of
// the rows exists yet, and a plain insert is all it takes: it checks the
// unique keys as it adds their entries. ON CONFLICT (recordHandedSQL)
// costs a speculative insertion per row on top: a probe of the (alert,
// notifier) key before the insert and a record confirming it after. In
// statements of 1,000 rows into a million stored deliveries that was 7.2
// to 7.6 µs a row against 4.7 (execution alone). When a row is there
// (the rescue or a claim wrote it first), the insert fails on its key,
// its statement and the rest of the batch with it, and FinishDeliveries
// runs the batch again with recordHandedSQL.
const insertHandedSQL = `INSERT INTO deliveries (id, alert_id, notifier, status, attempts, next_attempt_at, last_error, delivered_at)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::text[], $8::timestamptz[])`

// recordHandedSQL is insertHandedSQL for a batch some of whose rows exist:
// a row the rescue or a claim wrote first is updated instead, as
// finishDeliveriesSQL would for the hand-off's attempt (1): only while it
// is still at that attempt and pending. Such a row was written never
// attempted beyond the hand-off, so the outcome's attempts and error are
// the row's.
const recordHandedSQL = insertHandedSQL + `
	ON CONFLICT (alert_id, notifier) DO UPDATE SET status = excluded.status, holder = NULL, attempts = excluded.attempts,
		next_attempt_at = CASE WHEN excluded.status = 'pending' THEN excluded.next_attempt_at ELSE deliveries.next_attempt_at END,
		delivered_at = COALESCE(excluded.delivered_at, deliveries.delivered_at), last_error = excluded.last_error
	WHERE deliveries.id = excluded.id AND deliveries.attempts = 1 AND deliveries.status = 'pending'`

// recordHandedQuery is insertHandedSQL for handed, with the values as
// literals; recordHandedSQL when upsert.
func recordHandedQuery(handed []sqlstore.HandedOutcome, upsert bool) (string, error) {
	var (
		n                     = len(handed)
		ids, alerts, attempts = make(pq.Int64Array, n), make(pq.Int64Array, n), make(pq.Int64Array, n)
		notifiers, statuses   = make(pq.StringArray, n), make(pq.StringArray, n)
		errs                  = make(pq.StringArray, n)
		next, delivered       = make(timeArray, n), make(timeArray, n)
	)
	for i := range handed {
		o := &handed[i]
		_, msg, err := outcomeValues(o.DeliveryOutcome)
		if err != nil {
			return "", err
		}
		a, at, done := o.HandedRow()
		ids[i], alerts[i], notifiers[i], statuses[i], errs[i] = o.ID, o.Alert, o.Notifier, string(o.Status), msg
		attempts[i], next[i], delivered[i] = int64(a), &at, done
	}
	query := insertHandedSQL
	if upsert {
		query = recordHandedSQL
	}
	q, err := literalQuery(query, ids, alerts, notifiers, statuses, attempts, next, errs, delivered)
	if err != nil {
		return "", fmt.Errorf("postgres: finish deliveries: %w", err)
	}
	return q, nil
}

// deleteHandoffsSQL deletes the hand-off rows $1, every delivery of which
// has its row.
const deleteHandoffsSQL = `DELETE FROM delivery_handoffs WHERE id = ANY($1::bigint[])`

// materializeSQL writes the missing rows of notifier $1's hand-offs whose
// backstop ran out by $2, as the claimed rows they stand for (due at that
// backstop), and deletes the hand-offs. It runs ahead of a claim from the
// head of the pending order, in its transaction (see claimFrom), which then
// takes them where it would have taken the claimed rows. A claim from a
// floor leaves it out: in a backlog, such rows wait for the claim that
// starts from the head, as rows another process frees below the floor do.
const materializeSQL = `WITH h AS (
		DELETE FROM delivery_handoffs WHERE notifier = $1 AND until <= $2
		RETURNING holder, notifier, until, delivery_ids, alert_ids)
	INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, holder, status)
	SELECT u.id, u.alert_id, h.notifier, h.until, 1, h.holder, 'pending'
	FROM h, unnest(h.delivery_ids, h.alert_ids) AS u(id, alert_id)
	ON CONFLICT DO NOTHING`

// handedOffSQL reads the deliveries of alerts $1 that are handed off and
// have no row yet.
const handedOffSQL = `SELECT u.id, u.alert_id, h.notifier, h.until
	FROM delivery_handoffs h, unnest(h.delivery_ids, h.alert_ids) AS u(id, alert_id)
	WHERE h.alert_ids && $1::bigint[] AND u.alert_id = ANY($1::bigint[])
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = u.id)`

// handedOffOf returns the handed-off deliveries of alertIDs that have no
// row, as a read of the claimed rows they stand for gave them: pending, at
// attempt 1, next attempted at their backstop.
func handedOffOf(ctx context.Context, q sqlstore.Queryer, alertIDs []int64) ([]watchdog.Delivery, error) {
	return sqlstore.QueryAll(ctx, q, func(sc sqlstore.Scanner) (watchdog.Delivery, error) {
		d := watchdog.Delivery{Status: watchdog.DeliveryPending, Attempts: 1}
		err := sc.Scan(&d.ID, &d.AlertID, &d.Notifier, &d.NextAttemptAt)
		d.NextAttemptAt = d.NextAttemptAt.UTC()
		return d, err
	}, handedOffSQL, pq.Int64Array(alertIDs))
}
