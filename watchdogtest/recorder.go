package watchdogtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/ticket-watchdog/watchdog"
)

// Recorder is a watchdog.Notifier that records every alert it is handed,
// each attempt once, after the notifier it wraps (if any) has handled it:
// a test that sees an alert recorded also sees what that notifier did with
// it. It is safe for concurrent use, as the engine delivers from several
// goroutines.
type Recorder struct {
	next watchdog.Notifier

	watched // guards alerts; notified at each record
	alerts  []watchdog.Alert
}

// NewRecorder returns a Recorder that passes each alert to next and
// returns its answer; with a nil next every delivery succeeds.
func NewRecorder(next watchdog.Notifier) *Recorder {
	return &Recorder{next: next}
}

// Deliver hands a to the wrapped notifier, then records it.
func (r *Recorder) Deliver(ctx context.Context, a watchdog.Alert) (retry bool, err error) {
	if r.next != nil {
		retry, err = r.next.Deliver(ctx, a)
	}
	r.mu.Lock()
	r.alerts = append(r.alerts, a)
	r.notify()
	r.mu.Unlock()
	return retry, err
}

// Alerts returns the alerts recorded so far, in the order their attempts
// ended; an alert attempted twice is there twice.
func (r *Recorder) Alerts() []watchdog.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]watchdog.Alert(nil), r.alerts...)
}

// WaitForAlerts blocks until at least n alerts are recorded and returns
// them all, for a test that cannot settle the engine first (a notifier
// blocked in a send keeps it busy). It fails the test after ten seconds of
// real time.
func (r *Recorder) WaitForAlerts(tb testing.TB, n int) []watchdog.Alert {
	tb.Helper()
	have := 0
	r.waitUntil(tb, func() bool { have = len(r.alerts); return have >= n },
		func() string { return fmt.Sprintf("%d recorded alerts, have %d", n, have) })
	return r.Alerts()
}
