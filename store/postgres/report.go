package postgres

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// SLAReport aggregates the selected outcomes in SQL, in two passes that
// never sort them all (see sqlstore.Binned): the first counts each group's
// clocks per period (the query's bounds, computed in Go in its time zone,
// with width_bucket) and bin of business time; the second reads only the
// stopped clocks of the bins that hold each percentile, through the index
// of outcomes by business time, and picks them exactly. By stop, the first
// pass reads the whole UTC days of each period from the roll-up
// sla_outcome_days and only the partial days at the periods' edges from
// the outcome rows (see reportByStop). Both passes read one snapshot. See
// watchdog.Store.
func (s *Store) SLAReport(ctx context.Context, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, s.fail(ctx, "sla report", err)
	}
	defer tx.Rollback()
	// A hash aggregate of many small groups: give it the memory, and skip
	// JIT compilation, which costs more than it saves here.
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"); err != nil {
		return nil, s.fail(ctx, "sla report", err)
	}
	var rows []watchdog.SLAReportRow
	if q.By == watchdog.ByStarted {
		rows, err = reportByStart(ctx, tx, q)
	} else {
		rows, err = reportByStop(ctx, tx, q)
	}
	if err != nil {
		return nil, s.fail(ctx, "sla report", err)
	}
	return rows, nil
}

// periodOf is the period index (1-based) of the instant col, by the
// bounds in $3; 0 when the query groups by no period.
func periodOf(q watchdog.SLAReportQuery, col string) string {
	if q.Period() == "" {
		return "0 + 0*cardinality($3::timestamptz[])"
	}
	return "width_bucket(" + col + ", $3::timestamptz[])"
}

func boundsArray(q watchdog.SLAReportQuery) timeArray {
	bounds := q.Bounds()
	arr := make(timeArray, len(bounds))
	for i := range bounds {
		arr[i] = ptr(bounds[i])
	}
	return arr
}

// reportByStop is the report of stopped clocks by their stop. Its first
// pass reads, per group, period and coarse bin (sqlstore.CoarseBin): the
// roll-up's rows of the UTC days that lie wholly inside a period, the
// outcome rows stopped in the rest of each period (its partial days, by the
// stop index), the reopened clocks and the open tickets' clocks.
func reportByStop(ctx context.Context, tx *sqlx.Tx, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	from, to, _ := sqlstore.ReportRange(q)
	periods, days, raw := sqlstore.DaySpans(q)
	rawLo, rawHi := make(timeArray, len(raw)), make(timeArray, len(raw))
	for i, r := range raw {
		rawLo[i], rawHi[i] = ptr(r.From), ptr(r.To)
	}
	const cols = "(policy, tier, priority, sla_type, calendar, at, bin, n, met, open, open_breached, past)"
	b := sqlstore.NewCoarseBinned(q.Bounds())
	err := sqlstore.EachRow(ctx, tx, `SELECT `+sqlstore.ReportKeys(q)+`, `+periodOf(q, "at")+`, bin,
			sum(n), sum(met), sum(open), sum(open_breached), sum(past)
		FROM (SELECT policy, tier, priority, sla_type, calendar, to_timestamp(day::bigint * 86400), bin, stopped, met, 0, 0, overrun_seconds
			FROM sla_outcome_days WHERE day = ANY($5::integer[])
		UNION ALL SELECT o.policy, o.tier, o.priority, o.sla_type, o.calendar, o.stopped_at, sla_outcome_bin(o.business_seconds), 1,
			CASE WHEN o.breached THEN 0 ELSE 1 END, 0, 0, CASE WHEN o.breached THEN o.overrun_seconds ELSE 0 END
			FROM unnest($6::timestamptz[], $7::timestamptz[]) AS r (lo, hi)
			CROSS JOIN LATERAL (SELECT * FROM sla_outcomes WHERE stopped_at >= r.lo AND stopped_at < r.hi OFFSET 0) o
		UNION ALL SELECT policy, tier, priority, sla_type, calendar, started_at, 0, 0, 0, 1, CASE WHEN breach_at <= $4 THEN 1 ELSE 0 END, 0
			FROM sla_outcomes WHERE stopped_at IS NULL AND started_at >= $1 AND started_at < $2
		UNION ALL SELECT policy, tier, priority, sla_type, calendar, at, 0, 0, 0, 1, CASE WHEN breach_at <= $4 THEN 1 ELSE 0 END, 0
			FROM (`+openClocks+`) oc (policy, tier, priority, sla_type, calendar, stopped_at, breached, breach_at, business_seconds, overrun_seconds, at)
		) x `+cols+` GROUP BY 1, 2, 3, 4, 5, 6, 7`,
		func(rows *sql.Rows) error { return addCounts(b, rows) },
		from, to, boundsArray(q), us(q.Now), pq.Int64Array(days), rawLo, rawHi)
	if err != nil {
		return nil, err
	}
	if err := pickRanked(ctx, tx, q, b, periods); err != nil {
		return nil, err
	}
	return b.Rows(), nil
}

