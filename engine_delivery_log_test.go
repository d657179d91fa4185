package watchdog_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// levelCounter counts log records by level and message.
type levelCounter struct {
	mu     sync.Mutex
	counts map[string]int // "WARN alert deliveries failing…"
}

func (c *levelCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *levelCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[r.Level.String()+" "+r.Message]++
	return nil
}
func (c *levelCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *levelCounter) WithGroup(string) slog.Handler      { return c }

func (c *levelCounter) level(prefix string) (n int, msgs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for m, k := range c.counts {
		if strings.HasPrefix(m, prefix+" ") {
			n += k
			msgs = append(msgs, m)
		}
	}
	return n, msgs
}

// An unreachable destination is logged when it starts failing and when it
// recovers, not once per attempt: it used to log a WARN for each attempt
// of each delivery.
func TestUnreachableNotifierLogsPerStateChange(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(start)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var down atomic.Bool
	down.Store(true)
	var attempts atomic.Int64
	n := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
		attempts.Add(1)
		if down.Load() {
			return true, errors.New("dial tcp: connection refused")
		}
		return false, nil
	})
	logs := &levelCounter{counts: map[string]int{}}
	eng, err := watchdog.New(st, &watchdog.Config{
		Clock: clock, Logger: slog.New(logs), Notifiers: map[string]watchdog.Notifier{"slack": n},
		RetryPolicy: watchdog.ExponentialBackoff{Base: time.Second, Max: time.Second}, MaxAttempts: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Five tickets long overdue: four stages each fire at once.
	old := start.Add(-10 * 24 * time.Hour)
	var evs []watchdog.Event
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		evs = append(evs, watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: old, UpdatedAt: old})
	}
	if _, err := eng.Ingest(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		watchdogtest.Settle(t, eng.Hooks())
		clock.Advance(time.Second)
	}
	watchdogtest.Settle(t, eng.Hooks())
	if attempts.Load() < 100 {
		t.Fatalf("only %d attempts; the test needs many failures", attempts.Load())
	}
	if warns, msgs := logs.level("WARN"); warns != 1 {
		t.Errorf("%d failed attempts logged %d WARN lines (%v); want 1", attempts.Load(), warns, msgs)
	}

	down.Store(false)
	clock.Advance(time.Second)
	watchdogtest.Settle(t, eng.Hooks())
	if n, msgs := logs.level("INFO"); n < 1 || !strings.Contains(strings.Join(msgs, "|"), "INFO alert deliveries succeeding again") {
		t.Errorf("recovery logged %v; want an INFO line saying deliveries succeed again", msgs)
	}
}
