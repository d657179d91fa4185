package watchdog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/slack"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// openStore opens a SQLite store at path, closed when the test ends.
func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// start runs an engine on the SQLite file at path with a fake clock.
func start(t *testing.T, path string, clock *watchdogtest.Clock, p *watchdog.Policy, notifiers map[string]watchdog.Notifier) *watchdogtest.Harness {
	t.Helper()
	return watchdogtest.StartEngine(t, openStore(t, path), clock, &watchdog.Config{Policy: p, Notifiers: notifiers, SweepInterval: time.Minute})
}

func event(id, tier, prio, status string, created, updated time.Time) watchdog.Event {
	return watchdog.Event{ID: id, CustomerTier: tier, Priority: prio, Status: status, CreatedAt: created, UpdatedAt: updated}
}

func waitAlert(t *testing.T, c <-chan watchdog.Alert) watchdog.Alert {
	t.Helper()
	select {
	case a := <-c:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no alert within 10s")
	}
	return watchdog.Alert{}
}

func noAlert(t *testing.T, c <-chan watchdog.Alert) {
	t.Helper()
	select {
	case a := <-c:
		t.Fatalf("unexpected alert %s/%s due %v", a.SLAClock, a.Stage, a.DueAt)
	default:
	}
}

func TestEngineFiresAtTheInstantNeverBefore(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	rec := watchdogtest.NewRecorder(nil)
	h := start(t, filepath.Join(t.TempDir(), "wd.db"), clock, testPolicy(), map[string]watchdog.Notifier{"rec": rec})
	sub, err := h.Engine.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.Ingest(event("A", "gold", "high", "open", t0, t0))
	alertAt := t0.Add(25*time.Minute + 30*time.Second)
	// Settled first: a loop busy while the clock moves may arm its next
	// timer from the moved clock, later than it planned.
	h.Settle()
	clock.WaitForTimerAt(t, alertAt)
	clock.Set(alertAt.Add(-time.Millisecond))
	clock.WaitForTimerAt(t, alertAt)
	if tk := h.Ticket("A"); len(tk.Alerts) != 0 || tk.EscalationLevel != 0 {
		t.Fatalf("fired before its instant: %+v", tk.Alerts)
	}
	if got := rec.Alerts(); len(got) != 0 {
		t.Fatalf("notifier got %+v before its instant", got)
	}

	clock.Set(alertAt)
	a := waitAlert(t, sub)
	if a.TicketID != "A" || a.Stage != "alert" || a.SLAClock != watchdog.Response || !a.DueAt.Equal(alertAt) || !a.FiredAt.Equal(alertAt) || a.EscalationLevel != 1 {
		t.Fatalf("alert %+v", a)
	}
	if d := rec.WaitForAlerts(t, 1)[0]; d.ID != a.ID {
		t.Fatalf("notifier got alert %d, subscriber %d", d.ID, a.ID)
	}
	tk := h.Ticket("A")
	if tk.EscalationLevel != 1 || len(tk.Alerts) != 1 || tk.State != watchdog.TicketAlert {
		t.Fatalf("ticket after alert: level %d alerts %d state %q", tk.EscalationLevel, len(tk.Alerts), tk.State)
	}
}

// A stage fires once across many sweeps and a restart of the engine.
func TestEngineStageOnceAcrossSweepsAndRestart(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	path := filepath.Join(t.TempDir(), "wd.db")
	rec := watchdogtest.NewRecorder(nil)
	notifiers := map[string]watchdog.Notifier{"rec": rec}
	h := start(t, path, clock, testPolicy(), notifiers)
	var evs []watchdog.Event
	for _, id := range []string{"A", "B", "C"} {
		evs = append(evs, event(id, "gold", "high", "open", t0, t0))
	}
	h.Ingest(evs...)
	// Run 40 minutes of sweeps, one minute at a time: response alert
	// (25m30s) and breach (30m) for each ticket.
	for range 40 {
		h.Advance(time.Minute)
	}
	h.Stop()
	h.Engine.Store().Close()
	h = start(t, path, clock, testPolicy(), notifiers)
	for range 20 {
		h.Advance(time.Minute)
	}
	for _, id := range []string{"A", "B", "C"} {
		tk := h.Ticket(id)
		if len(tk.Alerts) != 2 || tk.EscalationLevel != 2 {
			t.Fatalf("%s: %d alerts, level %d; want 2 and 2", id, len(tk.Alerts), tk.EscalationLevel)
		}
		for _, a := range tk.Alerts {
			if len(a.Deliveries) != 1 || a.Deliveries[0].Status != watchdog.DeliveryDelivered {
				t.Fatalf("%s %s deliveries %+v", id, a.Stage, a.Deliveries)
			}
		}
	}
	seen := map[string]int{}
	for _, a := range rec.Alerts() {
		seen[a.TicketID+"/"+a.Stage]++
	}
	if len(seen) != 6 {
		t.Fatalf("delivered %v", seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", k, n)
		}
	}
}

