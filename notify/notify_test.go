package notify

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// step is one scripted answer of a fake notifier.
type step struct {
	retry bool
	err   error
}

// fake is a notifier that records the alert IDs it was called with and
// answers from a script; after the script it succeeds.
type fake struct {
	mu     sync.Mutex
	script []step
	calls  []int64
}

func (f *fake) notifier() watchdog.Notifier {
	return watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, a.ID)
		if len(f.script) == 0 {
			return false, nil
		}
		s := f.script[0]
		f.script = f.script[1:]
		return s.retry, s.err
	})
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

var (
	errTemp = errors.New("temporary")
	errPerm = errors.New("permanent")
)

func retryable() step { return step{retry: true, err: errTemp} }
func permanent() step { return step{retry: false, err: errPerm} }
func rateLimited(d time.Duration) step {
	return step{retry: true, err: &watchdog.RetryAfterError{After: d, Err: errTemp}}
}

func alert(id int64) watchdog.Alert {
	return watchdog.Alert{
		ID: id, TicketID: "T-1", SLAClock: watchdog.Resolution, Stage: watchdog.StageBreach,
		State: "breach", Priority: "high", CustomerTier: "gold",
	}
}
