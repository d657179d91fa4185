package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

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
// store remembers its own hand-offs (handoffs) and records their outcomes
// with an insert; the last outcome of a hand-off deletes its row. What
// must happen to a claimed row when nobody records its outcome happens to
// the hand-off's missing rows, which are written then as the claimed rows
// would have been: the rescue of a dead holder writes them pending and due
// at once; a claim after until writes them as claimed until until, and
// claims them (materializeExpired).
//
// An outcome's insert finds a row already there when the rescue or a
// claim wrote it first; it then updates it as finishDeliveriesSQL would,
// if the row is still at the hand-off's attempt and pending.

// handoffGroup is one delivery_handoffs row an evaluation writes.
type handoffGroup struct {
	id       int64
	holder   string
	notifier string
	until    time.Time
	// deliveries and alerts are the deliveries' ids and their alerts' ids.
	deliveries, alerts pq.Int64Array
}

// handoffKey groups an evaluation's handed-off deliveries into rows.
type handoffKey struct {
	holder, notifier string
	until            time.Time
}

// handoffs are the deliveries this store's evaluations handed off whose
// outcomes it has not recorded: what FinishDeliveries inserts. A hand-off
// row is deleted once every delivery it names has its row committed: by
// the statement recording the last of them when no other recording of
// the hand-off is in flight (a notifier records two batches at once),
// else by the next statement that records outcomes or a heartbeat
// (deletable).
type handoffs struct {
	mu        sync.Mutex
	byID      map[int64]handedOff // by delivery id
	rows      map[int64]*handoffState
	deletable []int64 // hand-off rows whose deliveries all have rows
}

// handoffState is what is left of one hand-off row: deliveries whose
// outcomes no recording has taken, and recordings of it in flight.
type handoffState struct {
	left, recording int
}

// handedOff is one handed-off delivery without a row.
type handedOff struct {
	handoff  int64
	alert    int64
	notifier string
	until    time.Time
}

// add remembers the deliveries of committed hand-offs.
func (h *handoffs) add(groups []handoffGroup) {
	if len(groups) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byID == nil {
		h.byID, h.rows = map[int64]handedOff{}, map[int64]*handoffState{}
	}
	for _, g := range groups {
		for i, id := range g.deliveries {
			h.byID[id] = handedOff{handoff: g.id, alert: g.alerts[i], notifier: g.notifier, until: g.until}
		}
		h.rows[g.id] = &handoffState{left: len(g.deliveries)}
	}
}

// handedOutcome is an outcome of a handed-off delivery.
type handedOutcome struct {
	watchdog.DeliveryOutcome
	handedOff
}

// handoffBatch is what one recording took from handoffs.
type handoffBatch struct {
	handed  []handedOutcome
	touched []int64 // the hand-offs of handed
	deletes []int64 // hand-off rows the recording deletes
}

// take splits outcomes into those of deliveries with a row (rest) and
// those of this store's hand-offs (b.handed), and picks the hand-off rows
// the recording deletes (b.deletes). The caller settles b once its
// recording committed or failed. An outcome for another attempt than the
// hand-off's stays with the rest; of two outcomes for one delivery, the
// second does too, and finds no row to update.
func (h *handoffs) take(outcomes []watchdog.DeliveryOutcome) (rest []watchdog.DeliveryOutcome, b handoffBatch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byID) == 0 && len(h.deletable) == 0 {
		return outcomes, b
	}
	for _, o := range outcomes {
		ho, ok := h.byID[o.ID]
		if !ok || o.Attempt != 1 {
			rest = append(rest, o)
			continue
		}
		delete(h.byID, o.ID)
		b.handed = append(b.handed, handedOutcome{o, ho})
		st := h.rows[ho.handoff]
		st.left--
		if !slices.Contains(b.touched, ho.handoff) {
			b.touched = append(b.touched, ho.handoff)
			st.recording++
		}
	}
	for _, id := range b.touched {
		if st := h.rows[id]; st.left == 0 && st.recording == 1 {
			delete(h.rows, id)
			b.deletes = append(b.deletes, id)
		}
	}
	b.deletes = append(b.deletes, h.deletable...)
	h.deletable = nil
	return rest, b
}

