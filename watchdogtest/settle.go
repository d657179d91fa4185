package watchdogtest

import (
	"testing"
	"time"
)

// Idler is what Settle waits on; *watchdog.Engine is one.
type Idler interface {
	// Idle reports whether every loop is asleep on its clock with nothing
	// pending and no delivery queued, in flight or awaiting its record.
	Idle() bool
}

// Settle waits until e is idle, so that moving a fake clock next cannot
// overtake work in progress (an evaluation or delivery the previous move
// started). It polls in real time and fails the test after ten seconds.
func Settle(tb testing.TB, e Idler) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !e.Idle() {
		if time.Now().After(deadline) {
			tb.Fatal("watchdogtest: engine did not settle within 10s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
