package watchdog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// recorder is a notifier that records what it is given.
type recorder struct {
	mu     sync.Mutex
	alerts []watchdog.Alert
	got    chan watchdog.Alert
}

func newRecorder() *recorder { return &recorder{got: make(chan watchdog.Alert, 1000)} }

func (r *recorder) Deliver(ctx context.Context, a watchdog.Alert) (bool, error) {
	r.mu.Lock()
	r.alerts = append(r.alerts, a)
	r.mu.Unlock()
	r.got <- a
	return false, nil
}

type harness struct {
	t      *testing.T
	path   string
	clock  *watchdogtest.Clock
	store  *sqlite.Store
	engine *watchdog.Engine
	cancel context.CancelFunc
	done   chan error
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// start runs an engine on the SQLite file at path with a fake clock.
func start(t *testing.T, path string, clock *watchdogtest.Clock, p *watchdog.Policy, notifiers map[string]watchdog.Notifier) *harness {
	t.Helper()
	return startConfig(t, path, clock, watchdog.Config{Policy: p, Notifiers: notifiers, SweepInterval: time.Minute}, nil)
}

// startConfig runs an engine with cfg (its Clock and Logger set here) on
// the SQLite file at path, seen through wrap when it is not nil.
func startConfig(t *testing.T, path string, clock *watchdogtest.Clock, cfg watchdog.Config, wrap func(watchdog.Store) watchdog.Store) *harness {
	t.Helper()
	h := &harness{t: t, path: path, clock: clock, store: openStore(t, path)}
	var st watchdog.Store = h.store
	if wrap != nil {
		st = wrap(st)
	}
	cfg.Clock, cfg.Logger = clock, slog.New(slog.NewTextHandler(tlog{t}, nil))
	var err error
	h.engine, err = watchdog.New(st, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.engine.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// settle waits until the engine is idle: its loops asleep with nothing
// pending and no delivery in flight, so that moving the fake clock cannot
// overtake work in progress.
func (h *harness) settle() {
	h.t.Helper()
	watchdogtest.Settle(h.t, h.engine.Hooks())
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	h.cancel = nil
	h.store.Close()
}

func (h *harness) ingest(evs ...watchdog.Event) []*watchdog.Ticket {
	h.t.Helper()
	ts, err := h.engine.Ingest(context.Background(), evs)
	if err != nil {
		h.t.Fatalf("ingest: %v", err)
	}
	return ts
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
	rec := newRecorder()
	h := start(t, filepath.Join(t.TempDir(), "wd.db"), clock, testPolicy(), map[string]watchdog.Notifier{"rec": rec})
	sub, err := h.engine.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.ingest(event("A", "gold", "high", "open", t0, t0))
	alertAt := t0.Add(25*time.Minute + 30*time.Second)
	clock.WaitForTimerAt(t, alertAt)
	clock.Set(alertAt.Add(-time.Millisecond))
	clock.WaitForTimerAt(t, alertAt)
	if tk, _ := h.engine.Ticket(context.Background(), "A"); len(tk.Alerts) != 0 || tk.EscalationLevel != 0 {
		t.Fatalf("fired before its instant: %+v", tk.Alerts)
	}
	noAlert(t, rec.got)

	clock.Set(alertAt)
	a := waitAlert(t, sub)
	if a.TicketID != "A" || a.Stage != "alert" || a.SLAClock != watchdog.Response || !a.DueAt.Equal(alertAt) || !a.FiredAt.Equal(alertAt) || a.EscalationLevel != 1 {
		t.Fatalf("alert %+v", a)
	}
	if d := waitAlert(t, rec.got); d.ID != a.ID {
		t.Fatalf("notifier got alert %d, subscriber %d", d.ID, a.ID)
	}
	tk, err := h.engine.Ticket(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	if tk.EscalationLevel != 1 || len(tk.Alerts) != 1 || tk.State != watchdog.TicketAlert {
		t.Fatalf("ticket after alert: level %d alerts %d state %q", tk.EscalationLevel, len(tk.Alerts), tk.State)
	}
}

// A stage fires once across many sweeps and a restart of the engine.
func TestEngineStageOnceAcrossSweepsAndRestart(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	path := filepath.Join(t.TempDir(), "wd.db")
	rec := newRecorder()
	notifiers := map[string]watchdog.Notifier{"rec": rec}
	h := start(t, path, clock, testPolicy(), notifiers)
	var evs []watchdog.Event
	for _, id := range []string{"A", "B", "C"} {
		evs = append(evs, event(id, "gold", "high", "open", t0, t0))
	}
	h.ingest(evs...)
	// Run 40 minutes of sweeps, one minute at a time: response alert
	// (25m30s) and breach (30m) for each ticket.
	for i := 0; i < 40; i++ {
		h.settle()
		clock.Advance(time.Minute)
	}
	h.stop()
	h = start(t, path, clock, testPolicy(), notifiers)
	for i := 0; i < 20; i++ {
		h.settle()
		clock.Advance(time.Minute)
	}
	h.settle()
	for _, id := range []string{"A", "B", "C"} {
		tk, err := h.engine.Ticket(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.Alerts) != 2 || tk.EscalationLevel != 2 {
			t.Fatalf("%s: %d alerts, level %d; want 2 and 2", id, len(tk.Alerts), tk.EscalationLevel)
		}
		for _, a := range tk.Alerts {
			if len(a.Deliveries) != 1 || a.Deliveries[0].Status != watchdog.DeliveryDelivered {
				t.Fatalf("%s %s deliveries %+v", id, a.Stage, a.Deliveries)
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := map[string]int{}
	for _, a := range rec.alerts {
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
	h, _ := startPlanned(t, clock, testPolicy(), nil)
	sub, _ := h.engine.Subscribe(context.Background())
	h.ingest(event("A", "gold", "high", "open", t0, t0))
	h.settle()
	clock.Advance(5 * time.Minute)
	h.settle()
	if next, _ := clock.NextTimer(); !next.Equal(t0.Add(25*time.Minute + 30*time.Second)) {
		t.Fatalf("before the reload the loop sleeps until %v, want the alert at 25m30s", next)
	}

	short := testPolicy()
	short.Tiers["gold"].Priorities["high"] = watchdog.Targets{Response: 10 * time.Minute, Resolution: time.Hour}
	if err := h.engine.SetPolicyAndReplan(context.Background(), short); err != nil {
		t.Fatal(err)
	}
	expectAlertAt(t, h, sub, "A", "alert", t0.Add(8*time.Minute+30*time.Second))
	expectAlertAt(t, h, sub, "A", "breach", t0.Add(10*time.Minute))
	tk, err := h.engine.Ticket(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
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
	h.ingest(evs...)
	// The breach fires at 30m, into the outage; run the clock to 45m.
	for clock.Now().Before(t0.Add(45 * time.Minute)) {
		h.settle()
		next, _ := clock.NextTimer()
		if step := clock.Now().Add(10 * time.Second); next.After(step) {
			next = step
		}
		clock.Set(next)
	}
	h.settle()
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
		tk, _ := h.engine.Ticket(context.Background(), id)
		for _, a := range tk.Alerts {
			d := a.Deliveries[0]
			if d.Status != watchdog.DeliveryDelivered || d.Attempts < 2 && a.Stage == "breach" {
				t.Fatalf("%s %s delivery %+v", id, a.Stage, d)
			}
		}
	}
}

type tlog struct{ t *testing.T }

func (l tlog) Write(b []byte) (int, error) { l.t.Log(string(b)); return len(b), nil }

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
	defer st.Close()
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
	h.ingest(evs...)
	// A lone ticket whose alert comes due a minute later.
	h.ingest(event("LONE", "gold", "high", "open", t0.Add(time.Minute), t0.Add(time.Minute)))
	alertAt := t0.Add(25*time.Minute + 30*time.Second)
	for _, at := range []time.Time{alertAt, alertAt.Add(time.Second), alertAt.Add(10 * time.Second), alertAt.Add(time.Minute)} {
		h.settle()
		clock.Set(at)
	}
	h.settle()

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
		tk, err := h.engine.Ticket(context.Background(), ev.ID)
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
	defer st.Close()
	eng, err := watchdog.New(st, &watchdog.Config{Policy: testPolicy(), Clock: clock, Notifiers: map[string]watchdog.Notifier{"rec": newRecorder()}})
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
