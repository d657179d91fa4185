package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
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

func (s *deliveryScan) Dest() []any {
	d := &s.d
	return []any{&d.ID, &d.AlertID, &d.Notifier, &s.status, &d.Attempts, &d.NextAttemptAt, &d.LastError, &s.done, &s.held}
}

func (s *deliveryScan) Value() (watchdog.Delivery, error) {
	d := s.d
	d.Status = watchdog.DeliveryStatus(s.status)
	d.NextAttemptAt = d.NextAttemptAt.UTC()
	if d.Status != watchdog.DeliveryPending {
		d.NextAttemptAt = time.Time{} // no next attempt
	}
	d.DeliveredAt = nullTime(s.done)
	d.HeldUntil = nullTime(s.held)
	return d, nil
}

var deliveryScans = sqlstore.NewScanPool(func() *deliveryScan { return new(deliveryScan) })

func scanDelivery(sc sqlstore.Scanner) (watchdog.Delivery, error) { return deliveryScans.Scan(sc) }

// claimDeliveriesSQL claims for holder $5 up to $3 of notifier $1's pending
// deliveries due by $2, oldest first, moving them to $4; see
// ClaimDeliveries. It walks deliveries_pending_order_idx and stops at the
// limit when run under claimPlans. With from, it starts at the pending
// order's position ($6, $7) (claimFloors).
func claimDeliveriesSQL(from bool) string {
	floor := ""
	if from {
		floor = " AND (next_attempt_at, id) >= ($6, $7)"
	}
	return `WITH c AS (
		SELECT id, next_attempt_at AS prev FROM deliveries
		WHERE status = 'pending' AND notifier = $1 AND next_attempt_at <= $2` + floor + `
		ORDER BY next_attempt_at, id LIMIT $3
		FOR UPDATE SKIP LOCKED)
	UPDATE deliveries d SET next_attempt_at = $4, attempts = d.attempts + 1, holder = $5
	FROM c, alerts a
	WHERE d.id = c.id AND a.id = d.alert_id
	RETURNING d.id, d.alert_id, d.notifier, d.status, d.attempts, d.next_attempt_at, d.last_error, d.delivered_at, d.held_until,
		a.id, a.ticket_id, a.clock, a.stage, a.cycle, a.state, a.due_at, a.fired_at, a.escalation_level,
		a.priority, a.customer_tier, a.target_ns, a.elapsed_ns, a.details, a.cycle_ordinal, a.cycle_started_at, a.policy, a.acknowledged_by, c.prev`
}

// ClaimDeliveries claims for c.Holder up to c.Limit of c.Notifier's pending
// deliveries due by c.Now, oldest first, in one statement: the claimed rows
// name their holder, move to c.Until and count an attempt. Rows another
// process is claiming are skipped. The planner settings and the statement
// go as one query string, one transaction in one round trip (see
// FinishDeliveries): a claim loop working off a backlog claims again as
// soon as its sends make room.
//
// In a backlog a claim starts where the last full one stopped (see
// claimFloors); when that finds fewer than c.Limit, the rest is claimed
// from the head of the pending order, so a claim short of its limit still
// means that nothing more is due.
//
// A claim from the head first writes the rows of the notifier's hand-offs
// whose backstop ran out (materializeSQL), as the claimed rows they stand
// for.
func (s *Store) ClaimDeliveries(ctx context.Context, c watchdog.DeliveryClaim) ([]watchdog.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if c.Limit <= 0 {
		return nil, nil
	}
	fl, fromFloor, gen := s.floors.start(c.Notifier)
	var from *claimFloor
	if fromFloor {
		from = &fl
	}
	got, err := s.claimFrom(ctx, c, from)
	if err != nil {
		return nil, err
	}
	if fromFloor && len(got) < c.Limit {
		rest := c
		rest.Limit = c.Limit - len(got)
		more, err := s.claimFrom(ctx, rest, nil)
		if err != nil {
			// The next claim starts from the head. Rows claimed from the
			// floor are this caller's now: hand them over, and leave the
			// error to the next call.
			s.floors.done(c.Notifier, gen, false, false, time.Time{}, 0)
			if len(got) == 0 {
				return nil, err
			}
			return deliveriesOf(got), nil
		}
		got = mergeClaimed(got, more)
	}
	var last claimed
	if len(got) > 0 {
		last = got[len(got)-1]
	}
	s.floors.done(c.Notifier, gen, fromFloor, len(got) == c.Limit, last.prev, last.d.ID)
	return deliveriesOf(got), nil
}

