package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

func scanOutcome(sc sqlstore.Scanner) (watchdog.Outcome, error) {
	var (
		o                                watchdog.Outcome
		clock                            string
		key                              int64
		started                          int64
		stopped, breachAt, recorded      sql.NullInt64
		target, business, paused, overrn int64
		breached                         int
	)
	if err := sc.Scan(&o.TicketID, &clock, &key, &o.Policy, &o.Tier, &o.Priority, &o.Calendar, &target, &started,
		&stopped, &business, &paused, &breached, &breachAt, &overrn, &recorded, &o.Cycle); err != nil {
		return o, err
	}
	o.SLAClock = watchdog.SLAClock(clock)
	o.Target, o.Business, o.Paused, o.Overrun = secs(target), secs(business), secs(paused), secs(overrn)
	o.StartedAt, o.StoppedAt = fromMicros(started), fromNullMicros(stopped)
	o.Breached, o.BreachAt, o.RecordedAt = breached != 0, fromNullMicros(breachAt), fromNullMicros(recorded)
	return o, nil
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

// outcomeSet lists the columns an upsert replaces.
var outcomeSet = func() string {
	var set []string
	for _, c := range strings.Split(sqlstore.OutcomeCols, ", ")[3:] {
		set = append(set, c+" = excluded."+c)
	}
	return strings.Join(set, ", ")
}()

// writeOutcomes deletes the stale outcome rows of w, then inserts or
// replaces its outcomes by (ticket, clock, cycle), and applies what that
// changes to the roll-up of stopped outcomes by day (sla_outcome_days):
// the rows these writes replace or delete, as stored, leave it, and the
// rows written enter it, one upsert per cell changed (triggers doing the
// same row by row were an eighth of an ingest's time).
func (s *Store) writeOutcomes(ctx context.Context, tx *sql.Tx, w sqlstore.OutcomeWrites) error {
	if len(w.Upserts) == 0 && len(w.Stale) == 0 {
		return nil
	}
	deltas, err := s.replacedOutcomes(ctx, tx, w)
	if err != nil {
		return err
	}
	for i := range w.Stale {
		o := &w.Stale[i]
		if _, err := tx.ExecContext(ctx, "DELETE FROM sla_outcomes WHERE ticket_id = ? AND sla_type = ? AND cycle = ?",
			o.TicketID, string(o.SLAClock), o.Key().Cycle); err != nil {
			return fmt.Errorf("delete stale outcomes: %w", err)
		}
	}
	outcomes := w.Upserts
	err = s.bulkExec(ctx, tx, "INSERT INTO sla_outcomes ("+sqlstore.OutcomeCols+") VALUES",
		"ON CONFLICT (ticket_id, sla_type, cycle) DO UPDATE SET "+outcomeSet, 17, len(outcomes),
		func(i int, args []any) []any {
			o := &outcomes[i]
			deltas.Add(o, 1)
			return append(args, o.TicketID, string(o.SLAClock), o.Key().Cycle, o.Policy, o.Tier, o.Priority, o.Calendar,
				int64(o.Target/time.Second), micros(o.StartedAt), nullMicros(o.StoppedAt), int64(o.Business/time.Second),
				int64(o.Paused/time.Second), boolInt(o.Breached), nullMicros(o.BreachAt), int64(o.Overrun/time.Second),
				nullMicros(o.RecordedAt), o.Cycle)
		})
	if err != nil {
		return fmt.Errorf("write outcomes: %w", err)
	}
	changes := deltas.Changes()
	err = s.bulkExec(ctx, tx, "INSERT INTO sla_outcome_days (day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds) VALUES",
		"ON CONFLICT (day, policy, tier, priority, sla_type, calendar, bin) DO UPDATE"+
			" SET stopped = stopped + excluded.stopped, met = met + excluded.met, overrun_seconds = overrun_seconds + excluded.overrun_seconds",
		10, len(changes), func(i int, args []any) []any {
			c := &changes[i]
			return append(args, c.Day, c.Policy, c.Tier, c.Priority, c.SLAType, c.Calendar, c.Bin, c.Stopped, c.Met, c.Overrun)
		})
	if err != nil {
		return fmt.Errorf("write outcome roll-up: %w", err)
	}
	return nil
}

// replacedOutcomes reads the stopped outcome rows that w replaces or
// deletes, as stored, and returns their removal from the roll-up.
func (s *Store) replacedOutcomes(ctx context.Context, tx *sql.Tx, w sqlstore.OutcomeWrites) (sqlstore.DayDeltas, error) {
	type rowKey struct {
		ticket string
		key    watchdog.OutcomeKey
	}
	keys := make(map[rowKey]bool, len(w.Upserts)+len(w.Stale))
	var ids []string
	for _, list := range [][]watchdog.Outcome{w.Upserts, w.Stale} {
		for i := range list {
			o := &list[i]
			if len(ids) == 0 || ids[len(ids)-1] != o.TicketID {
				ids = append(ids, o.TicketID)
			}
			keys[rowKey{o.TicketID, o.Key()}] = true
		}
	}
	deltas := make(sqlstore.DayDeltas)
	var (
		o     watchdog.Outcome
		clock string
		cycle int64
		stop  int64
		brc   int
		bus   int64
		over  int64
	)
	query := "SELECT ticket_id, sla_type, cycle, policy, tier, priority, calendar, stopped_at, business_seconds, breached, overrun_seconds" +
		" FROM sla_outcomes WHERE ticket_id IN " + inIDs + " AND stopped_at IS NOT NULL"
	err := sqlstore.EachRow(ctx, tx, query, func(rows *sql.Rows) error {
		if err := rows.Scan(&o.TicketID, &clock, &cycle, &o.Policy, &o.Tier, &o.Priority, &o.Calendar, &stop, &bus, &brc, &over); err != nil {
			return err
		}
		if !keys[rowKey{o.TicketID, watchdog.OutcomeKey{SLAClock: watchdog.SLAClock(clock), Cycle: cycle}}] {
			return nil
		}
		at := fromMicros(stop)
		o.SLAClock, o.StoppedAt, o.Business, o.Breached, o.Overrun = watchdog.SLAClock(clock), &at, secs(bus), brc != 0, secs(over)
		deltas.Add(&o, -1)
		return nil
	}, idList[string](ids))
	if err != nil {
		return nil, fmt.Errorf("read replaced outcomes: %w", err)
	}
	return deltas, nil
}

// selectOutcomes is the selection of a report among the outcome rows:
// stopped clocks by their stop (or start) in [?1, ?2), and rows in progress
// (reopened clocks) by their start. Each row gives cols and the instant
// that selects it.
func selectOutcomes(cols string, byStop bool) string {
	if !byStop {
		return "SELECT " + cols + ", started_at AS at FROM sla_outcomes WHERE started_at >= ?1 AND started_at < ?2"
	}
	return "SELECT " + cols + ", stopped_at AS at FROM sla_outcomes WHERE stopped_at >= ?1 AND stopped_at < ?2" +
		" UNION ALL SELECT " + cols + ", started_at AS at FROM sla_outcomes" +
		" WHERE stopped_at IS NULL AND started_at >= ?1 AND started_at < ?2"
}

// openClocks selects the clocks in progress that never stopped, from the
// open tickets' rows (read through the open tickets' index: only open
// tickets have open clocks), by the ticket's creation in [?1, ?2), as
// report rows: the key columns (tier and priority as stored), then each
// clock's breach instant and the instant that selects it.
const openClocks = "SELECT policy, customer_tier, priority, open_clocks, sla_calendar, response_breach_at, resolution_breach_at, created_at" +
	" FROM tickets INDEXED BY tickets_open_breach_idx WHERE open AND open_clocks <> 0 AND created_at >= ?1 AND created_at < ?2"

// SLAReport aggregates the selected outcomes: by stop, from the roll-up
// of whole UTC days and the outcome rows of the periods' edges
// (reportByStop); by start, which the roll-up cannot serve, by reading
// every outcome selected and aggregating it in Go (SQLite has no
// percentiles nor time zones). See watchdog.Store.
func (s *Store) SLAReport(ctx context.Context, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	from, to, byStop := sqlstore.ReportRange(q)
	if byStop {
		return s.reportByStop(ctx, q)
	}
	agg := sqlstore.NewAggregator(q)
	// Only the keys grouped by are read: strings cost.
	query := "SELECT " + sqlstore.ReportKeys(q) + ", stopped_at IS NOT NULL, breached, breach_at, business_seconds, overrun_seconds, started_at" +
		" FROM sla_outcomes WHERE started_at >= ?1 AND started_at < ?2"
	rows, err := s.r.QueryContext(ctx, query, micros(from), micros(to))
	if err != nil {
		return nil, s.wrap(ctx, "sla report", err)
	}
	defer rows.Close()
	var (
		r        sqlstore.ReportRow
		breachAt sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&r.Policy, &r.Tier, &r.Priority, &r.SLAType, &r.Calendar, &r.Stopped, &r.Breached, &breachAt, &r.Business, &r.Overrun, &r.At); err != nil {
			return nil, s.wrap(ctx, "sla report", err)
		}
		r.BreachAt, r.HasBreachAt = breachAt.Int64, breachAt.Valid
		agg.Add(r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "sla report", err)
	}
	if err := s.addOpenClocks(ctx, agg, from, to); err != nil {
		return nil, err
	}
	return agg.Rows(), nil
}

