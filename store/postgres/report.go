package postgres

import (
	"context"
	"database/sql"
	"strings"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// SLAReport aggregates the selected outcomes in SQL, in two passes that
// never sort them all (see sqlstore.Binned): periods by the query's bounds
// (computed in Go, in its time zone) with width_bucket; then the exact
// nearest-rank percentiles among the few clocks of the bins that hold
// them. Both passes read one snapshot. See watchdog.Store.
func (s *Store) SLAReport(ctx context.Context, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	from, to, byStop := sqlstore.ReportRange(q)
	var keys []string
	for _, k := range sqlstore.ReportKeyCols {
		if q.Groups(k) {
			keys = append(keys, k)
		} else {
			keys = append(keys, "''")
		}
	}
	if q.Period() != "" {
		keys = append(keys, "width_bucket(at, $3::timestamptz[])")
	} else {
		keys = append(keys, "0 + 0*cardinality($3::timestamptz[])")
	}
	selected := `(` + selectOutcomes("policy, tier, priority, sla_type, calendar, stopped_at, breached, breach_at, business_seconds, overrun_seconds", byStop) +
		` UNION ALL ` + openClocks + `) o (policy, tier, priority, sla_type, calendar, stopped_at, breached, breach_at, business_seconds, overrun_seconds, at)`
	bounds := q.Bounds()
	arr := make(timeArray, len(bounds))
	for i := range bounds {
		arr[i] = ptr(bounds[i])
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
	b := sqlstore.NewBinned(bounds)
	group := strings.Join(keys, ", ")
	err = eachReportRow(ctx, tx, `SELECT `+group+`, business_seconds / `+binWidth+`,
		count(*) FILTER (WHERE stopped_at IS NOT NULL),
		count(*) FILTER (WHERE stopped_at IS NOT NULL AND NOT breached),
		count(*) FILTER (WHERE stopped_at IS NULL),
		count(*) FILTER (WHERE stopped_at IS NULL AND breach_at <= $4),
		coalesce(sum(overrun_seconds) FILTER (WHERE stopped_at IS NOT NULL AND breached), 0)
		FROM `+selected+` GROUP BY 1, 2, 3, 4, 5, 6, 7`,
		func(rows *sql.Rows) error {
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
		}, from, to, arr, us(q.Now))
	if err != nil {
		return nil, s.fail(ctx, "sla report", err)
	}
	if bins := b.NeededBins(); len(bins) > 0 {
		err = eachReportRow(ctx, tx, `SELECT `+group+`, business_seconds FROM `+selected+`
			WHERE stopped_at IS NOT NULL AND business_seconds / `+binWidth+` = ANY($4::bigint[])`,
			func(rows *sql.Rows) error {
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
			}, from, to, arr, pq.Int64Array(bins))
		if err != nil {
			return nil, s.fail(ctx, "sla report", err)
		}
	}
	return b.Rows(), nil
}

// binWidth is sqlstore.BinSeconds in SQL.
const binWidth = "60"

func eachReportRow(ctx context.Context, q queryer, query string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
