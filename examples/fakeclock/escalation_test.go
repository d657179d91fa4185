package fakeclock_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/examples/fakeclock"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// created is when the test ticket opens: the seed README's example ticket,
// gold and high, so 30 minutes to first response and 3 hours to resolve.
var created = time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)

// recordingPager records pages; it fails the first failures pages.
type recordingPager struct {
	mu       sync.Mutex
	failures int
	pages    []string
}

func (p *recordingPager) Page(_ context.Context, ticketID, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failures > 0 {
		p.failures--
		return errors.New("pager service unavailable")
	}
	p.pages = append(p.pages, reason)
	return nil
}

func (p *recordingPager) Pages() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.pages...)
}

// env is the real engine on a SQLite file and a fake clock, delivering every
// alert to the escalation policy under test.
type env struct {
	t         *testing.T
	clock     *watchdogtest.Clock
	engine    *watchdog.Engine
	pager     *recordingPager
	delivered chan watchdog.Alert // every alert the policy was handed, after it returned
}

func setup(t *testing.T, pagerFailures int) *env {
	t.Helper()
	e := &env{t: t, clock: watchdogtest.NewClock(created), pager: &recordingPager{failures: pagerFailures}, delivered: make(chan watchdog.Alert, 100)}
	esc, err := fakeclock.NewEscalation(e.pager, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Observe each delivery once the policy has handled it, so the test can
	// wait for work to happen instead of guessing how long it takes.
	observed := watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
		retry, err := esc.Notifier().Deliver(ctx, a)
		e.delivered <- a
		return retry, err
	})

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "watchdog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.engine, err = watchdog.New(st, &watchdog.Config{
		Clock:     e.clock,
		Notifiers: map[string]watchdog.Notifier{"oncall": observed},
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.engine.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})

	if _, err := e.engine.Ingest(ctx, []watchdog.Event{{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created}}); err != nil {
		t.Fatal(err)
	}
	e.settle()
	return e
}

// advanceTo moves the fake clock to created+d and lets the engine settle.
func (e *env) advanceTo(d time.Duration) {
	e.t.Helper()
	e.clock.Set(created.Add(d))
	e.settle()
}

// settle waits until the engine is idle: its loops asleep on the fake
// clock with no wake-up pending and no delivery queued, in flight or
// awaiting its record, so that moving the clock cannot overtake work in
// progress.
func (e *env) settle() {
	e.t.Helper()
	watchdogtest.Settle(e.t, e.engine.Hooks())
}

// expectDeliveries waits for the policy to have handled the named stages
// ("response/alert"), in any order, and fails on any other delivery.
func (e *env) expectDeliveries(stages ...string) {
	e.t.Helper()
	want := map[string]int{}
	for _, s := range stages {
		want[s]++
	}
	timeout := time.After(10 * time.Second)
	for n := 0; n < len(stages); n++ {
		select {
		case a := <-e.delivered:
			key := string(a.SLAClock) + "/" + a.Stage
			if want[key] == 0 {
				e.t.Fatalf("unexpected delivery of %s (level %d); want %v", key, a.EscalationLevel, stages)
			}
			want[key]--
		case <-timeout:
			e.t.Fatalf("waited 10s for deliveries %v; still missing %v", stages, want)
		}
	}
	e.settle()
}

// expectNoDelivery checks, after the engine settled, that nothing more was
// handed to the policy.
func (e *env) expectNoDelivery() {
	e.t.Helper()
	select {
	case a := <-e.delivered:
		e.t.Fatalf("unexpected delivery of %s/%s (level %d)", a.SLAClock, a.Stage, a.EscalationLevel)
	default:
	}
}

func (e *env) expectPages(n int) {
	e.t.Helper()
	if got := e.pager.Pages(); len(got) != n {
		e.t.Fatalf("paged %d times, want %d: %q", len(got), n, got)
	}
}

func TestEscalationPagesOnceAtBreach(t *testing.T) {
	e := setup(t, 0)
	e.expectPages(0)

	// 12:29:59, a second before the response breach: the alert stage (85%,
	// 12:25:30) fired and reached the policy at level 1, below its threshold.
	e.advanceTo(30*time.Minute - time.Second)
	e.expectDeliveries("response/alert")
	e.expectPages(0)

	// 12:30:00: the breach brings the ticket to level 2 and pages on-call.
	e.advanceTo(30 * time.Minute)
	e.expectDeliveries("response/breach")
	e.expectPages(1)
	if got := e.pager.Pages()[0]; !strings.Contains(got, "ticket 1 (gold, high) reached escalation level 2") {
		t.Errorf("page reason = %q", got)
	}

	// 15:00: the resolution clock's alert and breach reach the policy at
	// levels 3 and 4; the ticket was paged already.
	e.advanceTo(3 * time.Hour)
	e.expectDeliveries("resolution/alert", "resolution/breach")
	e.expectPages(1)

	// A day later nothing else is due.
	e.advanceTo(27 * time.Hour)
	e.expectNoDelivery()
	e.expectPages(1)

	view, err := e.engine.Ticket(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	if view.EscalationLevel != 4 || len(view.Alerts) != 4 {
		t.Fatalf("escalation level %d with %d alerts; want 4 and 4", view.EscalationLevel, len(view.Alerts))
	}
	for _, a := range view.Alerts {
		if len(a.Deliveries) != 1 || a.Deliveries[0].Status != watchdog.DeliveryDelivered {
			t.Errorf("alert %s/%s deliveries = %+v; want one delivered", a.SLAClock, a.Stage, a.Deliveries)
		}
	}
}

func TestEscalationRetriesFailedPage(t *testing.T) {
	e := setup(t, 1) // the pager fails once
	e.advanceTo(30 * time.Minute)
	e.expectDeliveries("response/alert", "response/breach")
	e.expectPages(0)

	// The outbox retries the breach after its backoff (1s at most for the
	// first retry); the test moves the clock instead of waiting for it.
	e.advanceTo(30*time.Minute + time.Second)
	e.expectDeliveries("response/breach")
	e.expectPages(1)

	view, err := e.engine.Ticket(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range view.Alerts {
		if a.Stage != watchdog.StageBreach {
			continue
		}
		d := a.Deliveries[0]
		if d.Status != watchdog.DeliveryDelivered || d.Attempts != 2 {
			t.Errorf("breach delivery: status %s after %d attempts; want delivered after 2", d.Status, d.Attempts)
		}
	}
}

func TestNewEscalationValidates(t *testing.T) {
	if _, err := fakeclock.NewEscalation(nil, 2); err == nil {
		t.Error("NewEscalation(nil pager) succeeded")
	}
	if _, err := fakeclock.NewEscalation(&recordingPager{}, 0); err == nil || !strings.Contains(err.Error(), "got 0") {
		t.Errorf("NewEscalation(level 0) = %v; want an error naming the level", err)
	}
}
