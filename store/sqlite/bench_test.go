package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// BenchmarkIngest1000 ingests batches of 1,000 events: all new tickets, or
// all updates of stored tickets (each with one event so far).
//
//	go test -run '^$' -bench Ingest1000 -benchtime 20x ./store/sqlite/
func BenchmarkIngest1000(b *testing.B) {
	const batch = 1000
	plan := storetest.OpenPlan(storetest.TimePtr(storetest.At(time.Hour)))
	b.Run("new", func(b *testing.B) {
		s := open(b, filepath.Join(b.TempDir(), "bench.db"), nil)
		ctx := context.Background()
		n := 0
		for b.Loop() {
			evs := make([]watchdog.Event, batch)
			for i := range evs {
				evs[i] = storetest.NewEvent(fmt.Sprintf("t%09d", n*7919%1_000_003+i*1_000_003), time.Duration(i)*time.Millisecond)
			}
			n++
			if _, err := s.Ingest(ctx, evs, plan); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("update", func(b *testing.B) {
		s := open(b, filepath.Join(b.TempDir(), "bench.db"), nil)
		ctx := context.Background()
		const tickets = 100_000
		for k := 0; k < tickets; k += batch {
			evs := make([]watchdog.Event, batch)
			for i := range evs {
				evs[i] = storetest.NewEvent(fmt.Sprintf("t%09d", k+i), 0)
			}
			if _, err := s.Ingest(ctx, evs, plan); err != nil {
				b.Fatal(err)
			}
		}
		n := 0
		for b.Loop() {
			evs := make([]watchdog.Event, batch)
			first := n * batch % tickets
			for i := range evs {
				evs[i] = storetest.NewEvent(fmt.Sprintf("t%09d", (first+i*97)%tickets), time.Duration(n+1)*time.Second)
				evs[i].Status = "pending"
			}
			n++
			if _, err := s.Ingest(ctx, evs, plan); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkClaimDue evaluates 1,000 due tickets out of a table where 1% are
// due, with a plan that fires nothing and pushes next_due_at forward (due
// again at the next iteration's now). Rows: 100k; set WATCHDOG_BENCH_1M=1
// to add 1M.
//
//	WATCHDOG_BENCH_1M=1 go test -run '^$' -bench ClaimDue -benchtime 50x ./store/sqlite/
func BenchmarkClaimDue(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("WATCHDOG_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, rows := range sizes {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.db")
			s := open(b, path, nil)
			preload(b, path, rows)
			ctx := context.Background()
			const step = time.Minute
			now := storetest.At(time.Hour)
			claimed := 0
			for b.Loop() {
				next := now.Add(step / 2)
				seen := 0
				_, err := s.EvaluateDue(ctx, now, 1000, func(t *watchdog.Ticket) watchdog.Plan {
					seen++
					return watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: &next}
				})
				if err != nil {
					b.Fatal(err)
				}
				if seen != 1000 {
					b.Fatalf("claimed %d tickets, want 1000", seen)
				}
				claimed += seen
				now = now.Add(step)
			}
			b.ReportMetric(float64(claimed)/b.Elapsed().Seconds(), "tickets/s")
		})
	}
}

// preload fills the database with rows tickets (one event each), 1% of them
// due at Base+1h and the rest a year later, generated inside SQLite.
func preload(b *testing.B, path string, rows int) {
	b.Helper()
	start := time.Now()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	base := storetest.Base.UnixMicro()
	due := storetest.At(time.Hour).UnixMicro()
	later := storetest.At(365 * 24 * time.Hour).UnixMicro()
	const gen = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
	if _, err := db.Exec(gen+`INSERT INTO tickets (id, priority, customer_tier, status, created_at, updated_at, escalation_level,
		sla_state, untracked_reason, open, next_due_at, breach_at)
		SELECT printf('t%09d', i), 'high', 'gold', 'open', ?, ?, 0, 'ok', '', 1,
		       CASE WHEN i % 100 = 0 THEN ? ELSE ? + i END, NULL FROM n`, rows, base, base, due, later); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(gen+`INSERT INTO ticket_events (ticket_id, updated_at, status, priority, customer_tier, created_at)
		SELECT printf('t%09d', i), ?, 'open', 'high', 'gold', ? FROM n`, rows, base, base); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("preloaded %d tickets in %s", rows, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
}

// BenchmarkRescueHandedOff: see storetest.BenchmarkRescueHandedOff.
//
//	go test -run '^$' -bench RescueHandedOff -benchtime 5x ./store/sqlite/
func BenchmarkRescueHandedOff(b *testing.B) {
	for _, n := range []int{2_000, 8_000} {
		b.Run(fmt.Sprintf("deliveries=%d", n), func(b *testing.B) {
			storetest.BenchmarkRescueHandedOff(b, open(b, filepath.Join(b.TempDir(), "bench.db"), nil), n)
		})
	}
}
