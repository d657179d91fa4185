package watchdog_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/metrics"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// These tests drive the delivery outbox end to end: a running Engine on a
// SQLite store and a fake clock, notifiers written here, and what the
// engine records read back through Engine.Ticket (and the metrics).

// outboxPolicy gives gold/high a 100-hour response target: a ticket created
// 85 hours before t0 (outboxEvent) reaches its alert stage at t0, and
// nothing else fires for the next 15 hours, so each ticket has exactly one
// alert, hence one delivery per notifier, however far a test moves the
// clock.
func outboxPolicy() *watchdog.Policy {
	p := testPolicy()
	p.Tiers["gold"].Priorities["high"] = watchdog.Targets{Response: 100 * time.Hour, Resolution: 1000 * time.Hour}
	return p
}

// outboxEvent is an open gold/high ticket whose alert stage is due at t0.
func outboxEvent(id string) watchdog.Event {
	created := t0.Add(-85 * time.Hour)
	return event(id, "gold", "high", "open", created, created)
}

// outboxEvents returns outboxEvent of each id.
func outboxEvents(ids ...string) []watchdog.Event {
	evs := make([]watchdog.Event, 0, len(ids))
	for _, id := range ids {
		evs = append(evs, outboxEvent(id))
	}
	return evs
}

// startOutbox runs an engine with cfg (Policy and SweepInterval filled in)
// on a new SQLite file.
func startOutbox(t *testing.T, clock *watchdogtest.Clock, cfg watchdog.Config) *watchdogtest.Harness {
	t.Helper()
	cfg.Policy, cfg.SweepInterval = outboxPolicy(), time.Minute
	return watchdogtest.StartEngine(t, openStore(t, filepath.Join(t.TempDir(), "wd.db")), clock, &cfg)
}

// outboxDelivery returns the delivery of ticket's only alert to notifier,
// as Engine.Ticket shows it.
func outboxDelivery(t *testing.T, h *watchdogtest.Harness, ticket, notifier string) watchdog.Delivery {
	t.Helper()
	tk := h.Ticket(ticket)
	if len(tk.Alerts) != 1 || tk.Alerts[0].Stage != watchdog.StageAlert {
		t.Fatalf("ticket %s has alerts %+v; want its alert stage only", ticket, tk.Alerts)
	}
	for _, d := range tk.Alerts[0].Deliveries {
		if d.Notifier == notifier {
			return d
		}
	}
	t.Fatalf("ticket %s's alert has no delivery to %q: %+v", ticket, notifier, tk.Alerts[0].Deliveries)
	return watchdog.Delivery{}
}

// attemptLog records the fake-clock instant of each call of a notifier.
type attemptLog struct {
	mu sync.Mutex
	at []time.Time
}

// record logs an attempt at now and returns its number, from 1.
func (l *attemptLog) record(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at = append(l.at, now)
	return len(l.at)
}

func (l *attemptLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.at)
}

// last returns the instant of the latest attempt.
func (l *attemptLog) last() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at[len(l.at)-1]
}

// waitUntil polls cond until it holds, for a state the engine reaches
// without the clock moving (so settle cannot tell: a blocked send keeps the
// engine busy). It fails the test after ten seconds of real time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// A failure the notifier calls final is attempted once and recorded as
// failed with its error, however long the clock then runs.
func TestDeliveryNotRetryableFailsAfterOneAttempt(t *testing.T) {
	t.Parallel()
	const msg = "slack: invalid_payload: channel_not_found"
	clock := watchdogtest.NewClock(t0)
	var log attemptLog
	n := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
		log.record(clock.Now())
		return false, errors.New(msg)
	})
	h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"rejects": n},
		RetryPolicy: watchdog.ExponentialBackoff{Base: time.Second, Max: time.Second}})
	h.Ingest(outboxEvent("A"))
	h.Settle()
	if got := log.count(); got != 1 {
		t.Fatalf("%d attempts once the alert fired, want 1", got)
	}
	d := outboxDelivery(t, h, "A", "rejects")
	if d.Status != watchdog.DeliveryFailed || d.Attempts != 1 || d.LastError != msg || d.DeliveredAt != nil {
		t.Fatalf("delivery %+v; want failed after 1 attempt with last error %q", d, msg)
	}
	// Far beyond any retry the backoff (1s) would have made.
	for range 10 {
		h.Advance(time.Minute)
	}
	if got := log.count(); got != 1 {
		t.Fatalf("%d attempts after 10 more minutes, want still 1", got)
	}
	if d2 := outboxDelivery(t, h, "A", "rejects"); d2.Status != d.Status || d2.Attempts != d.Attempts || d2.LastError != d.LastError {
		t.Fatalf("delivery changed from %+v to %+v", d, d2)
	}
}

