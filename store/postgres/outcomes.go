package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// outcomeScan holds the destinations of one sla_outcomes row (OutcomeCols).
type outcomeScan struct {
	o                                 watchdog.Outcome
	clock                             string
	key                               int64
	target, business, paused, overrun int64
	stopped, breachAt, recorded       sql.NullTime
}

func (s *outcomeScan) Dest() []any {
	o := &s.o
	return []any{&o.TicketID, &s.clock, &s.key, &o.Policy, &o.Tier, &o.Priority, &o.Calendar, &s.target, &o.StartedAt,
		&s.stopped, &s.business, &s.paused, &o.Breached, &s.breachAt, &s.overrun, &s.recorded, &o.Cycle}
}

func (s *outcomeScan) Value() (watchdog.Outcome, error) {
	o := s.o
	o.SLAClock = watchdog.SLAClock(s.clock)
	o.Target, o.Business, o.Paused, o.Overrun = secs(s.target), secs(s.business), secs(s.paused), secs(s.overrun)
	o.StartedAt = o.StartedAt.UTC()
	o.StoppedAt, o.BreachAt, o.RecordedAt = nullTime(s.stopped), nullTime(s.breachAt), nullTime(s.recorded)
	return o, nil
}

var outcomeScans = sqlstore.NewScanPool(func() *outcomeScan { return new(outcomeScan) })

func scanOutcome(sc sqlstore.Scanner) (watchdog.Outcome, error) { return outcomeScans.Scan(sc) }

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

// outcomeRows are outcomes as parallel arrays for unnest, and the keys of
// stale rows to delete.
type outcomeRows struct {
	ticket, clock, policy, tier, priority, calendar []string
	cycle, target, business, paused, overrun        []int64
	ordinal                                         []int64
	started, stopped, breachAt, recorded            timeArray
	breached                                        []bool
	staleTicket, staleClock                         []string
	staleCycle                                      []int64
}

func (r *outcomeRows) add(w sqlstore.OutcomeWrites) {
	for i := range w.Stale {
		o := &w.Stale[i]
		r.staleTicket, r.staleClock = append(r.staleTicket, o.TicketID), append(r.staleClock, string(o.SLAClock))
		r.staleCycle = append(r.staleCycle, o.Key().Cycle)
	}
	os := w.Upserts
	for i := range os {
		o := &os[i]
		r.ticket, r.clock, r.cycle = append(r.ticket, o.TicketID), append(r.clock, string(o.SLAClock)), append(r.cycle, o.Key().Cycle)
		r.ordinal = append(r.ordinal, int64(o.Cycle))
		r.policy, r.tier, r.priority = append(r.policy, o.Policy), append(r.tier, o.Tier), append(r.priority, o.Priority)
		r.calendar, r.target = append(r.calendar, o.Calendar), append(r.target, int64(o.Target/time.Second))
		r.started, r.stopped = append(r.started, ptr(o.StartedAt)), append(r.stopped, o.StoppedAt)
		r.business, r.paused = append(r.business, int64(o.Business/time.Second)), append(r.paused, int64(o.Paused/time.Second))
		r.breached, r.breachAt = append(r.breached, o.Breached), append(r.breachAt, o.BreachAt)
		r.overrun, r.recorded = append(r.overrun, int64(o.Overrun/time.Second)), append(r.recorded, o.RecordedAt)
	}
}

// outcomeSet lists the columns an upsert replaces.
var outcomeSet = func() string {
	var set []string
	for _, c := range strings.Split(sqlstore.OutcomeCols, ", ")[3:] {
		set = append(set, c+" = excluded."+c)
	}
	return strings.Join(set, ", ")
}()

// rollUp is the tail of a statement that applies to the roll-up of stopped
// outcomes by day (sla_outcome_days) the rows of a relation "changed" of
// outcome columns and a sign (+1: a row written, -1: a row replaced or
// deleted), one upsert per cell in key order, in this connection's shard.
const rollUp = `INSERT INTO sla_outcome_days AS d (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds, shard)
	SELECT floor(extract(epoch FROM stopped_at) / 86400)::integer, policy, tier, priority, sla_type, calendar,
		sla_outcome_bin(business_seconds), sum(sign), sum(CASE WHEN breached THEN 0 ELSE sign END),
		sum(CASE WHEN breached THEN sign * overrun_seconds ELSE 0 END), (pg_backend_pid() % 8)::smallint
	FROM changed WHERE stopped_at IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5, 6, 7
	HAVING sum(sign) <> 0 OR sum(CASE WHEN breached THEN 0 ELSE sign END) <> 0
		OR sum(CASE WHEN breached THEN sign * overrun_seconds ELSE 0 END) <> 0
	ORDER BY 1, 2, 3, 4, 5, 6, 7
	ON CONFLICT (day, policy, tier, priority, sla_type, calendar, bin, shard) DO UPDATE
	SET stopped = d.stopped + excluded.stopped, met = d.met + excluded.met,
		overrun_seconds = d.overrun_seconds + excluded.overrun_seconds`

