package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// discardNotifier takes every alert; EngineBurst never sends any (the
// engine does not run), it only makes each alert get its delivery row.
type discardNotifier struct{}

func (discardNotifier) Deliver(context.Context, watchdog.Alert) (bool, error) { return false, nil }

// EngineBurst is a Go benchmark of what the engine's evaluation costs per
// stage fired over st: 1000 tickets come due at once, and every due stage
// of theirs is fired by the engine (policy, outcomes, alerts, deliveries),
// as in the lateness mode's burst, on a fake clock. ns/stage is the time
// of the evaluation passes alone, per alert fired: a figure of the code
// and the CPU that other load moves far less than the lateness figures,
// which depend on how the passes, the sends and the recording of their
// outcomes interleave. start and stop, when set, bracket each pass (a CPU
// meter).
func EngineBurst(b *testing.B, st watchdog.Store, start, stop func()) {
	b.Helper()
	ctx := context.Background()
	clk := watchdogtest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	e, err := watchdog.New(st, &watchdog.Config{Clock: clk, Notifiers: map[string]watchdog.Notifier{"slack": discardNotifier{}}})
	if err != nil {
		b.Fatal(err)
	}
	stages, batch := 0, 0
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		batch++
		created := clk.Now()
		events := make([]watchdog.Event, 1000)
		for i := range events {
			events[i] = watchdog.Event{ID: fmt.Sprintf("b%04d-%04d", batch, i), Priority: "high", CustomerTier: "gold",
				Status: "open", CreatedAt: created, UpdatedAt: created}
		}
		if _, err := e.Ingest(ctx, events); err != nil {
			b.Fatal(err)
		}
		for range 4 {
			next, ok, err := st.NextDue(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if !ok || next.After(created.Add(48*time.Hour)) {
				break
			}
			clk.Set(next)
			b.StartTimer()
			if start != nil {
				start()
			}
			t0 := time.Now()
			alerts, err := e.Hooks().EvaluateDue(ctx, next)
			took += time.Since(t0)
			if stop != nil {
				stop()
			}
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			stages += len(alerts)
		}
		// Resolve them so that they are not due again.
		clk.Set(clk.Now().Add(time.Hour))
		for i := range events {
			events[i].Status, events[i].UpdatedAt = "resolved", clk.Now()
		}
		if _, err := e.Ingest(ctx, events); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(took.Nanoseconds())/float64(stages), "ns/stage")
	b.ReportMetric(float64(stages)/float64(b.N), "stages/op")
}