// A notifier that always fails retryably gets MaxAttempts attempts, each
// no sooner than the backoff allows (base doubling per retry, capped, with
// half of it jitter), then the delivery is failed with the last attempt's
// error.
func TestDeliveryRetryableFailuresBackOffThenFail(t *testing.T) {
	t.Parallel()
	const maxAttempts = 4
	backoff := watchdog.ExponentialBackoff{Base: 10 * time.Second, Max: 30 * time.Second}
	// The wait after attempt k is within [d/2, d] of d = Base·2^(k-1),
	// capped at Max.
	windows := map[int][2]time.Duration{1: {5 * time.Second, 10 * time.Second}, 2: {10 * time.Second, 20 * time.Second}, 3: {15 * time.Second, 30 * time.Second}}
	attemptErr := func(k int) string { return fmt.Sprintf("attempt %d: 503 service unavailable", k) }

	clock := watchdogtest.NewClock(t0)
	var log attemptLog
	n := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
		return true, errors.New(attemptErr(log.record(clock.Now())))
	})
	h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"down": n}, MaxAttempts: maxAttempts, RetryPolicy: backoff})
	h.Ingest(outboxEvent("A"))
	h.Settle()
	for k := 1; k < maxAttempts; k++ {
		if got := log.count(); got != k {
			t.Fatalf("%d attempts, want %d", got, k)
		}
		d := outboxDelivery(t, h, "A", "down")
		if d.Status != watchdog.DeliveryPending || d.Attempts != k || d.LastError != attemptErr(k) {
			t.Fatalf("after attempt %d: delivery %+v; want pending, %d attempts, last error %q", k, d, k, attemptErr(k))
		}
		// The store keeps microseconds.
		wait, w := d.NextAttemptAt.Sub(log.last()), windows[k]
		if wait < w[0]-time.Microsecond || wait > w[1] {
			t.Fatalf("retry %d planned %v after attempt %d, want within [%v, %v]", k, wait, k, w[0], w[1])
		}
		h.AdvanceTo(d.NextAttemptAt.Add(-time.Millisecond))
		if got := log.count(); got != k {
			t.Fatalf("%d attempts a millisecond before retry %d is due (%v after attempt %d), want %d", got, k, wait, k, k)
		}
		h.AdvanceTo(d.NextAttemptAt)
		if got := log.count(); got != k+1 {
			t.Fatalf("%d attempts once retry %d is due, want %d", got, k, k+1)
		}
		if at := log.last(); !at.Equal(d.NextAttemptAt) {
			t.Fatalf("attempt %d made at %v, want at its due instant %v", k+1, at, d.NextAttemptAt)
		}
	}
	d := outboxDelivery(t, h, "A", "down")
	if d.Status != watchdog.DeliveryFailed || d.Attempts != maxAttempts || d.LastError != attemptErr(maxAttempts) {
		t.Fatalf("after MaxAttempts: delivery %+v; want failed, %d attempts, last error %q", d, maxAttempts, attemptErr(maxAttempts))
	}
	for range 10 {
		h.Advance(time.Minute)
	}
	if got := log.count(); got != maxAttempts {
		t.Fatalf("%d attempts after giving up and 10 more minutes, want %d", got, maxAttempts)
	}
}

