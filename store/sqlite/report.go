package sqlite

import (
	"context"
	"database/sql"
	"sort"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// reportByStop is the report of stopped clocks by their stop, in two passes
// that never read every outcome of a long range (see sqlstore.Binned).
// The first counts each group's clocks per period and coarse bin of
// business time (sqlstore.CoarseBin): the roll-up's rows
// (sla_outcome_days) of the UTC days that lie wholly inside a period, the
// outcome rows stopped in the rest of each period (its partial days, by
// the stop index), the reopened clocks and the open tickets' clocks. The
// second reads the stopped clocks of the bins that hold each percentile,
// through the index by business time. Both read one snapshot.
func (s *Store) reportByStop(ctx context.Context, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	from, to, _ := sqlstore.ReportRange(q)
	periods, days, raw := sqlstore.DaySpans(q)
	bounds := q.Bounds()
	b := sqlstore.NewCoarseBinned(bounds)
	// periodOf is the period index (1-based) of p, 0 with no period key.
	periodOf := func(p int) int {
		if q.Period() == "" {
			return 0
		}
		return p
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(ctx, "sla report", err)
	}
	defer tx.Rollback()
	keys := sqlstore.ReportKeys(q)
	if len(days) > 0 {
		dayPeriod := make(map[int64]int, len(days))
		for _, p := range periods {
			for _, d := range days {
				if start := d * 86400; start >= p.From.Unix() && start < p.To.Unix() {
					dayPeriod[d] = periodOf(p.Period)
				}
			}
		}
		err := sqlstore.EachRow(ctx, tx, "SELECT "+keys+", day, bin, stopped, met, overrun_seconds FROM sla_outcome_days WHERE day >= ? AND day <= ?",
			func(rows *sql.Rows) error {
				var (
					k              [5]string
					day, bin, past int64
					stopped, met   int
				)
				if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &day, &bin, &stopped, &met, &past); err != nil {
					return err
				}
				if p, ok := dayPeriod[day]; ok {
					b.AddCounts(k[0], k[1], k[2], k[3], k[4], p, bin, stopped, met, 0, 0, past)
				}
				return nil
			}, days[0], days[len(days)-1])
		if err != nil {
			return nil, s.wrap(ctx, "sla report", err)
		}
	}
	for _, sp := range raw {
		err := sqlstore.EachRow(ctx, tx, "SELECT "+keys+", breached, business_seconds, overrun_seconds FROM sla_outcomes"+
			" WHERE stopped_at >= ? AND stopped_at < ?",
			func(rows *sql.Rows) error {
				var (
					k                 [5]string
					breached          bool
					business, overrun int64
				)
				if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &breached, &business, &overrun); err != nil {
					return err
				}
				if breached {
					b.AddCounts(k[0], k[1], k[2], k[3], k[4], periodOf(sp.Period), sqlstore.CoarseBin(business), 1, 0, 0, 0, overrun)
				} else {
					b.AddCounts(k[0], k[1], k[2], k[3], k[4], periodOf(sp.Period), sqlstore.CoarseBin(business), 1, 1, 0, 0, 0)
				}
				return nil
			}, micros(sp.From), micros(sp.To))
		if err != nil {
			return nil, s.wrap(ctx, "sla report", err)
		}
	}
	if err := s.addOpenCounts(ctx, tx, q, b, from.UnixMicro(), to.UnixMicro()); err != nil {
		return nil, err
	}
	if err := s.pickRanked(ctx, tx, q, b, periods, periodOf); err != nil {
		return nil, err
	}
	return b.Rows(), nil
}

// binExpr is sqlstore.CoarseBin in SQL, as sla_outcomes_bin_idx has it.
const binExpr = "CASE WHEN business_seconds < 3600 THEN business_seconds / 300" +
	" WHEN business_seconds < 360000 THEN 12 + (business_seconds - 3600) / 3600" +
	" ELSE 111 + (business_seconds - 360000) / 86400 END"