// pickRanked picks each group's percentiles in SQL: per group, period and
// bin that holds one, the clock of its rank among the group's stopped
// clocks of the period in the bin, read from the index by bin and stop
// (sla_outcomes_bin_idx: only that period's clocks of the bin) and sorted
// there; only that one row comes back.
func pickRanked(ctx context.Context, tx *sqlx.Tx, q watchdog.SLAReportQuery, b *sqlstore.Binned, periods []sqlstore.Span) error {
	picks := b.RankedPicks()
	if len(picks) == 0 {
		return nil
	}
	span := map[int]sqlstore.Span{}
	for _, p := range periods {
		if q.Period() == "" {
			p.Period = 0
		}
		span[p.Period] = p
	}
	var (
		idx, bin, rank []int64
		lo, hi         timeArray
		keys           [5][]string
	)
	for i, p := range picks {
		sp := span[p.Period]
		idx, bin, rank = append(idx, int64(i)), append(bin, p.Bin), append(rank, int64(p.Rank))
		lo, hi = append(lo, ptr(sp.From)), append(hi, ptr(sp.To))
		for j, v := range []string{p.Policy, p.Tier, p.Priority, p.SLAType, p.Calendar} {
			keys[j] = append(keys[j], v)
		}
	}
	var match string
	for _, k := range sqlstore.ReportKeyCols {
		if q.Groups(k) {
			match += " AND " + k + " = r." + k
		}
	}
	return sqlstore.EachRow(ctx, tx, `SELECT r.i, o.business_seconds
		FROM unnest($1::integer[], $2::timestamptz[], $3::timestamptz[], $4::integer[], $5::bigint[],
			$6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
			AS r (i, lo, hi, bin, rank, policy, tier, priority, sla_type, calendar)
		CROSS JOIN LATERAL (SELECT business_seconds FROM sla_outcomes
			WHERE stopped_at IS NOT NULL AND sla_outcome_bin(business_seconds) = r.bin
				AND stopped_at >= r.lo AND stopped_at < r.hi`+match+`
			ORDER BY business_seconds OFFSET r.rank - 1 LIMIT 1) o`,
		func(rows *sql.Rows) error {
			var (
				i int
				v int64
			)
			if err := rows.Scan(&i, &v); err != nil {
				return err
			}
			b.SetPicked(picks[i], v)
			return nil
		},
		pq.Int64Array(idx), lo, hi, pq.Int64Array(bin), pq.Int64Array(rank),
		pq.StringArray(keys[0]), pq.StringArray(keys[1]), pq.StringArray(keys[2]), pq.StringArray(keys[3]), pq.StringArray(keys[4]))
}

// reportByStart is the report of every clock by its start, from the
// outcome rows (the roll-up is by stop) and the open tickets' clocks.
func reportByStart(ctx context.Context, tx *sqlx.Tx, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	from, to, _ := sqlstore.ReportRange(q)
	selected := `(` + selectOutcomes("policy, tier, priority, sla_type, calendar, stopped_at, breached, breach_at, business_seconds, overrun_seconds", false) +
		` UNION ALL ` + openClocks + `) o (policy, tier, priority, sla_type, calendar, stopped_at, breached, breach_at, business_seconds, overrun_seconds, at)`
	b := sqlstore.NewBinned(q.Bounds())
	err := sqlstore.EachRow(ctx, tx, `SELECT `+sqlstore.ReportKeys(q)+`, `+periodOf(q, "at")+`, business_seconds / `+binWidth+`,
		count(*) FILTER (WHERE stopped_at IS NOT NULL),
		count(*) FILTER (WHERE stopped_at IS NOT NULL AND NOT breached),
		count(*) FILTER (WHERE stopped_at IS NULL),
		count(*) FILTER (WHERE stopped_at IS NULL AND breach_at <= $4),
		coalesce(sum(overrun_seconds) FILTER (WHERE stopped_at IS NOT NULL AND breached), 0)
		FROM `+selected+` GROUP BY 1, 2, 3, 4, 5, 6, 7`,
		func(rows *sql.Rows) error { return addCounts(b, rows) },
		from, to, boundsArray(q), us(q.Now))
	if err != nil {
		return nil, err
	}
	bins := b.NeededBins()
	if len(bins) == 0 {
		return b.Rows(), nil
	}
	// Only the stopped clocks of the needed bins, through the index by
	// coarse bin (which holds the fine one).
	err = sqlstore.EachRow(ctx, tx, `SELECT `+sqlstore.ReportKeys(q)+`, `+periodOf(q, "o.started_at")+`, o.business_seconds
		FROM unnest($4::bigint[]) AS r (bin)
		CROSS JOIN LATERAL (SELECT policy, tier, priority, sla_type, calendar, started_at, business_seconds FROM sla_outcomes
			WHERE stopped_at IS NOT NULL AND sla_outcome_bin(business_seconds) = sla_outcome_bin(r.bin * `+binWidth+`)
				AND business_seconds >= r.bin * `+binWidth+` AND business_seconds < (r.bin + 1) * `+binWidth+`
				AND started_at >= $1 AND started_at < $2 OFFSET 0) o`,
		func(rows *sql.Rows) error { return addValue(b, rows) },
		from, to, boundsArray(q), pq.Int64Array(bins))
	if err != nil {
		return nil, err
	}
	return b.Rows(), nil
}

func addCounts(b *sqlstore.Binned, rows *sql.Rows) error {
	var (
		pol, tier, prio, clock, cal      string
		period                           int
		bin                              int64
		stopped, met, open, openBreached int
		past                             int64
	)
	if err := rows.Scan(&pol, &tier, &prio, &clock, &cal, &period, &bin, &stopped, &met, &open, &openBreached, &past); err != nil {
		return err
	}
	b.AddCounts(pol, tier, prio, clock, cal, period, bin, stopped, met, open, openBreached, past)
	return nil
}

func addValue(b *sqlstore.Binned, rows *sql.Rows) error {
	var (
		pol, tier, prio, clock, cal string
		period                      int
		business                    int64
	)
	if err := rows.Scan(&pol, &tier, &prio, &clock, &cal, &period, &business); err != nil {
		return err
	}
	b.AddValue(pol, tier, prio, clock, cal, period, business)
	return nil
}

// binWidth is sqlstore.BinSeconds in SQL.
const binWidth = "60"
