package watchdogtest

import (
	"sync"
	"testing"
	"time"
)

// watched is state behind a mutex that a test can wait on until it meets
// a condition, without polling: the holder of the lock calls notify
// whenever it changes the state.
type watched struct {
	mu      sync.Mutex
	changed chan struct{} // closed by notify; nil while no one waits
}

// notify wakes the waiters; the caller holds mu.
func (w *watched) notify() {
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
}

// waitUntil blocks until cond, called with mu held, holds. It fails the
// test after ten seconds of real time, saying it waited for what().
func (w *watched) waitUntil(tb testing.TB, cond func() bool, what func() string) {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		if cond() {
			w.mu.Unlock()
			return
		}
		if w.changed == nil {
			w.changed = make(chan struct{})
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("watchdogtest: waited 10s for %s", what())
		}
	}
}