// addOpenClocks counts the open clocks of the tickets rows.
func (s *Store) addOpenClocks(ctx context.Context, agg *sqlstore.Aggregator, from, to time.Time) error {
	rows, err := s.r.QueryContext(ctx, openClocks, micros(from), micros(to))
	if err != nil {
		return s.wrap(ctx, "sla report: open clocks", err)
	}
	defer rows.Close()
	var (
		r                  sqlstore.ReportRow
		clocks             int
		respBreach, resBrc sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&r.Policy, &r.Tier, &r.Priority, &clocks, &r.Calendar, &respBreach, &resBrc, &r.At); err != nil {
			return s.wrap(ctx, "sla report: open clocks", err)
		}
		r.Tier, r.Priority = sqlstore.NormKey(r.Tier), sqlstore.NormKey(r.Priority)
		if clocks&1 != 0 {
			r.SLAType, r.BreachAt, r.HasBreachAt = string(watchdog.Response), respBreach.Int64, respBreach.Valid
			agg.Add(r)
		}
		if clocks&2 != 0 {
			r.SLAType, r.BreachAt, r.HasBreachAt = string(watchdog.Resolution), resBrc.Int64, resBrc.Valid
			agg.Add(r)
		}
	}
	return s.wrap(ctx, "sla report: open clocks", rows.Err())
}

