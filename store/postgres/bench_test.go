package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/bench"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// Run with, for example:
//
//	go test -run '^$' -bench . -benchtime 100x ./store/postgres/
//
// The 1M-ticket claim case needs a minute of preloading; -short skips it.

const batchSize = 1000

func benchEvents(prefix string, n int, updated time.Duration) []watchdog.Event {
	evs := make([]watchdog.Event, n)
	for i := range evs {
		ev := storetest.NewEvent(fmt.Sprintf("%s-%07d", prefix, i), updated)
		evs[i] = ev
	}
	return evs
}

func BenchmarkIngest1000(b *testing.B) {
	ctx := context.Background()
	due := storetest.At(30 * time.Minute)
	plan := storetest.OpenPlan(&due)

	b.Run("new-tickets", func(b *testing.B) {
		st := openOneConn(b)
		cpu := newCPUMeter(b, st)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			evs := benchEvents(fmt.Sprintf("N%06d", i), batchSize, 0)
			b.StartTimer()
			cpu.start()
			if _, err := st.Ingest(ctx, evs, plan); err != nil {
				b.Fatal(err)
			}
			cpu.stop()
		}
		b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "events/s")
		cpu.report(b)
	})

	b.Run("all-updates", func(b *testing.B) {
		// 50 chunks of 1,000 existing tickets, taken in turn, so that each
		// batch updates tickets whose timelines grow slowly.
		st := openOneConn(b)
		cpu := newCPUMeter(b, st)
		const chunks = 50
		base := benchEvents("U", chunks*batchSize, 0)
		for c := range chunks {
			if _, err := st.Ingest(ctx, base[c*batchSize:(c+1)*batchSize], plan); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			c := i % chunks
			evs := make([]watchdog.Event, batchSize)
			for k := range evs {
				ev := base[c*batchSize+k]
				ev.UpdatedAt = ev.UpdatedAt.Add(time.Duration(i+1) * time.Second)
				ev.Status = "pending"
				evs[k] = ev
			}
			b.StartTimer()
			cpu.start()
			if _, err := st.Ingest(ctx, evs, plan); err != nil {
				b.Fatal(err)
			}
			cpu.stop()
		}
		b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "events/s")
		cpu.report(b)
	})
}

