package watchdogtest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// Harness is a watchdog.Engine running on a fake Clock for one test. It
// saves every test the same start-up (New, Run in a goroutine, stop and
// wait at cleanup) and the settle-move-settle dance around each move of the
// clock. Its methods fail the test instead of returning errors. Use it from
// the test's goroutine.
type Harness struct {
	// Engine is the engine under test, for anything the harness does not
	// wrap (Subscribe, SetPolicyAndReplan, Hooks...).
	Engine *watchdog.Engine
	// Clock is the engine's clock. Move it with Advance and AdvanceTo to
	// let the engine settle around the move, or directly to watch the
	// engine react to it.
	Clock *Clock

	tb     testing.TB
	cancel context.CancelFunc
	done   chan error
}

// StartEngine creates an engine over store with cfg (nil means defaults)
// running on clock, runs it, and stops it when the test ends, waiting for
// Run to return. cfg.Clock must be nil or clock. A nil cfg.Logger sends the
// engine's logs to the test log.
//
// The store stays the caller's: close it in a cleanup registered before
// StartEngine, so that it runs after the engine has stopped.
func StartEngine(tb testing.TB, store watchdog.Store, clock *Clock, cfg *watchdog.Config) *Harness {
	tb.Helper()
	if clock == nil {
		tb.Fatal("watchdogtest: StartEngine: clock is nil")
	}
	var c watchdog.Config
	if cfg != nil {
		c = *cfg
	}
	if c.Clock != nil && c.Clock != watchdog.Clock(clock) {
		tb.Fatal("watchdogtest: StartEngine: Config.Clock is another clock than the harness's")
	}
	c.Clock = clock
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(testLog{tb}, nil))
	}
	eng, err := watchdog.New(store, &c)
	if err != nil {
		tb.Fatalf("watchdogtest: StartEngine: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Harness{Engine: eng, Clock: clock, tb: tb, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- eng.Run(ctx) }()
	tb.Cleanup(h.Stop)
	return h
}

// Stop stops the engine and waits for Run to return, which waits for the
// deliveries in flight. Calling it again does nothing; the test's cleanup
// calls it. After Stop, only the methods that read (Ticket, Alerts) work.
func (h *Harness) Stop() {
	h.tb.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	var err error
	select {
	case err = <-h.done:
	case <-time.After(10 * time.Second):
		h.tb.Errorf("watchdogtest: engine still running 10s after Stop; a notifier may ignore its context")
		err = <-h.done
	}
	if !errors.Is(err, context.Canceled) {
		h.tb.Errorf("watchdogtest: Engine.Run returned %v", err)
	}
}

// Settle waits until the engine is idle (see Settle), so that moving the
// clock next cannot overtake work in progress.
func (h *Harness) Settle() {
	h.tb.Helper()
	Settle(h.tb, h.Engine.Hooks())
}

// Advance lets the engine settle, moves the clock forward by d, and lets
// the engine settle again: every stage due and every delivery attempt
// planned by the new instant has then been made and recorded.
func (h *Harness) Advance(d time.Duration) {
	h.tb.Helper()
	h.AdvanceTo(h.Clock.Now().Add(d))
}

// AdvanceTo is Advance to the instant t; it never moves the clock back.
func (h *Harness) AdvanceTo(t time.Time) {
	h.tb.Helper()
	h.Settle()
	h.Clock.Set(t)
	h.Settle()
}

// Ingest records events through the engine and returns the tickets, as
// Engine.Ingest does; it fails the test on error.
func (h *Harness) Ingest(events ...watchdog.Event) []*watchdog.Ticket {
	h.tb.Helper()
	ts, err := h.Engine.Ingest(context.Background(), events)
	if err != nil {
		h.tb.Fatalf("watchdogtest: Ingest: %v", err)
	}
	return ts
}

// Ticket returns the ticket with its SLA clocks evaluated at the clock's
// time, its timeline, and its alerts, each with its deliveries; it fails
// the test on error, ErrNotFound included.
func (h *Harness) Ticket(id string) *watchdog.TicketView {
	h.tb.Helper()
	v, err := h.Engine.Ticket(context.Background(), id)
	if err != nil {
		h.tb.Fatalf("watchdogtest: Ticket(%q): %v", id, err)
	}
	return v
}

// Alerts returns the alerts recorded for the ticket, each with its
// deliveries (one per notifier, with its status, attempts and last error).
func (h *Harness) Alerts(ticketID string) []watchdog.Alert {
	h.tb.Helper()
	return h.Ticket(ticketID).Alerts
}

// testLog writes each log line to the test log.
type testLog struct{ tb testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
