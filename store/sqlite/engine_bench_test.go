package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ticket-watchdog/watchdog/internal/bench"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// BenchmarkEngineBurst measures the engine's evaluation per stage fired on
// SQLite (see bench.EngineBurst), with the CPU time of this process (the
// store runs in it) per burst.
//
//	go test -run '^$' -bench EngineBurst -benchtime 20x ./store/sqlite/
func BenchmarkEngineBurst(b *testing.B) {
	var cpu bench.CPUMeter
	bench.EngineBurst(b, openBench(b, "burst.db"), cpu.Start, cpu.Stop)
	cpu.Report(b, "cpu-ms/op")
}

// BenchmarkEngineIngest measures the ingest mode's events through an
// engine on SQLite (see bench.EngineIngest): events/s of the store's
// transactions and the engine's plans, without HTTP; and the CPU time of
// this process (the store runs in it) per batch of 1,000.
//
//	go test -run '^$' -bench EngineIngest -benchtime 100x ./store/sqlite/
func BenchmarkEngineIngest(b *testing.B) {
	var cpu bench.CPUMeter
	bench.EngineIngest(b, openBench(b, "ingest.db"), cpu.Start, cpu.Stop)
	cpu.Report(b, "cpu-ms/op")
}

// openBench opens a SQLite store in a file of the benchmark's temporary
// directory, closed when it ends.
func openBench(b *testing.B, name string) *sqlite.Store {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), name), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}
