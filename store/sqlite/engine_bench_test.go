package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ticket-watchdog/watchdog/internal/bench"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// BenchmarkEngineBurst measures the engine's evaluation per stage fired on
// SQLite (see bench.EngineBurst).
//
//	go test -run '^$' -bench EngineBurst -benchtime 20x ./store/sqlite/
func BenchmarkEngineBurst(b *testing.B) {
	bench.EngineBurst(b, openBench(b, "burst.db"), nil, nil)
}

// BenchmarkEngineIngest measures the ingest mode's events through an
// engine on SQLite (see bench.EngineIngest): events/s of the store's
// transactions and the engine's plans, without HTTP.
//
//	go test -run '^$' -bench EngineIngest -benchtime 100x ./store/sqlite/
func BenchmarkEngineIngest(b *testing.B) {
	bench.EngineIngest(b, openBench(b, "ingest.db"), nil, nil)
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
