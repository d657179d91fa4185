package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticket-watchdog/watchdog"
)

// BenchmarkObserveRequest is the per-request cost the API pays.
func BenchmarkObserveRequest(b *testing.B) {
	m, err := New(prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("POST /tickets", "POST", 200, 3*time.Millisecond)
		}
	})
}

// BenchmarkAlertFired is the per-alert cost the scheduler pays.
func BenchmarkAlertFired(b *testing.B) {
	m, err := New(prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	a := watchdog.Alert{SLAClock: watchdog.Response, Stage: watchdog.StageBreach, CustomerTier: "gold"}
	b.ReportAllocs()
	for b.Loop() {
		m.AlertFired(a, 20*time.Millisecond, false)
	}
}

// BenchmarkGatherCachedOpenTickets is a scrape while the open-ticket counts
// are cached: the store is not asked.
func BenchmarkGatherCachedOpenTickets(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, err := New(reg, &Config{OpenTicketsTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	calls := 0
	m.SetOpenTickets(func(context.Context) (map[string]int, error) {
		calls++
		return map[string]int{"ok": 900_000, "alert": 70_000, "breach": 30_000}, nil
	})
	m.ObserveRequest("POST /tickets", "POST", 200, time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
	if calls != 1 {
		b.Fatalf("open tickets counted %d times, want once", calls)
	}
}
