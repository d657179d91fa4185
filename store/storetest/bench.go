package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// BenchmarkRescueHandedOff measures RescueDeliveries freeing one dead
// holder's hand-off of n deliveries (one evaluation pass of n tickets, one
// alert and one delivery each): the work a restarted server does for what
// a killed one had queued. The cost should grow linearly with n. s must be
// empty of tickets named "rescue-…".
func BenchmarkRescueHandedOff(b *testing.B, s watchdog.Store, n int) {
	ctx := context.Background()
	due, now := At(0), At(time.Second)
	round := 0
	for b.Loop() {
		b.StopTimer()
		evs := make([]watchdog.Event, n)
		for i := range evs {
			evs[i] = NewEvent(fmt.Sprintf("rescue-%03d-%06d", round, i), -time.Hour)
		}
		if _, err := s.Ingest(ctx, evs, OpenPlan(&due)); err != nil {
			b.Fatal(err)
		}
		holder := fmt.Sprintf("dead-%d", round)
		if err := s.Heartbeat(ctx, holder, now.Add(time.Second)); err != nil {
			b.Fatal(err)
		}
		alerts, err := s.EvaluateDue(ctx, now, n, func(tk *watchdog.Ticket) watchdog.Plan {
			p := FirePlan(now, nil, []string{"n"}, watchdog.StageAlert)(tk)
			p.Claimed, p.ClaimedBy, p.ClaimedUntil = []string{"n"}, holder, now.Add(time.Hour)
			return p
		})
		if err != nil || len(alerts) != n {
			b.Fatalf("EvaluateDue: %d alerts, %v; want %d", len(alerts), err, n)
		}
		round++
		b.StartTimer()
		freed, _, err := s.RescueDeliveries(ctx, now.Add(2*time.Second), "alive")
		if err != nil || freed != n {
			b.Fatalf("RescueDeliveries freed %d, %v; want %d", freed, err, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
}