// A RetryAfterError's wait is the pause of the whole destination, and the
// refused delivery is retried when it ends: as long as the destination
// asked, whether that is longer or shorter than the backoff (issue 13: a
// 429 or 503 pauses the destination until Retry-After).
func TestDeliveryRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		after            time.Duration
		cause            error
		backoff          watchdog.ExponentialBackoff
		minWait, maxWait time.Duration
		wantErr          string
	}{
		{name: "longer than backoff", after: 5 * time.Minute, cause: errors.New("slack: 429 rate_limited"),
			backoff: watchdog.ExponentialBackoff{Base: 10 * time.Second, Max: 10 * time.Second},
			minWait: 5 * time.Minute, maxWait: 5 * time.Minute, wantErr: "slack: 429 rate_limited (retry after 5m0s)"},
		{name: "shorter than backoff", after: time.Second, cause: errors.New("slack: 429 rate_limited"),
			backoff: watchdog.ExponentialBackoff{Base: time.Minute, Max: time.Minute},
			minWait: time.Second, maxWait: time.Second, wantErr: "slack: 429 rate_limited (retry after 1s)"},
		// A notifier may give only the wait; the engine must not trip
		// over the missing cause.
		{name: "without a cause", after: 2 * time.Minute,
			backoff: watchdog.ExponentialBackoff{Base: 10 * time.Second, Max: 10 * time.Second},
			minWait: 2 * time.Minute, maxWait: 2 * time.Minute, wantErr: "retry after 2m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := watchdogtest.NewClock(t0)
			var log attemptLog
			n := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
				if log.record(clock.Now()) == 1 {
					return true, &watchdog.RetryAfterError{After: tc.after, Err: tc.cause}
				}
				return false, nil
			})
			h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"limited": n}, RetryPolicy: tc.backoff})
			h.Ingest(outboxEvent("A"))
			h.Settle()
			d := outboxDelivery(t, h, "A", "limited")
			wantErr := tc.wantErr
			if log.count() != 1 || d.Status != watchdog.DeliveryPending || d.Attempts != 1 || d.LastError != wantErr {
				t.Fatalf("after %d attempts: delivery %+v; want pending after 1 attempt with last error %q", log.count(), d, wantErr)
			}
			if wait := d.NextAttemptAt.Sub(t0); wait < tc.minWait-time.Microsecond || wait > tc.maxWait {
				t.Fatalf("retry planned %v after the attempt, want within [%v, %v]", wait, tc.minWait, tc.maxWait)
			}
			h.AdvanceTo(d.NextAttemptAt.Add(-time.Millisecond))
			if got := log.count(); got != 1 {
				t.Fatalf("%d attempts a millisecond before the retry is due, want 1", got)
			}
			h.AdvanceTo(d.NextAttemptAt)
			if got := log.count(); got != 2 {
				t.Fatalf("%d attempts once the retry is due, want 2", got)
			}
			d = outboxDelivery(t, h, "A", "limited")
			if d.Status != watchdog.DeliveryDelivered || d.Attempts != 2 || d.LastError != "" || d.DeliveredAt == nil || !d.DeliveredAt.Equal(h.Clock.Now()) {
				t.Fatalf("delivery %+v; want delivered at %v on attempt 2", d, h.Clock.Now())
			}
		})
	}
}

// blockingNotifier counts its calls per ticket and holds each send until
// it is unblocked (or the send's context ends).
type blockingNotifier struct {
	release chan struct{}
	once    sync.Once
	started chan string // each call's ticket, as it begins

	mu    sync.Mutex
	calls map[string]int
}

func newBlockingNotifier() *blockingNotifier {
	return &blockingNotifier{release: make(chan struct{}), started: make(chan string, 100), calls: map[string]int{}}
}

func (n *blockingNotifier) Deliver(ctx context.Context, a watchdog.Alert) (bool, error) {
	n.mu.Lock()
	n.calls[a.TicketID]++
	n.mu.Unlock()
	n.started <- a.TicketID
	select {
	case <-n.release:
		return false, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// unblock lets every send, held or to come, return delivered.
func (n *blockingNotifier) unblock() { n.once.Do(func() { close(n.release) }) }

// callsPerTicket returns how many times each ticket's alert was sent.
func (n *blockingNotifier) callsPerTicket() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.calls)
}

