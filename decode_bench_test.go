package watchdog_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/bench"
)

// BenchmarkDecodeEvents1000 decodes one ingest request of the benchmark's
// workload: 1,000 events, a fifth of them updates.
func BenchmarkDecodeEvents1000(b *testing.B) {
	w := bench.Workload{Events: 1000, Batch: 1000, Streams: 1, UpdateFraction: 0.2, RunID: "b", Seed: 1,
		Base: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	body, err := json.Marshal(w.Stream(0)[0])
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := watchdog.DecodeEventsBytes(body); err != nil {
			b.Fatal(err)
		}
	}
}