// BenchmarkEventWrite compares ways to write 1,000 timeline rows in one
// transaction: unnest arrays (what Ingest does) against COPY into a temporary
// staging table followed by INSERT ... SELECT ... ON CONFLICT DO NOTHING, and
// plain COPY into the table as the ceiling.
func BenchmarkEventWrite(b *testing.B) {
	ctx := context.Background()
	for _, method := range []string{"unnest", "copy-staging", "copy-raw"} {
		b.Run(method, func(b *testing.B) {
			st := open(b, pgtest.DSN(b))
			db := st.DB()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				evs := benchEvents(fmt.Sprintf("W%06d", i), batchSize, 0)
				b.StartTimer()
				if err := writeEvents(ctx, db, method, evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func writeEvents(ctx context.Context, db *sqlx.DB, method string, evs []watchdog.Event) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	copyInto := func(table string) error {
		stmt, err := tx.PrepareContext(ctx, "COPY "+table+" (ticket_id, updated_at, status, priority, customer_tier, created_at) FROM STDIN")
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if _, err := stmt.ExecContext(ctx, ev.ID, ev.UpdatedAt, ev.Status, ev.Priority, ev.CustomerTier, ev.CreatedAt); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return err
		}
		return stmt.Close()
	}
	switch method {
	case "unnest":
		n := len(evs)
		ids, st, pr, tr := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		up, cr := make([]time.Time, n), make([]time.Time, n)
		for i, ev := range evs {
			ids[i], st[i], pr[i], tr[i], up[i], cr[i] = ev.ID, ev.Status, ev.Priority, ev.CustomerTier, ev.UpdatedAt, ev.CreatedAt
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO ticket_timeline (ticket_id, updated_at, status, priority, customer_tier, created_at)
			SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
			ON CONFLICT DO NOTHING RETURNING ticket_id`,
			pq.StringArray(ids), pq.GenericArray{A: up}, pq.StringArray(st), pq.StringArray(pr), pq.StringArray(tr), pq.GenericArray{A: cr})
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
	case "copy-staging":
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS stage_events
			(LIKE ticket_timeline INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		if err := copyInto("stage_events"); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO ticket_timeline SELECT * FROM stage_events
			ON CONFLICT DO NOTHING RETURNING ticket_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
	case "copy-raw":
		if err := copyInto("ticket_timeline"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// BenchmarkClaimDue measures one EvaluateDue(limit 1000) call with 1% of the
// tickets due, at 10k and 1M tickets: the cost should follow the number of
// due tickets, not the table size. Each call's plan moves the claimed
// tickets an hour ahead, and each call's now is two hours later, so the due
// set keeps its size.
func BenchmarkClaimDue(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("tickets=%d", size), func(b *testing.B) {
			if size > 100_000 && testing.Short() {
				b.Skip("-short: skipping the 1M-ticket preload")
			}
			ctx := context.Background()
			st := openOneConn(b)
			preloadTickets(b, st, size, 100)
			cpu := newCPUMeter(b, st)
			now := storetest.Base
			claimed := 0
			b.ResetTimer()
			for b.Loop() {
				now = now.Add(2 * time.Hour)
				next := now.Add(time.Hour)
				plan := storetest.OpenPlan(&next)
				cpu.start()
				alerts, err := st.EvaluateDue(ctx, now, 1000, countingPlan(plan, &claimed))
				if err != nil {
					b.Fatal(err)
				}
				cpu.stop()
				if len(alerts) != 0 {
					b.Fatalf("plan fires nothing, got %d alerts", len(alerts))
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(claimed)/float64(b.N), "tickets/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(claimed), "ns/ticket")
		})
	}
}

// BenchmarkFireDue measures one EvaluateDue(limit 1000) call that fires
// one alert per claimed ticket with one delivery handed off to the caller,
// as the engine does in a burst of due tickets: the per-ticket cost of
// recording alerts. Each call moves its tickets an hour past its now and
// the next call's now is two hours later, so every call claims 1000.
//
//	go test -run '^$' -bench FireDue -benchtime 30x ./store/postgres/
func BenchmarkFireDue(b *testing.B) {
	ctx := context.Background()
	st := openOneConn(b)
	preloadTickets(b, st, 20_000, 1)
	cpu := newCPUMeter(b, st)
	now := storetest.Base
	claimed, fired, pass := 0, 0, 0
	b.ResetTimer()
	for b.Loop() {
		pass++
		now = now.Add(2 * time.Hour)
		next := now.Add(time.Hour)
		fire := storetest.FirePlan(now, &next, []string{"slack"}, fmt.Sprintf("escalation-%d", pass))
		plan := func(t *watchdog.Ticket) watchdog.Plan {
			p := fire(t)
			p.Claimed, p.ClaimedUntil = []string{"slack"}, now.Add(time.Minute)
			return p
		}
		cpu.start()
		alerts, err := st.EvaluateDue(ctx, now, 1000, countingPlan(plan, &claimed))
		if err != nil {
			b.Fatal(err)
		}
		cpu.stop()
		fired += len(alerts)
	}
	cpu.report(b)
	if fired != claimed {
		b.Fatalf("fired %d alerts for %d claimed tickets", fired, claimed)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(claimed), "ns/ticket")
}

func countingPlan(p watchdog.PlanFunc, n *int) watchdog.PlanFunc {
	return func(t *watchdog.Ticket) watchdog.Plan { *n++; return p(t) }
}

// preloadTickets COPYs n tickets, one in dueEvery due at storetest.Base,
// the rest due in a thousand years (their due index is filled by the COPY),
// and analyses the table.
func preloadTickets(b *testing.B, st *postgres.Store, n, dueEvery int) {
	b.Helper()
	ctx := context.Background()
	db := st.DB()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `COPY tickets (id, priority, customer_tier, status, created_at, updated_at,
		sla_state, open, next_due_at) FROM STDIN`)
	if err != nil {
		b.Fatal(err)
	}
	far := storetest.Base.AddDate(1000, 0, 0)
	for i := range n {
		due := far
		if i%dueEvery == 0 {
			due = storetest.Base.Add(-time.Duration(i%3600) * time.Second)
		}
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("P-%08d", i), "high", "gold", "open",
			storetest.Base, storetest.Base, "ok", true, due); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		b.Fatal(err)
	}
	if err := stmt.Close(); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE tickets"); err != nil {
		b.Fatal(err)
	}
}

// openOneConn opens a store whose pool holds a single connection, so that
// the benchmark can read that server process's CPU time.
func openOneConn(b *testing.B) *postgres.Store {
	b.Helper()
	st, err := postgres.Open(context.Background(), pgtest.DSN(b), &postgres.Config{MaxOpenConns: 1})
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// serverCPU returns a function reporting the CPU time the store's one
// server process has used so far, or nil when the server is not local (its
// /proc entry is unreadable). CPU time, unlike wall time, hardly depends on
// what else the machine runs, so A/B comparisons on a shared machine use it.
func serverCPU(b *testing.B, st *postgres.Store) func() time.Duration {
	b.Helper()
	var pid int
	if err := st.DB().QueryRowContext(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		b.Fatal(err)
	}
	path := fmt.Sprintf("/proc/%d/stat", pid)
	read := func() (time.Duration, bool) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return 0, false
		}
		// Fields after the parenthesised command: state is field 3, utime
		// and stime fields 14 and 15, in clock ticks (100 Hz on Linux).
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			return 0, false
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		k, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return time.Duration(u+k) * 10 * time.Millisecond, true
	}
	if _, ok := read(); !ok {
		return nil
	}
	return func() time.Duration { d, _ := read(); return d }
}

// cpuMeter reports server and client CPU per op between start and stop.
type cpuMeter struct {
	server   func() time.Duration
	s0, sSum time.Duration
	client   bench.CPUMeter
}

func newCPUMeter(b *testing.B, st *postgres.Store) *cpuMeter {
	return &cpuMeter{server: serverCPU(b, st)}
}

func (m *cpuMeter) start() {
	if m.server != nil {
		m.s0 = m.server()
	}
	m.client.Start()
}

func (m *cpuMeter) stop() {
	if m.server != nil {
		m.sSum += m.server() - m.s0
	}
	m.client.Stop()
}

func (m *cpuMeter) report(b *testing.B) {
	if m.server != nil {
		b.ReportMetric(float64(m.sSum.Microseconds())/1000/float64(b.N), "db-cpu-ms/op")
	}
	m.client.Report(b, "go-cpu-ms/op")
}

// BenchmarkDeliveryRecord measures what a notifier's loop asks of the
// store per batch of sends: one claim of 128 pending deliveries and the
// record of their outcomes, the two transactions whose round trips bound
// its sending rate. Wall time per delivery depends on what else the
// machine runs (each round trip waits to be scheduled); compare it on a
// loaded machine too, e.g. with two busy loops beside the benchmark.
//
//	go test -run '^$' -bench DeliveryRecord -benchtime 150x ./store/postgres/
func BenchmarkDeliveryRecord(b *testing.B) {
	const batch = 128
	ctx := context.Background()
	st := openOneConn(b)
	preloadTickets(b, st, 20_000, 1)
	now := storetest.Base
	fire := storetest.FirePlan(now, nil, []string{"slack"}, "alert")
	fired := 0
	for {
		alerts, err := st.EvaluateDue(ctx, now, 1000, fire)
		if err != nil {
			b.Fatal(err)
		}
		if len(alerts) == 0 {
			break
		}
		fired += len(alerts)
	}
	cpu := newCPUMeter(b, st)
	sent := 0
	b.ResetTimer()
	for b.Loop() {
		if sent+batch > fired {
			b.Fatalf("only %d deliveries pending for %d ops; lower -benchtime", fired, b.N)
		}
		cpu.start()
		ds, err := st.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "slack", Holder: "bench", Now: now, Limit: batch, Until: now.Add(time.Minute)})
		if err != nil {
			b.Fatal(err)
		}
		outs := make([]watchdog.DeliveryOutcome, len(ds))
		for i, d := range ds {
			outs[i] = watchdog.DeliveryOutcome{ID: d.ID, Attempt: d.Attempts, Status: watchdog.DeliveryDelivered, Finished: now}
		}
		if err := st.FinishDeliveries(ctx, outs); err != nil {
			b.Fatal(err)
		}
		cpu.stop()
		if len(ds) != batch {
			b.Fatalf("claimed %d, want %d", len(ds), batch)
		}
		sent += len(ds)
	}
	cpu.report(b)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(sent), "ns/delivery")
}

// BenchmarkRescueHandedOff: see storetest.BenchmarkRescueHandedOff.
//
//	go test -run '^$' -bench RescueHandedOff -benchtime 5x ./store/postgres/
func BenchmarkRescueHandedOff(b *testing.B) {
	for _, n := range []int{2_000, 8_000} {
		b.Run(fmt.Sprintf("deliveries=%d", n), func(b *testing.B) {
			storetest.BenchmarkRescueHandedOff(b, openOneConn(b), n)
		})
	}
}