// A notifier blocked in a send holds up only itself: another notifier
// delivers every alert meanwhile, including alerts fired after the block
// began; once unblocked, the slow one delivers each alert exactly once.
// Both ways deliveries reach the senders are covered: handed off by the
// evaluation that fires the alerts (the default backlog), and claimed by
// each notifier's own loop (hand-off turned off).
func TestDeliverySlowNotifierDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		backlog int // Config.DeliveryBacklog
	}{
		{name: "handed off", backlog: 0},
		{name: "claimed", backlog: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			slow, fast := newBlockingNotifier(), watchdogtest.NewRecorder(nil)
			// One send in flight per notifier: the slow one's single
			// sender is stuck and the rest of its alerts queue behind it.
			h := startOutbox(t, watchdogtest.NewClock(t0), watchdog.Config{Notifiers: map[string]watchdog.Notifier{"slow": slow, "fast": fast}, DeliveryConcurrency: 1, DeliveryBacklog: tc.backlog})
			t.Cleanup(slow.unblock) // before the harness stops, which waits for sends in flight

			first, later := []string{"A", "B", "C"}, []string{"D", "E"}
			h.Ingest(outboxEvents(first...)...)
			select {
			case <-slow.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the slow notifier was not called within 10s")
			}
			fast.WaitForAlerts(t, len(first))
			h.Ingest(outboxEvents(later...)...)
			fast.WaitForAlerts(t, len(first)+len(later))

			all := slices.Concat(first, later)
			waitUntil(t, "the fast notifier's deliveries to be recorded", func() bool {
				for _, id := range all {
					if outboxDelivery(t, h, id, "fast").Status != watchdog.DeliveryDelivered {
						return false
					}
				}
				return true
			})
			if blocked := len(slow.callsPerTicket()); blocked != 1 {
				t.Fatalf("slow notifier called for %d tickets while its only sender was blocked, want 1", blocked)
			}
			for _, id := range all {
				if d := outboxDelivery(t, h, id, "slow"); d.Status != watchdog.DeliveryPending || d.Attempts > 1 {
					t.Fatalf("ticket %s: slow delivery %+v while blocked; want pending, at most 1 attempt", id, d)
				}
			}

			slow.unblock()
			h.Settle()
			checkEachDeliveredOnce(t, h, all, fast, slow)
		})
	}
}

// checkEachDeliveredOnce checks, once the engine has settled, that fast
// and slow got each ticket's alert once, and that both deliveries are
// recorded delivered on the first attempt.
func checkEachDeliveredOnce(t *testing.T, h *watchdogtest.Harness, ids []string, fast *watchdogtest.Recorder, slow *blockingNotifier) {
	t.Helper()
	fastGot := map[string]int{}
	for _, a := range fast.Alerts() {
		fastGot[a.TicketID]++
	}
	if len(fast.Alerts()) != len(ids) {
		t.Errorf("fast notifier got %d alerts, want %d", len(fast.Alerts()), len(ids))
	}
	slowCalls := slow.callsPerTicket()
	for _, id := range ids {
		if fastGot[id] != 1 || slowCalls[id] != 1 {
			t.Errorf("ticket %s: fast got its alert %d times, slow %d; want 1 and 1", id, fastGot[id], slowCalls[id])
		}
		for _, name := range []string{"fast", "slow"} {
			if d := outboxDelivery(t, h, id, name); d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 {
				t.Errorf("ticket %s: %s delivery %+v; want delivered on attempt 1", id, name, d)
			}
		}
	}
	if len(slowCalls) != len(ids) {
		t.Errorf("slow notifier called for %d tickets, want %d", len(slowCalls), len(ids))
	}
}

