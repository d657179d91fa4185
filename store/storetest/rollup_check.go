package storetest

import (
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// CheckRollup fails t when a store's roll-up of stopped outcomes by day
// differs from the same counts aggregated from its outcome rows. rollup
// and fromRows are queries on db that each return rows of (day, policy,
// tier, priority, sla_type, calendar, bin, stopped, met, overrun seconds),
// one per cell whose counts are not all zero; CheckRollup orders them by
// the first seven columns. Stores run it after every conformance case
// (from Harness.Open's cleanup), so that whatever a case writes — late
// events, reopens, stale cycles, re-plans, backfills — the roll-up the
// reports read stays equal to the rows.
func CheckRollup(t testing.TB, db *sql.DB, rollup, fromRows string) {
	t.Helper()
	type cell struct {
		Day, Bin                                  int64
		Policy, Tier, Priority, SLAType, Calendar string
		Stopped, Met, Overrun                     int64
	}
	read := func(query string) []cell {
		rows, err := db.Query(query + " ORDER BY 1, 2, 3, 4, 5, 6, 7")
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		var out []cell
		for rows.Next() {
			var c cell
			if err := rows.Scan(&c.Day, &c.Policy, &c.Tier, &c.Priority, &c.SLAType, &c.Calendar, &c.Bin, &c.Stopped, &c.Met, &c.Overrun); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if diff := cmp.Diff(read(fromRows), read(rollup)); diff != "" {
		t.Errorf("the outcome roll-up differs from the outcome rows (-rows +roll-up):\n%s", diff)
	}
}