// settle ends the recording of b: committed, the hand-offs it finished
// are deleted by the next recording; failed, its outcomes and deletions
// are given back for the retry.
func (h *handoffs) settle(b handoffBatch, committed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if committed {
		for _, id := range b.touched {
			st, ok := h.rows[id]
			if !ok {
				continue // deleted by b
			}
			if st.recording--; st.left == 0 && st.recording == 0 {
				delete(h.rows, id)
				h.deletable = append(h.deletable, id)
			}
		}
		return
	}
	for _, id := range b.touched {
		st, ok := h.rows[id]
		if !ok {
			st = &handoffState{recording: 1}
			h.rows[id] = st
			b.deletes = slices.DeleteFunc(b.deletes, func(d int64) bool { return d == id })
		}
		st.recording--
	}
	for _, o := range b.handed {
		h.byID[o.ID] = o.handedOff
		h.rows[o.handoff].left++
	}
	h.deletable = append(h.deletable, b.deletes...)
}

// takeDeletable returns the hand-off rows ready to delete; the caller
// gives them back (giveDeletable) when its statement fails.
func (h *handoffs) takeDeletable() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.deletable
	h.deletable = nil
	return d
}

func (h *handoffs) giveDeletable(ids []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deletable = append(h.deletable, ids...)
}

// handOff adds the delivery of alert a described by t (claimed) under id
// to the evaluation's hand-off rows.
func (e *evaluation) handOff(t sqlstore.Target, id int64, a *watchdog.Alert) {
	k := handoffKey{holder: t.Holder, notifier: t.Notifier, until: t.Until}
	i, ok := e.handoffAt[k]
	if !ok {
		if e.handoffAt == nil {
			e.handoffAt = map[handoffKey]int{}
		}
		i = len(e.handed)
		e.handoffAt[k] = i
		e.handed = append(e.handed, handoffGroup{holder: k.holder, notifier: k.notifier, until: k.until})
	}
	g := &e.handed[i]
	g.deliveries, g.alerts = append(g.deliveries, id), append(g.alerts, a.ID)
}

