package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

const deliveryCols = `id, alert_id, notifier, status, attempts, next_attempt_at, last_error, delivered_at, held_until`

// deliveryScan holds the destinations of one deliveries row (deliveryCols).
type deliveryScan struct {
	d      watchdog.Delivery
	status string
	done   sql.NullTime
	held   sql.NullTime
}

func (s *deliveryScan) dest() []any {
	d := &s.d
	return []any{&d.ID, &d.AlertID, &d.Notifier, &s.status, &d.Attempts, &d.NextAttemptAt, &d.LastError, &s.done, &s.held}
}

func (s *deliveryScan) value() watchdog.Delivery {
	d := s.d
	d.Status = watchdog.DeliveryStatus(s.status)
	d.NextAttemptAt = d.NextAttemptAt.UTC()
	if d.Status != watchdog.DeliveryPending {
		d.NextAttemptAt = time.Time{} // no next attempt
	}
	d.DeliveredAt = nullTime(s.done)
	d.HeldUntil = nullTime(s.held)
	return d
}

func scanDelivery(sc sqlstore.Scanner) (watchdog.Delivery, error) {
	return scanRow(sc, &deliveryScan{})
}

// claimDeliveriesSQL claims for holder $5 up to $3 of notifier $1's pending
// deliveries due by $2, oldest first, moving them to $4; see
// ClaimDeliveries. It walks deliveries_pending_order_idx and stops at the
// limit when run under claimPlans.
const claimDeliveriesSQL = `WITH c AS (
		SELECT id, next_attempt_at AS prev FROM deliveries
		WHERE status = 'pending' AND notifier = $1 AND next_attempt_at <= $2
		ORDER BY next_attempt_at, id LIMIT $3
		FOR UPDATE SKIP LOCKED)
	UPDATE deliveries d SET next_attempt_at = $4, attempts = d.attempts + 1, holder = $5
	FROM c, alerts a
	WHERE d.id = c.id AND a.id = d.alert_id
	RETURNING d.id, d.alert_id, d.notifier, d.status, d.attempts, d.next_attempt_at, d.last_error, d.delivered_at, d.held_until,
		a.id, a.ticket_id, a.clock, a.stage, a.cycle, a.state, a.due_at, a.fired_at, a.escalation_level,
		a.priority, a.customer_tier, a.target_ns, a.elapsed_ns, a.details, a.cycle_ordinal, a.cycle_started_at, a.policy, a.acknowledged_by, c.prev`

// ClaimDeliveries claims for c.Holder up to c.Limit of c.Notifier's pending
// deliveries due by c.Now, oldest first, in one statement: the claimed rows
// name their holder, move to c.Until and count an attempt. Rows another
// process is claiming are skipped. The planner settings and the statement
// go as one query string, one transaction in one round trip (see
// FinishDeliveries): a claim loop working off a backlog claims again as
// soon as its sends make room.
func (s *Store) ClaimDeliveries(ctx context.Context, c watchdog.DeliveryClaim) ([]watchdog.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if c.Limit <= 0 {
		return nil, nil
	}
	q, err := literalQuery(claimDeliveriesSQL, c.Notifier, us(c.Now), c.Limit, us(c.Until), c.Holder)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim deliveries: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, claimPlans+"; "+q)
	if err != nil {
		return nil, s.fail(ctx, "claim deliveries", err)
	}
	defer rows.Close()
	type claimed struct {
		d    watchdog.Delivery
		prev time.Time
	}
	var got []claimed
	for rows.Next() {
		var (
			cl claimed
			ds deliveryScan
			as alertScan
		)
		dest := append(ds.dest(), as.dest()...)
		if err := rows.Scan(append(dest, &cl.prev)...); err != nil {
			return nil, s.fail(ctx, "claim deliveries", err)
		}
		a := as.value()
		cl.d = ds.value()
		cl.d.Alert = &a
		got = append(got, cl)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "claim deliveries", err)
	}
	if err := rows.Close(); err != nil {
		return nil, s.fail(ctx, "claim deliveries", err)
	}
	sort.Slice(got, func(i, j int) bool {
		if !got[i].prev.Equal(got[j].prev) {
			return got[i].prev.Before(got[j].prev)
		}
		return got[i].d.ID < got[j].d.ID
	})
	out := make([]watchdog.Delivery, len(got))
	for i := range got {
		out[i] = got[i].d
	}
	return out, nil
}

// FinishDeliveries records attempt outcomes with one statement, under the
// write transactions' planner settings (keyedPlans), so that it is planned
// as key probes; see watchdog.Store.
//
// The settings and the update go to the server as one query string, which
// it runs as one transaction: one round trip where a transaction with a
// bound statement takes four (begin, the settings, the statement, commit).
// Recording is what bounds a notifier's sending rate (at most
// DeliveryBatch sent before their outcomes are recorded), and on a machine
// a bulk import keeps busy every round trip waits for both processes to be
// scheduled again. The values go as literals of the arrays the statement
// unnests, quoted by the driver.
func (s *Store) FinishDeliveries(ctx context.Context, outcomes []watchdog.DeliveryOutcome) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if len(outcomes) == 0 {
		return nil
	}
	q, err := finishQuery(outcomes)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, keyedPlans+"; "+q); err != nil {
		return s.fail(ctx, "finish deliveries", err)
	}
	return nil
}

