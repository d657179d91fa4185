package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/scheduler"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// A loop asleep for an interval that ends after 2262 (beyond Unix
// nanoseconds) is idle: its deadline must not wrap into the past, which
// would make it look busy for ever.
func TestLoopIdleWithDeadlinePast2262(t *testing.T) {
	clock := watchdogtest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	loop := scheduler.NewLoop(clock, func(context.Context, time.Time) (time.Time, error) {
		return time.Time{}, nil
	}, scheduler.LoopConfig{Interval: 1<<63 - 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	defer func() { cancel(); <-done }()
	clock.WaitForTimers(t, 1)
	for deadline := time.Now().Add(5 * time.Second); !loop.Idle(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a loop asleep until 2318 never reports Idle")
		}
	}
}
