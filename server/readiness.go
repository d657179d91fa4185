package server

import (
	"context"
	"errors"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/metrics"
)

// readiness answers /readyz: ready when the store answers and a policy is
// in force, with details of the policy and of the start-up recompute.
func readiness(st watchdog.Store, ps *policyStartup) func(context.Context) (map[string]any, error) {
	return func(ctx context.Context) (map[string]any, error) {
		details := map[string]any{}
		policyErr := ps.details(details)
		if err := st.Ping(ctx); err != nil {
			return details, storeNotReady(err)
		}
		return details, policyErr
	}
}

// openTickets counts the engine's open tickets by state for the
// open_tickets gauge.
func openTickets(eng *watchdog.Engine) metrics.OpenTicketsFunc {
	return func(ctx context.Context) (map[string]int, error) {
		got, err := eng.CountOpenTickets(ctx)
		if err != nil {
			return nil, err
		}
		counts := make(map[string]int, len(got))
		for state, n := range got {
			counts[string(state)] = n
		}
		return counts, nil
	}
}

// notReady is a readiness failure: a message fit for /readyz, which anyone
// may read (no host names, paths or driver text), and its cause, for
// errors.Is.
type notReady struct {
	msg   string
	cause error
}

func (e *notReady) Error() string { return e.msg }
func (e *notReady) Unwrap() error { return e.cause }

// storeNotReady is the readiness failure of a store whose Ping failed
// with err: it matches watchdog.ErrUnavailable (or the deadline it missed)
// whatever the store said.
func storeNotReady(err error) error {
	switch {
	case errors.Is(err, watchdog.ErrStorageFull):
		return &notReady{msg: "store out of disk space: writes are refused until space is freed", cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &notReady{msg: "store did not answer in time", cause: err}
	case errors.Is(err, watchdog.ErrUnavailable):
		return &notReady{msg: "store unreachable", cause: err}
	}
	return &notReady{msg: "store unreachable", cause: errors.Join(watchdog.ErrUnavailable, err)}
}
