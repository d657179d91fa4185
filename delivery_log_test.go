package watchdog

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// records is a slog handler keeping every record at info level and above.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// take returns the records so far and forgets them.
func (r *records) take() []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.list
	r.list = nil
	return out
}

func attr(rec slog.Record, key string) string {
	var v string
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

func TestDestinationLogOneLinePerStateChange(t *testing.T) {
	t.Parallel()
	recs := &records{}
	log := slog.New(recs)
	l := newDestinationLog()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	// Three minutes of failures, ten attempts a second: one line.
	for i := range 1800 {
		l.retrying(log, t0.Add(time.Duration(i)*100*time.Millisecond), "slack", "connection refused", "delivery_id", i)
	}
	got := recs.take()
	if len(got) != 1 || got[0].Level != slog.LevelWarn || attr(got[0], "notifier") != "slack" || attr(got[0], "err") != "connection refused" {
		t.Fatalf("3 minutes of failures logged %d lines (%v); want one WARN naming the notifier and the error", len(got), got)
	}
	// Five minutes in: a reminder with the count since the first line.
	l.retrying(log, t0.Add(5*time.Minute), "slack", "connection refused")
	got = recs.take()
	if len(got) != 1 || got[0].Level != slog.LevelWarn || attr(got[0], "failed_attempts") != "1800" || attr(got[0], "failing_for") != "5m0s" {
		t.Fatalf("after 5 minutes: %v; want one WARN with failed_attempts 1800 and failing_for 5m0s", got)
	}
	// Recovery: one line with the spell's total, then silence.
	l.delivered(log, t0.Add(6*time.Minute), "slack")
	l.delivered(log, t0.Add(6*time.Minute), "slack")
	got = recs.take()
	if len(got) != 1 || got[0].Level != slog.LevelInfo || attr(got[0], "failed_attempts") != "1801" || attr(got[0], "failing_for") != "6m0s" {
		t.Fatalf("recovery: %v; want one INFO with failed_attempts 1801 and failing_for 6m0s", got)
	}
	// A new spell starts afresh.
	l.retrying(log, t0.Add(7*time.Minute), "slack", "HTTP 503")
	if got = recs.take(); len(got) != 1 || attr(got[0], "err") != "HTTP 503" {
		t.Fatalf("a new spell: %v; want one WARN with its error", got)
	}
}