func TestEngineReloadToShorterTargetFiresAtNewInstant(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	// No sweep within the test: the loop wakes for the new instants only if
	// the reload replanned it.
	h := startPlanned(t, clock, testPolicy(), nil)
	sub, _ := h.Engine.Subscribe(context.Background())
	h.Ingest(event("A", "gold", "high", "open", t0, t0))
	h.Settle()
	clock.Advance(5 * time.Minute)
	h.Settle()
	if next, _ := clock.NextTimer(); !next.Equal(t0.Add(25*time.Minute + 30*time.Second)) {
		t.Fatalf("before the reload the loop sleeps until %v, want the alert at 25m30s", next)
	}

	short := testPolicy()
	short.Tiers["gold"].Priorities["high"] = watchdog.Targets{Response: 10 * time.Minute, Resolution: time.Hour}
	if err := h.Engine.SetPolicyAndReplan(context.Background(), short); err != nil {
		t.Fatal(err)
	}
	expectAlertAt(t, h, sub, "A", "alert", t0.Add(8*time.Minute+30*time.Second))
	expectAlertAt(t, h, sub, "A", "breach", t0.Add(10*time.Minute))
	tk := h.Ticket("A")
	if len(tk.Alerts) != 2 || tk.Alerts[0].Target != 10*time.Minute || tk.EscalationLevel != 2 {
		t.Fatalf("after reload: level %d, alerts %+v", tk.EscalationLevel, tk.Alerts)
	}
}