// SLAOutcomes streams the selected outcomes. See watchdog.Store.
func (s *Store) SLAOutcomes(ctx context.Context, q watchdog.SLAReportQuery, fn func(*watchdog.Outcome) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	from, to, byStop := sqlstore.ReportRange(q)
	rows, err := s.r.QueryContext(ctx, selectOutcomes(sqlstore.OutcomeCols, byStop)+" ORDER BY at, ticket_id, sla_type, cycle",
		micros(from), micros(to))
	if err != nil {
		return s.wrap(ctx, "sla outcomes", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		o, err := scanOutcome(scanPlus{rows, &at})
		if err != nil {
			return s.wrap(ctx, "sla outcomes", err)
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
	return s.wrap(ctx, "sla outcomes", rows.Err())
}

// scanPlus scans a row of more columns than a scanner reads: the extra
// ones go to extra.
type scanPlus struct {
	rows  *sql.Rows
	extra *int64
}

func (p scanPlus) Scan(dest ...any) error { return p.rows.Scan(append(dest, p.extra)...) }

// BackfillOutcomes plans up to limit tickets after after whose outcomes
// were never derived (tracked, no calendar on their row) and stores their
// outcomes and open clocks. See watchdog.Store.
func (s *Store) BackfillOutcomes(ctx context.Context, after string, limit int, plan watchdog.PlanFunc) (string, int, error) {
	if err := s.check(ctx); err != nil {
		return after, 0, err
	}
	if limit <= 0 {
		return after, 0, nil
	}
	var page []*watchdog.Ticket
	if err := s.inWrite(ctx, "backfill outcomes", func(tx *sql.Tx) (err error) {
		page, err = sqlstore.QueryAll(ctx, tx, scanTicket, "SELECT "+ticketCols+" FROM tickets WHERE id > ?"+
			" AND sla_calendar = '' AND sla_state <> 'untracked' ORDER BY id LIMIT ?", after, limit)
		if err != nil || len(page) == 0 {
			return err
		}
		if err := loaders.FillPlan(ctx, tx, page); err != nil {
			return err
		}
		changes := snapshot(page)
		var outs sqlstore.OutcomeWrites
		for _, t := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := plan(t)
			outs.Add(sqlstore.ChangedOutcomes(t.Outcomes, p.Outcomes))
			_, t.OpenClocks = watchdog.SplitOutcomes(p.Outcomes)
		}
		if err := s.writeOutcomes(ctx, tx, outs); err != nil {
			return err
		}
		return s.updateTickets(ctx, tx, changes)
	}); err != nil {
		return after, 0, err
	}
	if len(page) == 0 {
		return after, 0, nil
	}
	return page[len(page)-1].ID, len(page), nil
}
