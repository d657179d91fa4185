package watchdog

import (
	"time"
)

// Clock tells the time and makes timers. The engine and scheduler use it for
// every decision about time, so tests can drive them with a fake clock
// (package watchdogtest) instead of sleeping. Its methods use only standard
// types so that any package can declare the same interface.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once after d, and a stop
	// function that reports whether it stopped the timer before it fired.
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (SystemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
