package watchdog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// countedPreplanner is the SQLite store, counting the evaluations the
// engine runs through its planning before the transaction.
type countedPreplanner struct {
	*sqlite.Store
	calls atomic.Int64
}

func (c *countedPreplanner) EvaluateDuePreplanned(ctx context.Context, now time.Time, limit int, prePlan, plan watchdog.PlanFunc) ([]watchdog.Alert, error) {
	c.calls.Add(1)
	return c.Store.EvaluateDuePreplanned(ctx, now, limit, prePlan, plan)
}

// TestEnginePreplannedFiresAsPlanned: an engine over a store that plans due
// tickets before its transaction goes through that path, and records the
// same alerts, escalation levels and instants as one over the same store
// planning within its transaction.
func TestEnginePreplannedFiresAsPlanned(t *testing.T) {
	run := func(wrap func(*sqlite.Store) watchdog.Store) map[string][]string {
		clock := watchdogtest.NewClock(t0)
		st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
		h := watchdogtest.StartEngine(t, wrap(st), clock, &watchdog.Config{Policy: testPolicy(), EvaluateBatch: 7, SweepInterval: time.Minute})
		var evs []watchdog.Event
		for i := range 40 {
			created := t0.Add(time.Duration(i) * time.Minute)
			evs = append(evs, event(fmt.Sprintf("T%02d", i), "gold", "high", "open", created, created))
		}
		h.Ingest(evs...)
		h.Settle()
		h.AdvanceTo(t0.Add(6 * time.Hour))
		h.Settle()
		got := map[string][]string{}
		for _, e := range evs {
			for _, a := range h.Alerts(e.ID) {
				got[e.ID] = append(got[e.ID], fmt.Sprintf("%s/%s level %d due %s fired %s", a.SLAClock, a.Stage, a.EscalationLevel,
					a.DueAt.Format(time.RFC3339), a.FiredAt.Format(time.RFC3339)))
			}
		}
		return got
	}
	var counted *countedPreplanner
	preplanned := run(func(st *sqlite.Store) watchdog.Store {
		counted = &countedPreplanner{Store: st}
		return counted
	})
	if counted.calls.Load() == 0 {
		t.Fatal("the engine never evaluated through EvaluateDuePreplanned")
	}
	within := run(func(st *sqlite.Store) watchdog.Store { return plainStore{st} })
	if len(within) != 40 {
		t.Fatalf("planning within the transaction fired alerts for %d tickets, want 40", len(within))
	}
	if d := cmp.Diff(within, preplanned); d != "" {
		t.Errorf("alerts recorded with the plans made before the transaction differ (-within +before):\n%s", d)
	}
}

// failingAfterCommit is the SQLite store whose first preplanned evaluation
// that records alerts then reports a failure with them, as one recording
// in parts does when a later part fails after an earlier one committed.
type failingAfterCommit struct {
	*sqlite.Store
	failed atomic.Bool
}

func (f *failingAfterCommit) EvaluateDuePreplanned(ctx context.Context, now time.Time, limit int, prePlan, plan watchdog.PlanFunc) ([]watchdog.Alert, error) {
	alerts, err := f.Store.EvaluateDuePreplanned(ctx, now, limit, prePlan, plan)
	if err == nil && len(alerts) > 0 && f.failed.CompareAndSwap(false, true) {
		return alerts, errors.New("a later part failed")
	}
	return alerts, err
}

// TestEngineSendsAlertsCommittedBeforeAFailure: the alerts an evaluation
// returns with its error were committed, with their deliveries claimed by
// this engine, which sends them at once rather than leaving them claimed
// and unsent.
func TestEngineSendsAlertsCommittedBeforeAFailure(t *testing.T) {
	rec := watchdogtest.NewRecorder(nil)
	st := &failingAfterCommit{Store: openStore(t, filepath.Join(t.TempDir(), "wd.db"))}
	h := watchdogtest.StartEngine(t, st, watchdogtest.NewClock(t0), &watchdog.Config{Policy: testPolicy(),
		Notifiers: map[string]watchdog.Notifier{"rec": rec}})
	h.Ingest(event("T1", "gold", "high", "open", t0, t0))
	for end := t0.Add(24 * time.Hour); !st.failed.Load() && h.Clock.Now().Before(end); {
		h.Advance(time.Minute)
	}
	if !st.failed.Load() {
		t.Fatal("no evaluation recorded an alert within a day")
	}
	h.Settle()
	recorded := h.Alerts("T1")
	if len(recorded) == 0 {
		t.Fatal("the failed evaluation's alerts are not recorded")
	}
	sent := map[string]bool{}
	for _, a := range rec.Alerts() {
		sent[string(a.SLAClock)+"/"+a.Stage] = true
	}
	for _, a := range recorded {
		if !sent[string(a.SLAClock)+"/"+a.Stage] {
			t.Errorf("alert %s/%s was recorded but not sent (deliveries %+v)", a.SLAClock, a.Stage, a.Deliveries)
		}
	}
}

// firedCounter counts the alerts an engine reports fired.
type firedCounter struct {
	watchdog.NopObserver
	fired atomic.Int64
}

func (c *firedCounter) AlertFired(watchdog.Alert, time.Duration, bool) { c.fired.Add(1) }

// TestEngineReportsAlertsCommittedBeforeAFailure: the alerts an evaluation
// returns with its error are counted as fired, like any others, and a step
// driven through the hooks returns them with the error.
func TestEngineReportsAlertsCommittedBeforeAFailure(t *testing.T) {
	obs := &firedCounter{}
	st := &failingAfterCommit{Store: openStore(t, filepath.Join(t.TempDir(), "wd.db"))}
	clock := watchdogtest.NewClock(t0)
	eng, err := watchdog.New(st, &watchdog.Config{Policy: testPolicy(), Clock: clock, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Ingest(t.Context(), []watchdog.Event{event("T1", "gold", "high", "open", t0, t0)}); err != nil {
		t.Fatal(err)
	}
	alerts, err := eng.Hooks().EvaluateDue(t.Context(), t0.Add(24*time.Hour))
	if err == nil || !st.failed.Load() {
		t.Fatalf("the evaluation did not fail after recording (err %v)", err)
	}
	if len(alerts) == 0 {
		t.Fatal("the evaluation returned no alerts with its error, though it recorded some")
	}
	if got := obs.fired.Load(); got != int64(len(alerts)) {
		t.Errorf("%d alerts counted as fired, want the %d recorded", got, len(alerts))
	}
	v, err := eng.Ticket(t.Context(), "T1")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Alerts) != len(alerts) {
		t.Errorf("T1 has %d alerts stored, the evaluation returned %d", len(v.Alerts), len(alerts))
	}
}