// insertHandoffs writes the evaluation's hand-off rows under ids, in one
// statement.
func (e *evaluation) insertHandoffs(ctx context.Context, q queryer, ids []int64) error {
	if len(e.handed) == 0 {
		return nil
	}
	if len(ids) != len(e.handed) {
		return fmt.Errorf("hand off deliveries: drew %d ids for %d rows", len(ids), len(e.handed))
	}
	var (
		b    strings.Builder
		args []any
	)
	b.WriteString(`INSERT INTO delivery_handoffs (id, holder, notifier, until, delivery_ids, alert_ids) VALUES `)
	for i := range e.handed {
		g := &e.handed[i]
		g.id = ids[i]
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d::bigint, $%d::text, $%d::text, $%d::timestamptz, $%d::bigint[], $%d::bigint[])", n+1, n+2, n+3, n+4, n+5, n+6)
		args = append(args, g.id, g.holder, g.notifier, g.until, g.deliveries, g.alerts)
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

// recordHandedSQL writes the rows of handed-off deliveries with their
// outcomes ($1 ids, $2 alerts, $3 notifiers, $4 statuses, $5 attempts, $6
// next attempts, $7 errors, $8 delivery instants). A row the rescue or a
// claim wrote first is updated instead, as finishDeliveriesSQL would for
// the hand-off's attempt (1): only while it is still at that attempt and
// pending. Such a row was written never attempted beyond the hand-off, so
// the outcome's attempts and error are the row's.
const recordHandedSQL = `INSERT INTO deliveries AS d (id, alert_id, notifier, status, attempts, next_attempt_at, last_error, delivered_at)
	SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::text[], $8::timestamptz[])
	ON CONFLICT (alert_id, notifier) DO UPDATE SET status = excluded.status, holder = NULL, attempts = excluded.attempts,
		next_attempt_at = CASE WHEN excluded.status = 'pending' THEN excluded.next_attempt_at ELSE d.next_attempt_at END,
		delivered_at = COALESCE(excluded.delivered_at, d.delivered_at), last_error = excluded.last_error
	WHERE d.id = excluded.id AND d.attempts = 1 AND d.status = 'pending'`

// recordHandedQuery is recordHandedSQL for handed, with the values as
// literals.
func recordHandedQuery(handed []handedOutcome) (string, error) {
	var (
		n                     = len(handed)
		ids, alerts, attempts = make(pq.Int64Array, n), make(pq.Int64Array, n), make(pq.Int64Array, n)
		notifiers, statuses   = make(pq.StringArray, n), make(pq.StringArray, n)
		errs                  = make(pq.StringArray, n)
		next, delivered       = make(timeArray, n), make(timeArray, n)
	)
	for i := range handed {
		o := &handed[i]
		at, msg, err := outcomeValues(o.DeliveryOutcome)
		if err != nil {
			return "", err
		}
		ids[i], alerts[i], notifiers[i], statuses[i], errs[i] = o.ID, o.alert, o.notifier, string(o.Status), msg
		attempts[i] = 1
		if o.Unsent {
			attempts[i] = 0
		}
		until := us(o.until)
		next[i] = &until
		switch o.Status {
		case watchdog.DeliveryPending:
			next[i] = at
		case watchdog.DeliveryDelivered:
			delivered[i] = at
		}
	}
	q, err := literalQuery(recordHandedSQL, ids, alerts, notifiers, statuses, attempts, next, errs, delivered)
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
// backstop, so that the claim after it takes them), and deletes the
// hand-offs. It returns the earliest backstop it wrote, if any.
const materializeSQL = `WITH h AS (
		DELETE FROM delivery_handoffs WHERE notifier = $1 AND until <= $2
		RETURNING holder, notifier, until, delivery_ids, alert_ids),
	w AS (
		INSERT INTO deliveries (id, alert_id, notifier, next_attempt_at, attempts, holder, status)
		SELECT u.id, u.alert_id, h.notifier, h.until, 1, h.holder, 'pending'
		FROM h, unnest(h.delivery_ids, h.alert_ids) AS u(id, alert_id)
		ON CONFLICT DO NOTHING
		RETURNING next_attempt_at)
	SELECT min(next_attempt_at) FROM w`

// materializeExpired writes the rows of the notifier's hand-offs whose
// backstop ran out by now (see materializeSQL), so that a claim finds them
// where it would have found the claimed rows, and lowers the claims'
// floors to them.
func (s *Store) materializeExpired(ctx context.Context, notifier string, now time.Time) error {
	var first sql.NullTime
	if err := s.db.QueryRowContext(ctx, materializeSQL, notifier, us(now)).Scan(&first); err != nil {
		return s.fail(ctx, "claim deliveries", err)
	}
	if first.Valid {
		s.floors.lower(first.Time.UTC())
	}
	return nil
}

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
	ds, err := sqlstore.QueryAll(ctx, q, func(sc sqlstore.Scanner) (watchdog.Delivery, error) {
		d := watchdog.Delivery{Status: watchdog.DeliveryPending, Attempts: 1}
		err := sc.Scan(&d.ID, &d.AlertID, &d.Notifier, &d.NextAttemptAt)
		d.NextAttemptAt = d.NextAttemptAt.UTC()
		return d, err
	}, handedOffSQL, pq.Int64Array(alertIDs))
	if err != nil {
		return nil, fmt.Errorf("load handed-off deliveries: %w", err)
	}
	return ds, nil
}

// withHandedOff adds the handed-off deliveries of alerts without a row to
// their alerts' Deliveries (at by alert id), ordered by cmp.
func withHandedOff(ctx context.Context, q sqlstore.Queryer, alerts []watchdog.Alert, at map[int64]int, cmp func(a, b watchdog.Delivery) int) error {
	ids := make([]int64, 0, len(alerts))
	for i := range alerts {
		ids = append(ids, alerts[i].ID)
	}
	ds, err := handedOffOf(ctx, q, ids)
	if err != nil || len(ds) == 0 {
		return err
	}
	for _, d := range ds {
		a := &alerts[at[d.AlertID]]
		a.Deliveries = append(a.Deliveries, d)
		slices.SortFunc(a.Deliveries, cmp)
	}
	return nil
}
