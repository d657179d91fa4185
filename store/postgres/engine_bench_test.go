package postgres_test

import (
	"testing"

	"github.com/ticket-watchdog/watchdog/internal/bench"
)

// BenchmarkEngineBurst measures the engine's evaluation per stage fired on
// one PostgreSQL connection (see bench.EngineBurst), with the CPU time of
// the server process and of this one per burst.
//
//	go test -run '^$' -bench EngineBurst -benchtime 20x ./store/postgres/
func BenchmarkEngineBurst(b *testing.B) {
	st := openOneConn(b)
	cpu := newCPUMeter(b, st)
	bench.EngineBurst(b, st, cpu.start, cpu.stop)
	cpu.report(b)
}

// BenchmarkEngineIngest measures the ingest mode's events through an
// engine on one PostgreSQL connection (see bench.EngineIngest), with the
// CPU time of the server process and of this one per batch of 1,000.
//
//	go test -run '^$' -bench EngineIngest -benchtime 100x ./store/postgres/
func BenchmarkEngineIngest(b *testing.B) {
	st := openOneConn(b)
	cpu := newCPUMeter(b, st)
	bench.EngineIngest(b, st, cpu.start, cpu.stop)
	cpu.report(b)
}
