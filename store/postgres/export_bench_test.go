package postgres_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/bench"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// BenchmarkSLAOutcomes streams the outcome rows of 50,000 tickets resolved
// over the year before now (100,000 rows, as the reports mode stores them)
// through Store.SLAOutcomes, alone (rows) and written as CSV (csv): the
// CSV export without HTTP.
//
//	go test -run '^$' -bench SLAOutcomes -benchtime 10x ./store/postgres/
func BenchmarkSLAOutcomes(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.DSN(b)
	if err := bench.PreloadOutcomes(ctx, dsn, 50_000, io.Discard, &bench.ReportsResult{}); err != nil {
		b.Fatal(err)
	}
	st, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	q := watchdog.SLAReportQuery{From: time.Now().AddDate(-1, 0, -7), To: time.Now().Add(time.Hour)}
	for _, csv := range []bool{false, true} {
		name := "rows"
		if csv {
			name = "csv"
		}
		b.Run(name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				w, err := watchdog.NewOutcomeCSV(io.Discard, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := st.SLAOutcomes(ctx, q, func(o *watchdog.Outcome) error {
					rows++
					if csv {
						return w.Write(o)
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			if rows != 100_000*b.N {
				b.Fatalf("streamed %d rows in %d runs, want 100000 each", rows, b.N)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