// claimed is a claimed delivery with its place in the pending order before
// the claim moved it.
type claimed struct {
	d    watchdog.Delivery
	prev time.Time
}

func claimedBefore(a, b claimed) bool {
	if !a.prev.Equal(b.prev) {
		return a.prev.Before(b.prev)
	}
	return a.d.ID < b.d.ID
}

// mergeClaimed orders two claims' rows together, oldest first.
func mergeClaimed(a, b []claimed) []claimed {
	out := append(a, b...)
	sort.Slice(out, func(i, j int) bool { return claimedBefore(out[i], out[j]) })
	return out
}

func deliveriesOf(got []claimed) []watchdog.Delivery {
	out := make([]watchdog.Delivery, len(got))
	for i := range got {
		out[i] = got[i].d
	}
	return out
}

// claimFrom runs one claim statement, from the pending order's position
// from when it is not nil, and returns the rows oldest first.
func (s *Store) claimFrom(ctx context.Context, c watchdog.DeliveryClaim, from *claimFloor) ([]claimed, error) {
	args := []any{c.Notifier, us(c.Now), c.Limit, us(c.Until), c.Holder}
	if from != nil {
		args = append(args, from.at, from.id)
	}
	q, err := literalQuery(claimDeliveriesSQL(from != nil), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim deliveries: %w", err)
	}
	if from == nil {
		m, err := literalQuery(materializeSQL, c.Notifier, us(c.Now))
		if err != nil {
			return nil, fmt.Errorf("postgres: claim deliveries: %w", err)
		}
		q = m + "; " + q
	}
	rows, err := s.db.QueryContext(ctx, claimPlans+"; "+q)
	if err != nil {
		return nil, s.fail(ctx, "claim deliveries", err)
	}
	defer rows.Close()
	var (
		got  []claimed
		ds   deliveryScan
		as   alertScan
		prev time.Time
	)
	// One set of destinations for every row: Value copies out of them.
	dest := append(append(ds.Dest(), as.Dest()...), &prev)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, s.fail(ctx, "claim deliveries", err)
		}
		a, _ := as.Value()
		cl := claimed{prev: prev}
		cl.d, _ = ds.Value()
		cl.d.Alert = &a
		got = append(got, cl)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "claim deliveries", err)
	}
	if err := rows.Close(); err != nil {
		return nil, s.fail(ctx, "claim deliveries", err)
	}
	sort.Slice(got, func(i, j int) bool { return claimedBefore(got[i], got[j]) })
	return got, nil
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
	rest, b := s.handoffs.Take(outcomes)
	q, err := finishStatements(rest, b.Handed, b.Deletes, false)
	if err == nil {
		_, err = s.db.ExecContext(ctx, q)
		if len(b.Handed) > 0 && uniqueViolation(err) {
			// The rescue or a claim wrote some of the handed-off rows
			// first (see insertHandedSQL): nothing of the batch was
			// written, and it runs again updating those rows.
			if q, err = finishStatements(rest, b.Handed, b.Deletes, true); err == nil {
				_, err = s.db.ExecContext(ctx, q)
			}
		}
		if err != nil {
			err = s.fail(ctx, "finish deliveries", err)
		}
	}
	s.handoffs.Settle(b, err == nil)
	if err != nil {
		return err
	}
	var retry time.Time
	for _, o := range outcomes {
		if o.Status == watchdog.DeliveryPending && (retry.IsZero() || o.RetryAt.Before(retry)) {
			retry = o.RetryAt
		}
	}
	if !retry.IsZero() {
		s.floors.lower(us(retry))
	}
	return nil
}