// pickRanked picks each group's percentiles in SQL: the clock of its rank
// among the group's stopped clocks of the period in its bin, read from the
// index by bin and stop (only that period's clocks of the bin).
func (s *Store) pickRanked(ctx context.Context, tx *sql.Tx, q watchdog.SLAReportQuery, b *sqlstore.Binned, periods []sqlstore.Span,
	periodOf func(int) int) error {
	span := map[int]sqlstore.Span{}
	for _, p := range periods {
		span[periodOf(p.Period)] = p
	}
	var match string
	for _, k := range sqlstore.ReportKeyCols {
		if q.Groups(k) {
			match += " AND " + k + " = ?"
		}
	}
	stmt, err := tx.PrepareContext(ctx, "SELECT business_seconds FROM sla_outcomes INDEXED BY sla_outcomes_bin_idx"+
		" WHERE stopped_at IS NOT NULL AND "+binExpr+" = ? AND stopped_at >= ? AND stopped_at < ?"+match+
		" ORDER BY business_seconds LIMIT 1 OFFSET ?")
	if err != nil {
		return s.wrap(ctx, "sla report", err)
	}
	defer stmt.Close()
	for _, p := range b.RankedPicks() {
		sp := span[p.Period]
		args := []any{p.Bin, micros(sp.From), micros(sp.To)}
		for i, k := range sqlstore.ReportKeyCols {
			if q.Groups(k) {
				args = append(args, []string{p.Policy, p.Tier, p.Priority, p.SLAType, p.Calendar}[i])
			}
		}
		var v int64
		if err := stmt.QueryRowContext(ctx, append(args, p.Rank-1)...).Scan(&v); err != nil {
			return s.wrap(ctx, "sla report", err)
		}
		b.SetPicked(p, v)
	}
	return nil
}

// addOpenCounts counts the clocks in progress, by their start in [from,
// to): the reopened outcome rows and the open tickets' clocks.
func (s *Store) addOpenCounts(ctx context.Context, tx *sql.Tx, q watchdog.SLAReportQuery, b *sqlstore.Binned, from, to int64) error {
	var bounds []int64
	if q.Period() != "" {
		for _, t := range q.Bounds() {
			bounds = append(bounds, t.UnixMicro())
		}
	}
	now := q.Now.UnixMicro()
	add := func(k [5]string, at int64, breachAt sql.NullInt64) {
		p := sort.Search(len(bounds), func(i int) bool { return bounds[i] > at })
		ob := 0
		if breachAt.Valid && breachAt.Int64 <= now {
			ob = 1
		}
		b.AddCounts(k[0], k[1], k[2], k[3], k[4], p, 0, 0, 0, 1, ob, 0)
	}
	err := sqlstore.EachRow(ctx, tx, "SELECT "+sqlstore.ReportKeys(q)+", started_at, breach_at FROM sla_outcomes WHERE stopped_at IS NULL AND started_at >= ? AND started_at < ?",
		func(rows *sql.Rows) error {
			var (
				k        [5]string
				at       int64
				breachAt sql.NullInt64
			)
			if err := rows.Scan(&k[0], &k[1], &k[2], &k[3], &k[4], &at, &breachAt); err != nil {
				return err
			}
			add(k, at, breachAt)
			return nil
		}, from, to)
	if err != nil {
		return s.wrap(ctx, "sla report", err)
	}
	err = sqlstore.EachRow(ctx, tx, openClocks, func(rows *sql.Rows) error {
		var (
			k                  [5]string
			clocks             int
			respBreach, resBrc sql.NullInt64
			at                 int64
		)
		if err := rows.Scan(&k[0], &k[1], &k[2], &clocks, &k[4], &respBreach, &resBrc, &at); err != nil {
			return err
		}
		k[1], k[2] = sqlstore.NormKey(k[1]), sqlstore.NormKey(k[2])
		for i, key := range []string{"policy", "tier", "priority", "", "calendar"} {
			if key != "" && !q.Groups(key) {
				k[i] = ""
			}
		}
		if clocks&1 != 0 {
			if k[3] = ""; q.Groups("sla_type") {
				k[3] = string(watchdog.Response)
			}
			add(k, at, respBreach)
		}
		if clocks&2 != 0 {
			if k[3] = ""; q.Groups("sla_type") {
				k[3] = string(watchdog.Resolution)
			}
			add(k, at, resBrc)
		}
		return nil
	}, from, to)
	return s.wrap(ctx, "sla report: open clocks", err)
}