// rolledCols are the outcome columns rollUp reads.
const rolledCols = "stopped_at, policy, tier, priority, sla_type, calendar, business_seconds, breached, overrun_seconds"

// write deletes the stale rows, then inserts or replaces the outcomes by
// (ticket, clock, cycle); each statement also applies its change to the
// roll-up by day. The rows it replaces are read in the statement's
// snapshot, from before its own writes; no other transaction writes them
// meanwhile, as every writer of a ticket's outcomes holds the ticket's row
// lock (ingest, evaluation, re-plan and backfill all take it first).
func (r *outcomeRows) write(ctx context.Context, q queryer) error {
	if len(r.staleTicket) > 0 {
		if _, err := q.ExecContext(ctx, deleteOutcomesSQL, pq.StringArray(r.staleTicket), pq.StringArray(r.staleClock), pq.Int64Array(r.staleCycle)); err != nil {
			return fmt.Errorf("delete stale outcomes: %w", err)
		}
	}
	if len(r.ticket) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, upsertOutcomesSQL,
		pq.StringArray(r.ticket), pq.StringArray(r.clock), pq.Int64Array(r.cycle), pq.StringArray(r.policy),
		pq.StringArray(r.tier), pq.StringArray(r.priority), pq.StringArray(r.calendar), pq.Int64Array(r.target),
		r.started, r.stopped, pq.Int64Array(r.business), pq.Int64Array(r.paused), pq.BoolArray(r.breached), r.breachAt,
		pq.Int64Array(r.overrun), r.recorded, pq.Int64Array(r.ordinal)); err != nil {
		return fmt.Errorf("write outcomes: %w", err)
	}
	return nil
}

// deleteOutcomesSQL deletes outcome rows by key and takes them out of the
// roll-up; upsertOutcomesSQL inserts or replaces them by key and applies
// the change to the roll-up (see outcomeRows.write).
var (
	deleteOutcomesSQL = prepared(`WITH del AS (
			DELETE FROM sla_outcomes o
			USING unnest($1::text[], $2::text[], $3::bigint[]) AS s(ticket_id, sla_type, cycle)
			WHERE o.ticket_id = s.ticket_id AND o.sla_type = s.sla_type AND o.cycle = s.cycle
			RETURNING ` + prefixed("o.", rolledCols) + `),
		changed AS (SELECT *, -1 AS sign FROM del) ` + rollUp)
	upsertOutcomesSQL = prepared(`WITH n AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
				$9::timestamptz[], $10::timestamptz[], $11::bigint[], $12::bigint[], $13::bool[], $14::timestamptz[], $15::bigint[],
				$16::timestamptz[], $17::int[]) AS x(` + sqlstore.OutcomeCols + `)),
		old AS (
			SELECT ` + prefixed("o.", rolledCols) + ` FROM sla_outcomes o JOIN n USING (ticket_id, sla_type, cycle)
			WHERE o.stopped_at IS NOT NULL),
		up AS (
			INSERT INTO sla_outcomes (` + sqlstore.OutcomeCols + `) SELECT * FROM n
			ON CONFLICT (ticket_id, sla_type, cycle) DO UPDATE SET ` + outcomeSet + `
			RETURNING ` + rolledCols + `),
		changed AS (SELECT *, 1 AS sign FROM up UNION ALL SELECT *, -1 FROM old) ` + rollUp)
)

// prefixed returns the comma-separated columns cols, each with prefix.
func prefixed(prefix, cols string) string {
	return prefix + strings.ReplaceAll(cols, ", ", ", "+prefix)
}

// selectOutcomes is the selection of a report: stopped clocks by their stop
// (or start) in [$1, $2), and clocks in progress by their start. Each row
// gives cols and the instant that selects it, at.
func selectOutcomes(cols string, byStop bool) string {
	if !byStop {
		return "SELECT " + cols + ", started_at AS at FROM sla_outcomes WHERE started_at >= $1 AND started_at < $2"
	}
	return "SELECT " + cols + ", stopped_at AS at FROM sla_outcomes WHERE stopped_at >= $1 AND stopped_at < $2" +
		" UNION ALL SELECT " + cols + ", started_at AS at FROM sla_outcomes" +
		" WHERE stopped_at IS NULL AND started_at >= $1 AND started_at < $2"
}

