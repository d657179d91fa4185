package watchdogtest_test

import (
	"fmt"
	"time"

	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// ExampleClock shows the fake clock: time stands still until the test moves
// it, and a timer fires when the clock passes its deadline, never before.
// Code under test takes a watchdog.Clock, so it cannot tell the difference.
func ExampleClock() {
	start := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(start)

	c, stop := clock.NewTimer(30 * time.Minute)
	next, _ := clock.NextTimer()
	fmt.Println("timers waiting:", clock.Timers(), "next at", next.Format(time.TimeOnly))

	clock.Advance(29 * time.Minute)
	select {
	case <-c:
		fmt.Println("fired early")
	default:
		fmt.Println("12:29: not yet")
	}

	clock.Advance(time.Minute)
	select {
	case at := <-c:
		fmt.Println("fired at", at.Format(time.TimeOnly), "- clock reads", clock.Now().Format(time.TimeOnly))
	default:
		fmt.Println("did not fire")
	}
	fmt.Println("stopped a fired timer:", stop(), "- timers waiting:", clock.Timers())
	// Output:
	// timers waiting: 1 next at 12:30:00
	// 12:29: not yet
	// fired at 12:30:00 - clock reads 12:30:00
	// stopped a fired timer: false - timers waiting: 0
}