// finishStatements is the query string that records outcomes of
// deliveries with rows (rest) and of this store's hand-offs (handed), and
// deletes the hand-off rows emptied. The handed-off rows are inserted, or
// upserted when upsert (see insertHandedSQL).
func finishStatements(rest []watchdog.DeliveryOutcome, handed []sqlstore.HandedOutcome, emptied []int64, upsert bool) (string, error) {
	stmts := []string{keyedPlans}
	if len(rest) > 0 {
		q, err := finishQuery(rest)
		if err != nil {
			return "", err
		}
		stmts = append(stmts, q)
	}
	if len(handed) > 0 {
		q, err := recordHandedQuery(handed, upsert)
		if err != nil {
			return "", err
		}
		stmts = append(stmts, q)
	}
	if len(emptied) > 0 {
		q, err := literalQuery(deleteHandoffsSQL, pq.Int64Array(emptied))
		if err != nil {
			return "", fmt.Errorf("postgres: finish deliveries: %w", err)
		}
		stmts = append(stmts, q)
	}
	return strings.Join(stmts, "; "), nil
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
		when, msg, err := outcomeValues(*o)
		if err != nil {
			return "", err
		}
		at[i], errs[i] = when, msg
		ids[i], attempts[i], statuses[i], unsent[i] = o.ID, int64(o.Attempt), string(o.Status), o.Unsent
	}
	q, err := literalQuery(finishDeliveriesSQL, ids, attempts, statuses, at, errs, unsent)
	if err != nil {
		return "", fmt.Errorf("postgres: finish deliveries: %w", err)
	}
	return q, nil
}

// outcomeValues checks o and returns the instant it records (the delivery
// instant, or the retry's; nil for a failure) and its error as stored.
func outcomeValues(o watchdog.DeliveryOutcome) (at *time.Time, msg string, err error) {
	if err := sqlstore.CheckOutcome(o); err != nil {
		return nil, "", fmt.Errorf("postgres: %w", err)
	}
	var when time.Time
	switch o.Status {
	case watchdog.DeliveryDelivered:
		when = us(o.Finished)
	case watchdog.DeliveryFailed:
		msg = storableText(o.Error)
	case watchdog.DeliveryPending:
		when, msg = us(o.RetryAt), storableText(o.Error)
	}
	if !when.IsZero() {
		at = &when
	}
	return at, msg, nil
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
	q, err := literalQuery(`INSERT INTO delivery_holders (id, expires_at) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at`, holder, us(until))
	if err != nil {
		return fmt.Errorf("postgres: heartbeat: %w", err)
	}
	// It also deletes the hand-off rows left for the next recording (see
	// handoffs), so that none outlives a quiet spell.
	deletes := s.handoffs.TakeDeletable()
	if len(deletes) > 0 {
		del, err := literalQuery(deleteHandoffsSQL, pq.Int64Array(deletes))
		if err != nil {
			s.handoffs.GiveDeletable(deletes)
			return fmt.Errorf("postgres: heartbeat: %w", err)
		}
		q += "; " + del
	}
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		s.handoffs.GiveDeletable(deletes)
		return s.fail(ctx, "heartbeat", err)
	}
	return nil
}

// RescueDeliveries frees the pending deliveries of holders whose heartbeat
// ended by now, in one statement, writing the rows of their hand-offs'
// deliveries that have none as freed (see handoff.go); see watchdog.Store. Replicas rescuing at
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
			RETURNING d.id),
		handed AS (
			DELETE FROM delivery_handoffs h USING dead WHERE h.holder = dead.id
			RETURNING h.notifier, h.delivery_ids, h.alert_ids),
		written AS (
			INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, status)
			SELECT u.id, u.alert_id, handed.notifier, $1, 1, 'pending'
			FROM handed, unnest(handed.delivery_ids, handed.alert_ids) AS u(id, alert_id)
			ON CONFLICT DO NOTHING
			RETURNING id)
		SELECT (SELECT count(*) FROM freed) + (SELECT count(*) FROM written),
			(SELECT min(expires_at) FROM delivery_holders WHERE expires_at > $1 AND id <> $2)`,
		now, self).Scan(&freed, &nextAt)
	if err != nil {
		return 0, time.Time{}, s.fail(ctx, "rescue deliveries", err)
	}
	if freed > 0 {
		s.floors.lower(now)
	}
	if nextAt.Valid {
		next = nextAt.Time.UTC()
	}
	return freed, next, nil
}