// Each attempt shows in watchdog_deliveries_total under its notifier and
// outcome: delivered, failed for good, or retry.
func TestDeliveryOutcomesInMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m, err := metrics.New(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.InitNotifiers("accepts", "down", "rejects")
	notifiers := map[string]watchdog.Notifier{
		"accepts": watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) { return false, nil }),
		"down": watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
			return true, errors.New("503 service unavailable")
		}),
		"rejects": watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
			return false, errors.New("404 no_service")
		}),
	}
	h := startOutbox(t, watchdogtest.NewClock(t0), watchdog.Config{Notifiers: notifiers, Observer: m, MaxAttempts: 3,
		RetryPolicy: watchdog.ExponentialBackoff{Base: time.Second, Max: time.Second}})
	h.Ingest(outboxEvent("A"))
	h.Settle()
	// Retries come at most a second apart.
	for range 10 {
		h.Advance(time.Second)
	}
	for name, want := range map[string]watchdog.DeliveryStatus{"accepts": watchdog.DeliveryDelivered, "down": watchdog.DeliveryFailed, "rejects": watchdog.DeliveryFailed} {
		if d := outboxDelivery(t, h, "A", name); d.Status != want {
			t.Errorf("%s delivery %+v, want %s", name, d, want)
		}
	}
	const want = `
# HELP watchdog_deliveries_total Alert delivery attempts by notifier and outcome (delivered, failed for good, retry).
# TYPE watchdog_deliveries_total counter
watchdog_deliveries_total{notifier="accepts",outcome="delivered"} 1
watchdog_deliveries_total{notifier="accepts",outcome="failed"} 0
watchdog_deliveries_total{notifier="accepts",outcome="retry"} 0
watchdog_deliveries_total{notifier="down",outcome="delivered"} 0
watchdog_deliveries_total{notifier="down",outcome="failed"} 1
watchdog_deliveries_total{notifier="down",outcome="retry"} 2
watchdog_deliveries_total{notifier="rejects",outcome="delivered"} 0
watchdog_deliveries_total{notifier="rejects",outcome="failed"} 1
watchdog_deliveries_total{notifier="rejects",outcome="retry"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "watchdog_deliveries_total"); err != nil {
		t.Error(err)
	}
}

// panickyError's Error method panics, as a buggy notifier's error type might.
type panickyError struct{}

func (panickyError) Error() string { panic("broken Error method") }

// A notifier error whose Error method panics fails its delivery with a
// description instead of taking the engine down.
func TestDeliveryErrorWhoseMessagePanics(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	n := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
		return false, panickyError{}
	})
	h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"broken": n}})
	h.Ingest(outboxEvent("A"))
	h.Settle()
	d := outboxDelivery(t, h, "A", "broken")
	const want = "notifier error watchdog_test.panickyError: Error panicked: broken Error method"
	if d.Status != watchdog.DeliveryFailed || d.LastError != want {
		t.Fatalf("delivery %+v; want failed with %q", d, want)
	}
}

// A queued delivery whose claim has grown too old to send safely is handed
// back unsent and sent by the next claim; handing it back does not count as
// an attempt, so every delivery ends delivered on its first real attempt.
func TestDeliveryHandedBackUnsentIsNotAnAttempt(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	entered, release := make(chan string, 10), make(chan struct{})
	var calls sync.Map // ticket id -> *int
	n := watchdog.NotifierFunc(func(_ context.Context, a watchdog.Alert) (bool, error) {
		c, _ := calls.LoadOrStore(a.TicketID, new(int))
		*c.(*int)++
		entered <- a.TicketID
		<-release
		return false, nil
	})
	h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"one": n}, DeliveryConcurrency: 1})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	// One evaluation fires all three alerts and queues their deliveries;
	// the only sender blocks in the first while the other two wait.
	h.Ingest(outboxEvent("A"), outboxEvent("B"), outboxEvent("C"))
	var first string
	select {
	case first = <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery started within 10s")
	}
	// Past DeliveryLease − DeliveryTimeout (30s by default) the queued two
	// may no longer start: their lease could end during the attempt.
	clock.Advance(31 * time.Second)
	close(release)
	h.Settle()
	for _, id := range []string{"A", "B", "C"} {
		d := outboxDelivery(t, h, id, "one")
		if d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 || d.LastError != "" {
			t.Errorf("ticket %s (first sent: %s): delivery %+v; want delivered on attempt 1", id, first, d)
		}
		c, ok := calls.Load(id)
		if !ok || *c.(*int) != 1 {
			t.Errorf("ticket %s: notifier called %v times, want 1", id, c)
		}
	}
}

// A notifier that returns a nil *RetryAfterError as its error (a typed nil
// in the error interface) gets a retry after the backoff, not a crash.
func TestDeliveryTypedNilRetryAfterError(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(t0)
	n := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) {
		var rae *watchdog.RetryAfterError
		return true, rae
	})
	h := startOutbox(t, clock, watchdog.Config{Notifiers: map[string]watchdog.Notifier{"typednil": n},
		RetryPolicy: watchdog.ExponentialBackoff{Base: 10 * time.Second, Max: 10 * time.Second}})
	h.Ingest(outboxEvent("A"))
	h.Settle()
	d := outboxDelivery(t, h, "A", "typednil")
	if wait := d.NextAttemptAt.Sub(t0); d.Status != watchdog.DeliveryPending || d.Attempts != 1 || wait < 5*time.Second || wait > 10*time.Second {
		t.Fatalf("delivery %+v (retry in %v); want pending after 1 attempt, retry within the 10s backoff", d, wait)
	}
	if !strings.Contains(d.LastError, "Error panicked") {
		t.Errorf("last error %q; want it to say the error's message could not be read", d.LastError)
	}
}
