package watchdogtest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

var created = time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)

// goldHigh is the seed's gold/high ticket: response alert at 12:25:30,
// breach at 12:30.
func goldHigh(id string) watchdog.Event {
	return watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created}
}

// Advance leaves nothing in progress: by the time it returns, the stage due
// at the new instant has fired, been delivered and its outcome recorded,
// and a second before it nothing had fired.
func TestHarnessAdvanceFiresAndDelivers(t *testing.T) {
	t.Parallel()
	rec := watchdogtest.NewRecorder(nil)
	h := watchdogtest.StartEngine(t, openSQLite(t), watchdogtest.NewClock(created),
		&watchdog.Config{Notifiers: map[string]watchdog.Notifier{"rec": rec}})
	if ts := h.Ingest(goldHigh("1")); len(ts) != 1 || ts[0].ID != "1" {
		t.Fatalf("Ingest returned %+v", ts)
	}
	h.AdvanceTo(created.Add(25*time.Minute + 29*time.Second))
	if got := rec.Alerts(); len(got) != 0 {
		t.Fatalf("delivered %+v before the alert instant", got)
	}
	if got := h.Alerts("1"); len(got) != 0 {
		t.Fatalf("recorded %+v before the alert instant", got)
	}
	h.Advance(time.Second)
	if got := rec.Alerts(); len(got) != 1 || got[0].Stage != watchdog.StageAlert || got[0].TicketID != "1" {
		t.Fatalf("delivered %+v at the alert instant; want the response alert", got)
	}
	alerts := h.Alerts("1")
	if len(alerts) != 1 || len(alerts[0].Deliveries) != 1 {
		t.Fatalf("recorded %+v; want one alert with one delivery", alerts)
	}
	if d := alerts[0].Deliveries[0]; d.Notifier != "rec" || d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 {
		t.Fatalf("delivery %+v; want delivered to rec on attempt 1", d)
	}
	if v := h.Ticket("1"); v.EscalationLevel != 1 || !v.EvaluatedAt.Equal(h.Clock.Now()) {
		t.Fatalf("ticket level %d evaluated at %v; want 1 at %v", v.EscalationLevel, v.EvaluatedAt, h.Clock.Now())
	}
}

// A Recorder passes each alert to the notifier it wraps, returns its answer,
// and records the alert only once that notifier has returned, every
// attempt; the engine retries what the wrapped notifier refused.
func TestRecorderWrapsNotifier(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var rec *watchdogtest.Recorder
	inner := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
		if n := len(rec.Alerts()); n != int(calls.Load()) {
			t.Errorf("call %d: %d alerts recorded before the wrapped notifier returned", calls.Load()+1, n)
		}
		if calls.Add(1) == 1 {
			return true, errors.New("unavailable")
		}
		return false, nil
	})
	rec = watchdogtest.NewRecorder(inner)
	h := watchdogtest.StartEngine(t, openSQLite(t), watchdogtest.NewClock(created),
		&watchdog.Config{Notifiers: map[string]watchdog.Notifier{"rec": rec}, RetryPolicy: watchdog.ExponentialBackoff{Base: time.Second, Max: time.Second}})
	h.Ingest(goldHigh("1"))
	h.AdvanceTo(created.Add(26 * time.Minute))
	d := h.Alerts("1")[0].Deliveries[0]
	if d.Status != watchdog.DeliveryPending || d.LastError != "unavailable" || len(rec.Alerts()) != 1 {
		t.Fatalf("after a refused attempt: delivery %+v, %d recorded; want pending with the error, 1 recorded", d, len(rec.Alerts()))
	}
	h.Advance(time.Second)
	got := rec.Alerts()
	if len(got) != 2 || got[0].ID != got[1].ID {
		t.Fatalf("recorded %+v; want the same alert twice", got)
	}
	if d := h.Alerts("1")[0].Deliveries[0]; d.Status != watchdog.DeliveryDelivered || d.Attempts != 2 {
		t.Fatalf("delivery %+v; want delivered on attempt 2", d)
	}
}

// WaitForAlerts returns once enough alerts are recorded, without the engine
// having settled.
func TestRecorderWaitForAlerts(t *testing.T) {
	t.Parallel()
	rec := watchdogtest.NewRecorder(nil)
	go func() {
		for i := range 3 {
			_, _ = rec.Deliver(context.Background(), watchdog.Alert{ID: int64(i + 1)})
		}
	}()
	got := rec.WaitForAlerts(t, 3)
	if len(got) != 3 || got[0].ID != 1 || got[2].ID != 3 {
		t.Fatalf("WaitForAlerts(3) = %+v", got)
	}
}

// Stop waits for Run to return, and so for the sends in flight.
func TestHarnessStopWaitsForRun(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	var returned atomic.Bool
	blocking := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
		close(entered)
		time.Sleep(50 * time.Millisecond)
		returned.Store(true)
		return false, nil
	})
	h := watchdogtest.StartEngine(t, openSQLite(t), watchdogtest.NewClock(created),
		&watchdog.Config{Notifiers: map[string]watchdog.Notifier{"blocks": blocking}})
	h.Ingest(goldHigh("1"))
	h.Settle()
	h.Clock.Set(created.Add(26 * time.Minute))
	<-entered
	h.Stop()
	if !returned.Load() {
		t.Fatal("Stop returned before the send in flight")
	}
	h.Stop() // again: nothing to do
	if got := h.Alerts("1"); len(got) != 1 {
		t.Fatalf("after Stop, Alerts = %+v; want the one fired", got)
	}
}

// fatalTB records the first failure and ends the goroutine, as a test's
// Fatal does.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (tb *fatalTB) Fatal(args ...any) {
	tb.mu.Lock()
	tb.msg = fmt.Sprint(args...)
	tb.mu.Unlock()
	runtime.Goexit()
}

func (tb *fatalTB) Fatalf(format string, args ...any) { tb.Fatal(fmt.Sprintf(format, args...)) }

// StartEngine refuses a config whose Clock is not the harness's, and an
// engine config New refuses, failing the test with the reason.
func TestStartEngineRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  *watchdog.Config
		want string
	}{
		{"another clock", &watchdog.Config{Clock: watchdog.SystemClock{}}, "Config.Clock is another clock"},
		{"invalid config", &watchdog.Config{MaxAttempts: -1}, "MaxAttempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := &fatalTB{TB: t}
			st := openSQLite(t)
			done := make(chan struct{})
			go func() {
				defer close(done)
				watchdogtest.StartEngine(tb, st, watchdogtest.NewClock(created), tc.cfg)
				t.Error("StartEngine returned")
			}()
			<-done
			if !strings.Contains(tb.msg, tc.want) {
				t.Fatalf("StartEngine failed with %q, want it to mention %q", tb.msg, tc.want)
			}
		})
	}
}