// finishQuery is finishDeliveriesSQL for outcomes, with their values as
// literals.
func finishQuery(outcomes []watchdog.DeliveryOutcome) (string, error) {
	var (
		ids, attempts = make(pq.Int64Array, len(outcomes)), make(pq.Int64Array, len(outcomes))
		statuses      = make(pq.StringArray, len(outcomes))
		at            = make(timeArray, len(outcomes))
		errs          = make(pq.StringArray, len(outcomes))
		unsent        = make(pq.BoolArray, len(outcomes))
	)
	for i := range outcomes {
		o := &outcomes[i]
		if err := sqlstore.CheckOutcome(*o); err != nil {
			return "", fmt.Errorf("postgres: %w", err)
		}
		var when time.Time
		switch o.Status {
		case watchdog.DeliveryDelivered:
			when = us(o.Finished)
		case watchdog.DeliveryFailed:
			errs[i] = storableText(o.Error)
		case watchdog.DeliveryPending:
			when, errs[i] = us(o.RetryAt), storableText(o.Error)
		}
		if !when.IsZero() {
			at[i] = &when
		}
		ids[i], attempts[i], statuses[i], unsent[i] = o.ID, int64(o.Attempt), string(o.Status), o.Unsent
	}
	q, err := literalQuery(finishDeliveriesSQL, ids, attempts, statuses, at, errs, unsent)
	if err != nil {
		return "", fmt.Errorf("postgres: finish deliveries: %w", err)
	}
	return q, nil
}

// finishDeliveriesSQL records outcomes, every kind with one statement. Only
// the claim an outcome is for (same attempts, still pending) is updated,
// and its holder let go; an unsent one takes back that claim's attempt and
// keeps the previous error unless it brings one. It is planned anew for
// each batch, not prepared: a generic plan cached while the table was
// nearly empty (the start of a catch-up) kept being used at 400,000
// pending rows, and three runs of four delivered their last alert minutes
// late. It compares the status with stillPending, not 'pending'.
const finishDeliveriesSQL = `UPDATE deliveries d SET status = u.status, holder = NULL,
		attempts = CASE WHEN u.unsent THEN d.attempts - 1 ELSE d.attempts END,
		next_attempt_at = CASE WHEN u.status = 'pending' THEN u.at ELSE d.next_attempt_at END,
		delivered_at = CASE WHEN u.status = 'delivered' THEN u.at ELSE d.delivered_at END,
		last_error = CASE WHEN u.unsent AND u.err = '' THEN d.last_error ELSE u.err END
	FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::bool[])
		AS u(id, attempts, status, at, err, unsent)
	WHERE d.id = u.id AND d.attempts = u.attempts AND d.status = ` + stillPending

// stillPending is the pending status as a statement that updates
// deliveries it names by key compares it: as a subquery, not the constant
// 'pending'. With the constant the planner may read the pending deliveries
// through the partial indexes that hold them (their predicate is that
// constant) and match the batch against all of them, instead of probing
// the key: right after a burst of firings, before the table is analysed,
// it takes the pending set for a few dozen rows and chose that plan, and
// recording 128 outcomes with 20,000 pending took 170 ms instead of 1 ms
// (BenchmarkDeliveryRecord). A subquery is not a constant, so no partial
// index's predicate follows from it, and the key is the only way in.
const stillPending = "(SELECT 'pending'::text)"

// Heartbeat records that holder is alive until until; see watchdog.Store.
func (s *Store) Heartbeat(ctx context.Context, holder string, until time.Time) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO delivery_holders (id, expires_at) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`, holder, us(until)); err != nil {
		return s.fail(ctx, "heartbeat", err)
	}
	return nil
}

// RescueDeliveries frees the pending deliveries of holders whose heartbeat
// ended by now, in one statement; see watchdog.Store. Replicas rescuing at
// once do not collide: the first to delete a holder's row frees its
// deliveries, the others find it gone.
func (s *Store) RescueDeliveries(ctx context.Context, now time.Time, self string) (freed int, next time.Time, err error) {
	if err := s.check(ctx); err != nil {
		return 0, time.Time{}, err
	}
	now = us(now)
	var nextAt sql.NullTime
	err = s.db.QueryRowContext(ctx, `WITH dead AS (
			DELETE FROM delivery_holders WHERE expires_at <= $1 RETURNING id),
		freed AS (
			UPDATE deliveries d SET holder = NULL, next_attempt_at = $1
			FROM dead WHERE d.holder = dead.id AND d.status = 'pending'
			RETURNING d.id)
		SELECT (SELECT count(*) FROM freed), (SELECT min(expires_at) FROM delivery_holders WHERE expires_at > $1 AND id <> $2)`,
		now, self).Scan(&freed, &nextAt)
	if err != nil {
		return 0, time.Time{}, s.fail(ctx, "rescue deliveries", err)
	}
	if nextAt.Valid {
		next = nextAt.Time.UTC()
	}
	return freed, next, nil
}
