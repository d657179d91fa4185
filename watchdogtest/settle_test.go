package watchdogtest_test

import (
	"sync/atomic"
	"testing"

	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// idleAfter is idle from its n-th Idle call on.
type idleAfter struct {
	n     int64
	calls atomic.Int64
}

func (i *idleAfter) Idle() bool { return i.calls.Add(1) >= i.n }

func TestSettleWaitsUntilIdle(t *testing.T) {
	e := &idleAfter{n: 5}
	watchdogtest.Settle(t, e)
	if got := e.calls.Load(); got != 5 {
		t.Fatalf("Settle returned after %d Idle calls, want 5 (the first idle one)", got)
	}
}
