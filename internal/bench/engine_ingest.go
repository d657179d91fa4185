package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// EngineIngest is a Go benchmark of the ingest mode's work without HTTP:
// the same events (a Workload of new tickets and 20% updates: status
// changes, first responses, resolutions) under PolicyYAML, through
// Engine.Ingest over st on a fake clock, 1,000 events per call. What it
// measures is the store's transaction and the engine's plans (policy
// selection, clocks, outcomes), the part of an ingest that the hot-path
// rules of the reports and policies issues bound; start and stop, when
// set, bracket each call (a CPU meter). It reports events/s.
func EngineIngest(b *testing.B, st watchdog.Store, start, stop func()) {
	b.Helper()
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	e, err := watchdog.New(st, &watchdog.Config{Clock: watchdogtest.NewClock(base), Policy: p})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var batches [][]watchdog.Event
	run, events := 0, 0
	for b.Loop() {
		if len(batches) == 0 {
			b.StopTimer()
			run++
			w := Workload{Events: 50_000, Batch: 1000, Streams: 1, UpdateFraction: 0.2,
				RunID: fmt.Sprintf("e%d", run), Seed: uint64(run), Base: base}
			batches = w.Stream(0)
			b.StartTimer()
		}
		if start != nil {
			start()
		}
		if _, err := e.Ingest(ctx, batches[0]); err != nil {
			b.Fatal(err)
		}
		if stop != nil {
			stop()
		}
		events += len(batches[0])
		batches = batches[1:]
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
