package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/scheduler"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

func TestLoopSleepsUntilDeadline(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(t0)
	runs := make(chan time.Time, 16)
	due := t0.Add(10 * time.Second)
	loop := scheduler.NewLoop(clock, func(ctx context.Context, now time.Time) (time.Time, error) {
		runs <- now
		if now.Before(due) {
			return due, nil
		}
		return time.Time{}, nil
	}, scheduler.LoopConfig{Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()

	if got := recv(t, runs); !got.Equal(t0) {
		t.Fatalf("first run at %v, want %v", got, t0)
	}
	clock.WaitForTimers(t, 1)
	clock.Advance(9 * time.Second)
	// Still armed for the deadline, so not fired: the loop has not run.
	if next, ok := clock.NextTimer(); !ok || !next.Equal(due) {
		t.Fatalf("timer at %v (armed %v) after 9s, want still waiting for %v", next, ok, due)
	}
	select {
	case r := <-runs:
		t.Fatalf("ran at %v, before its deadline", r)
	default:
	}
	clock.Advance(time.Second)
	if got := recv(t, runs); !got.Equal(due) {
		t.Fatalf("second run at %v, want %v", got, due)
	}
	// Nothing due: the loop sleeps for the safety-net interval.
	clock.WaitForTimers(t, 1)
	if next, _ := clock.NextTimer(); !next.Equal(due.Add(time.Hour)) {
		t.Fatalf("safety-net timer at %v, want %v", next, due.Add(time.Hour))
	}
	loop.Wake()
	if got := recv(t, runs); !got.Equal(due) {
		t.Fatalf("woken run at %v, want %v", got, due)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
}

func recv(t *testing.T, c <-chan time.Time) time.Time {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("loop did not run")
	}
	return time.Time{}
}

// Idle is false from the moment a wake-up or a timer is due until the loop
// has run for it, even when the loop goroutine has not run yet: a send to a
// goroutine parked in select leaves the channel empty, so neither the wake
// channel's nor the timer channel's length shows it.
func TestIdleIsFalseUntilAWakeOrTimerIsServed(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(t0)
	runs := make(chan time.Time, 64)
	loop := scheduler.NewLoop(clock, func(ctx context.Context, now time.Time) (time.Time, error) {
		runs <- now
		return now.Add(time.Minute), nil
	}, scheduler.LoopConfig{Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	waitIdle := func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !loop.Idle() {
			if time.Now().After(deadline) {
				t.Fatal("loop never idle")
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	recv(t, runs)
	for i := range 200 {
		waitIdle()
		if i%2 == 0 {
			loop.Wake()
		} else {
			clock.Advance(time.Minute)
		}
		// Idle may be true only once the loop has run (its step reports
		// to runs before it sleeps again).
		if loop.Idle() && len(runs) == 0 {
			t.Fatalf("round %d: Idle right after a %s, before the loop ran", i, map[bool]string{true: "Wake", false: "timer fired"}[i%2 == 0])
		}
		recv(t, runs)
	}
	cancel()
	<-done
}
