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
	*watchdogtest.Harness
	t      *testing.T
	pager  *recordingPager
	oncall *watchdogtest.Recorder // every alert the policy was handed, after it returned
	seen   int                    // how many of oncall's alerts the test has checked
}

func setup(t *testing.T, pagerFailures int) *env {
	t.Helper()
	pager := &recordingPager{failures: pagerFailures}
	esc, err := fakeclock.NewEscalation(pager, 2)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "watchdog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the harness has stopped the engine
	// Record each delivery once the policy has handled it, so the test can
	// wait for work to happen instead of guessing how long it takes.
	oncall := watchdogtest.NewRecorder(esc.Notifier())
	h := watchdogtest.StartEngine(t, st, watchdogtest.NewClock(created),
		&watchdog.Config{Notifiers: map[string]watchdog.Notifier{"oncall": oncall}})
	h.Ingest(watchdog.Event{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created})
	h.Settle()
	return &env{Harness: h, t: t, pager: pager, oncall: oncall}
}

// advanceTo moves the fake clock to created+d, letting the engine settle
// before and after.
func (e *env) advanceTo(d time.Duration) {
	e.t.Helper()
	e.AdvanceTo(created.Add(d))
}

// expectDeliveries checks that the policy has handled the named stages
// ("response/alert") since the last check, in any order, and nothing else.
func (e *env) expectDeliveries(stages ...string) {
	e.t.Helper()
	want := map[string]int{}
	for _, s := range stages {
		want[s]++
	}
	got := e.oncall.WaitForAlerts(e.t, e.seen+len(stages))[e.seen:]
	for _, a := range got[:len(stages)] {
		key := string(a.SLAClock) + "/" + a.Stage
		if want[key] == 0 {
			e.t.Fatalf("unexpected delivery of %s (level %d); want %v", key, a.EscalationLevel, stages)
		}
		want[key]--
	}
	e.seen += len(stages)
	e.Settle()
}

// expectNoDelivery checks, after the engine settled, that nothing more was
// handed to the policy.
func (e *env) expectNoDelivery() {
	e.t.Helper()
	if got := e.oncall.Alerts(); len(got) > e.seen {
		a := got[e.seen]
		e.t.Fatalf("unexpected delivery of %s/%s (level %d)", a.SLAClock, a.Stage, a.EscalationLevel)
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

	view := e.Ticket("1")
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

	view := e.Ticket("1")
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