// A five-minute Slack outage followed by recovery delivers every alert
// exactly once.
func TestEngineSlackOutageDeliversEachAlertOnce(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	outageEnd := t0.Add(30*time.Minute + 5*time.Minute)
	var mu sync.Mutex
	received := map[string]int{}
	failures := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if clock.Now().Before(outageEnd) {
			mu.Lock()
			failures++
			mu.Unlock()
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		}
		var msg struct {
			Attachments []struct {
				Fields []struct{ Title, Value string }
			}
		}
		if err := json.Unmarshal(body, &msg); err != nil || len(msg.Attachments) == 0 {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		// One attachment per alert: several when alerts queued up.
		for _, att := range msg.Attachments {
			key := ""
			for _, f := range att.Fields {
				if f.Title == "Ticket" || f.Title == "SLA" || f.Title == "State" {
					key += f.Value + "|"
				}
			}
			received[key]++
		}
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	sl, err := slack.NewWebhook(srv.URL+"/services/T0/B0/secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, filepath.Join(t.TempDir(), "wd.db"), clock, testPolicy(), map[string]watchdog.Notifier{"slack": sl})
	var evs []watchdog.Event
	for _, id := range []string{"A", "B", "C", "D", "E"} {
		evs = append(evs, event(id, "gold", "high", "open", t0, t0))
	}
	h.Ingest(evs...)
	// The breach fires at 30m, into the outage; run the clock to 45m.
	for clock.Now().Before(t0.Add(45 * time.Minute)) {
		h.Settle()
		next, _ := clock.NextTimer()
		if step := clock.Now().Add(10 * time.Second); next.After(step) {
			next = step
		}
		h.AdvanceTo(next)
	}
	mu.Lock()
	defer mu.Unlock()
	if failures == 0 {
		t.Fatal("the outage refused nothing")
	}
	if len(received) != 10 {
		t.Fatalf("received %d distinct alerts, want 10: %v", len(received), received)
	}
	for k, n := range received {
		if n != 1 {
			t.Fatalf("alert %s received %d times", k, n)
		}
	}
	for _, id := range []string{"A", "B", "C", "D", "E"} {
		tk := h.Ticket(id)
		for _, a := range tk.Alerts {
			d := a.Deliveries[0]
			if d.Status != watchdog.DeliveryDelivered || d.Attempts < 2 && a.Stage == "breach" {
				t.Fatalf("%s %s delivery %+v", id, a.Stage, d)
			}
		}
	}
}

// retryingStore plans every ticket twice, as a store does when it reruns a
// transaction after a deadlock.
type retryingStore struct{ watchdog.Store }

func (s retryingStore) Ingest(ctx context.Context, evs []watchdog.Event, plan watchdog.PlanFunc) ([]*watchdog.Ticket, error) {
	return s.Store.Ingest(ctx, evs, func(t *watchdog.Ticket) watchdog.Plan {
		plan(t)
		return plan(t)
	})
}

type ingestObserver struct {
	watchdog.NopObserver
	events, changed int
}

func (o *ingestObserver) EventsIngested(events, changed int) { o.events, o.changed = events, changed }

func TestEngineCountsTicketsNotPlanCalls(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	obs := &ingestObserver{}
	e, err := watchdog.New(retryingStore{st}, &watchdog.Config{Policy: testPolicy(), Clock: watchdogtest.NewClock(t0), Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	evs := []watchdog.Event{event("A", "gold", "high", "open", t0, t0), event("B", "gold", "high", "open", t0, t0), event("A", "gold", "high", "pending", t0, t0.Add(time.Minute))}
	if _, err := e.Ingest(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if obs.events != 3 || obs.changed != 2 {
		t.Fatalf("observed %d events, %d tickets changed; want 3 and 2", obs.events, obs.changed)
	}
}

// batcher is a BatchNotifier that records each call's alerts; it fails
// the first failFirst calls with a retryable error.
type batcher struct {
	mu        sync.Mutex
	max       int
	failFirst int
	calls     [][]watchdog.Alert
	failed    int
}

func (b *batcher) MaxBatch() int { return b.max }

func (b *batcher) Deliver(ctx context.Context, a watchdog.Alert) (bool, error) {
	return b.DeliverBatch(ctx, []watchdog.Alert{a})
}

func (b *batcher) DeliverBatch(_ context.Context, alerts []watchdog.Alert) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(alerts) > b.max {
		return false, errors.New("batch over the limit")
	}
	if b.failed < b.failFirst {
		b.failed++
		return true, errors.New("unavailable")
	}
	b.calls = append(b.calls, slices.Clone(alerts))
	return false, nil
}

// A burst of alerts goes to a BatchNotifier in groups no larger than its
// MaxBatch, each alert once, a failed group retried whole; a lone alert
// goes alone.
func TestEngineGroupsQueuedAlertsForBatchNotifiers(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	b := &batcher{max: 4, failFirst: 1}
	h := start(t, filepath.Join(t.TempDir(), "wd.db"), clock, testPolicy(), map[string]watchdog.Notifier{"b": b})
	var evs []watchdog.Event
	for i := range 30 {
		evs = append(evs, event(fmt.Sprintf("T%02d", i), "gold", "high", "open", t0, t0))
	}
	h.Ingest(evs...)
	// A lone ticket whose alert comes due a minute later.
	h.Ingest(event("LONE", "gold", "high", "open", t0.Add(time.Minute), t0.Add(time.Minute)))
	alertAt := t0.Add(25*time.Minute + 30*time.Second)
	for _, at := range []time.Time{alertAt, alertAt.Add(time.Second), alertAt.Add(10 * time.Second), alertAt.Add(time.Minute)} {
		h.AdvanceTo(at)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]int{}
	grouped := false
	for i, call := range b.calls {
		if len(call) > b.max {
			t.Fatalf("call %d carried %d alerts, over MaxBatch %d", i, len(call), b.max)
		}
		grouped = grouped || len(call) > 1
		for _, a := range call {
			seen[a.TicketID]++
		}
	}
	if !grouped {
		t.Errorf("31 alerts went out one per call (%d calls); want queued ones grouped", len(b.calls))
	}
	if len(seen) != 31 {
		t.Fatalf("delivered alerts of %d tickets, want 31", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("ticket %s's alert delivered %d times", id, n)
		}
	}
	if last := b.calls[len(b.calls)-1]; len(last) != 1 || last[0].TicketID != "LONE" {
		t.Errorf("the lone alert went out as %+v, want alone", last)
	}
	// Every delivery is recorded delivered; those of the failed group on
	// their second attempt.
	retried := 0
	for _, ev := range evs {
		tk, err := h.Engine.Ticket(context.Background(), ev.ID)
		if err != nil || len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
			t.Fatalf("ticket %s: %+v, %v", ev.ID, tk, err)
		}
		d := tk.Alerts[0].Deliveries[0]
		if d.Status != watchdog.DeliveryDelivered {
			t.Errorf("ticket %s delivery %+v, want delivered", ev.ID, d)
		}
		if d.Attempts == 2 {
			retried++
		}
	}
	if retried < 2 || retried > b.max {
		t.Errorf("%d deliveries took a second attempt; want the failed group's (2 to %d)", retried, b.max)
	}
}

// An engine that is not running (a tool calling EvaluateDue) hands off
// nothing: the deliveries it records stay unclaimed for whoever runs the
// delivery loops, instead of leased to no one.
func TestEvaluateDueWithoutRunLeavesDeliveriesUnclaimed(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	eng, err := watchdog.New(st, &watchdog.Config{Policy: testPolicy(), Clock: clock, Notifiers: map[string]watchdog.Notifier{"rec": watchdogtest.NewRecorder(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Ingest(context.Background(), []watchdog.Event{event("A", "gold", "high", "open", t0, t0)}); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(26 * time.Minute))
	alerts, err := eng.Hooks().EvaluateDue(context.Background(), clock.Now())
	if err != nil || len(alerts) != 1 {
		t.Fatalf("EvaluateDue = %d alerts, %v; want 1", len(alerts), err)
	}
	tk, err := st.Ticket(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	d := tk.Alerts[0].Deliveries[0]
	if d.Attempts != 0 || !d.NextAttemptAt.Equal(alerts[0].FiredAt) {
		t.Errorf("delivery %+v: want unclaimed (attempt 0), due at the alert's fired_at", d)
	}
}