// openClocks selects the clocks in progress that never stopped, from the
// open tickets' rows (only open tickets have open clocks, and the open
// tickets have an index), by the ticket's creation in [$1, $2), with the
// columns of the report's selectOutcomes.
const openClocks = `SELECT t.policy, lower(btrim(t.customer_tier)), lower(btrim(t.priority)), c.sla_type, t.sla_calendar,
		NULL::timestamptz, false, CASE c.bit WHEN 1 THEN t.response_breach_at ELSE t.resolution_breach_at END,
		0::bigint, 0::bigint, t.created_at
	FROM tickets t CROSS JOIN (VALUES (1, 'response'), (2, 'resolution')) AS c (bit, sla_type)
	WHERE t.open AND t.open_clocks <> 0 AND t.open_clocks & c.bit <> 0 AND t.created_at >= $1 AND t.created_at < $2`

// SLAOutcomes streams the selected outcomes. See watchdog.Store.
func (s *Store) SLAOutcomes(ctx context.Context, q watchdog.SLAReportQuery, fn func(*watchdog.Outcome) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	from, to, byStop := sqlstore.ReportRange(q)
	// Ordered by the instant alone, each part of the selection comes in
	// its index's order and the two are merged: rows stream from the
	// first, with no sort of the whole selection.
	rows, err := s.db.QueryContext(ctx, selectOutcomes(sqlstore.OutcomeCols, byStop)+" ORDER BY at", from, to)
	if err != nil {
		return s.fail(ctx, "sla outcomes", err)
	}
	defer rows.Close()
	// One scan target for every row (value copies out of it), and the
	// instant the rows are ordered by left as text: it is stopped_at or
	// started_at again, and each timestamp parsed is a good part of an
	// export's time.
	var (
		sc outcomeScan
		at sql.RawBytes
	)
	dest := append(sc.Dest(), &at)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return s.fail(ctx, "sla outcomes", err)
		}
		o, _ := sc.Value()
		if err := fn(&o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.fail(ctx, "sla outcomes", err)
	}
	return nil
}

// BackfillOutcomes plans up to limit tickets after after that have no
// outcomes and stores their outcomes. See watchdog.Store.
func (s *Store) BackfillOutcomes(ctx context.Context, after string, limit int, plan watchdog.PlanFunc) (string, int, error) {
	if err := s.check(ctx); err != nil {
		return after, 0, err
	}
	if limit <= 0 {
		return after, 0, nil
	}
	var (
		last string
		n    int
	)
	if err := rerun(ctx, func() (err error) {
		last, n, err = s.backfillOnce(ctx, after, limit, plan)
		return err
	}); err != nil {
		return after, 0, s.fail(ctx, "backfill outcomes", err)
	}
	return last, n, nil
}

func (s *Store) backfillOnce(ctx context.Context, after string, limit int, plan watchdog.PlanFunc) (string, int, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return "", 0, err
	}
	defer tx.Rollback()
	// The ticket rows are locked so that a concurrent ingest's outcomes
	// (from a newer timeline) are not overwritten by older ones. A tracked
	// ticket without a calendar never had its outcomes derived.
	tickets, err := queryTickets(ctx, tx, `SELECT `+ticketCols+` FROM tickets
		WHERE id > $1 AND sla_calendar = '' AND sla_state <> 'untracked'
		ORDER BY id LIMIT $2 FOR UPDATE`, after, limit)
	if err != nil {
		return "", 0, fmt.Errorf("select tickets: %w", err)
	}
	if len(tickets) == 0 {
		return after, 0, nil
	}
	if err := loaders.FillPlan(ctx, tx, tickets); err != nil {
		return "", 0, err
	}
	var (
		rows    outcomeRows
		tickRow ticketRows
	)
	for _, t := range tickets {
		p := plan(t)
		rows.add(sqlstore.ChangedOutcomes(t.Outcomes, p.Outcomes))
		_, oc := watchdog.SplitOutcomes(p.Outcomes)
		oc.ResponseBreachAt, oc.ResolutionBreachAt = usPtr(oc.ResponseBreachAt), usPtr(oc.ResolutionBreachAt)
		t.OpenClocks = oc
		tickRow.add(t)
	}
	if err := rows.write(ctx, tx); err != nil {
		return "", 0, err
	}
	// Only the open clocks' columns: the rest of each row is as read.
	if _, err := tx.ExecContext(ctx, `UPDATE tickets t SET sla_calendar = u.sla_calendar, open_clocks = u.open_clocks,
			response_breach_at = u.response_breach_at, resolution_breach_at = u.resolution_breach_at
		FROM unnest($1::text[], $2::text[], $3::smallint[], $4::timestamptz[], $5::timestamptz[])
			AS u(id, sla_calendar, open_clocks, response_breach_at, resolution_breach_at)
		WHERE t.id = u.id`, pq.StringArray(tickRow.id), pq.StringArray(tickRow.calendar), pq.Int64Array(tickRow.clocks),
		tickRow.respBreach, tickRow.resBreach); err != nil {
		return "", 0, fmt.Errorf("update tickets: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", 0, fmt.Errorf("commit: %w", err)
	}
	return tickets[len(tickets)-1].ID, len(tickets), nil
}
