package watchdog_test

import (
	"context"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// firedObserver records, for each alert fired, whether it counted as
// backfilled or as late, and how late.
type firedObserver struct {
	watchdog.NopObserver
	mu    sync.Mutex
	fired map[string]firedAs // by "ticket clock/stage"
}

type firedAs struct {
	Backfilled bool
	Lateness   time.Duration
}

func (o *firedObserver) AlertFired(a watchdog.Alert, lateness time.Duration, backfilled bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fired == nil {
		o.fired = map[string]firedAs{}
	}
	o.fired[a.TicketID+" "+string(a.SLAClock)+"/"+a.Stage] = firedAs{backfilled, lateness}
}

func (o *firedObserver) got() map[string]firedAs {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]firedAs{}
	for k, v := range o.fired {
		out[k] = v
	}
	return out
}

// A ticket imported long after its deadlines fires its stages as
// backfilled, and so do stages a policy change makes due in the past; a
// stage reached while the engine runs counts in the lateness.
func TestEngineTellsBackfilledAlertsFromLateOnes(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	obs := &firedObserver{}
	h := watchdogtest.StartEngine(t, openStore(t, filepath.Join(t.TempDir(), "wd.db")), clock,
		&watchdog.Config{Policy: testPolicy(), Observer: obs, SweepInterval: noSweep})
	year := 365 * 24 * time.Hour
	h.Ingest(event("old", "gold", "high", "open", t0.Add(-year), t0.Add(-year)))
	h.Ingest(event("live", "gold", "high", "open", t0, t0))
	h.Ingest(event("shortened", "gold", "low", "open", t0, t0))
	// live's response stages fire while running, each at its instant.
	h.AdvanceTo(t0.Add(25*time.Minute + 30*time.Second))
	h.AdvanceTo(t0.Add(30 * time.Minute))
	h.AdvanceTo(t0.Add(40 * time.Minute))
	// shortened's response stages were due at 17m and 20m under the new
	// targets: the policy change made them due.
	short := testPolicy()
	short.Tiers["gold"].Priorities["low"] = watchdog.Targets{Response: 20 * time.Minute, Resolution: time.Hour}
	if err := h.Engine.SetPolicyAndReplan(context.Background(), short); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	// Its resolution stages are reached while running.
	h.AdvanceTo(t0.Add(51 * time.Minute))
	h.AdvanceTo(t0.Add(60 * time.Minute))

	got := obs.got()
	backfilled := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if f, ok := got[k]; !ok || !f.Backfilled {
				t.Errorf("%s: fired %v (%+v), want backfilled", k, ok, f)
			}
		}
	}
	late := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if f, ok := got[k]; !ok || f.Backfilled || f.Lateness != 0 {
				t.Errorf("%s: fired %v (%+v), want counted in the lateness, on time", k, ok, f)
			}
		}
	}
	backfilled("old response/alert", "old response/breach", "old resolution/alert", "old resolution/breach")
	backfilled("shortened response/alert", "shortened response/breach")
	late("live response/alert", "live response/breach")
	late("shortened resolution/alert", "shortened resolution/breach")
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 10 {
		t.Errorf("fired %v, want the 10 stages checked", keys)
	}
}

// A stage that came due while the scheduler was behind stays late when an
// event for its ticket is ingested before it fires: that ingest did not
// make it due.
func TestEngineIngestAfterTheDueInstantKeepsTheStageLate(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	obs := &firedObserver{}
	// Not run: nothing fires until EvaluateDue.
	e, err := watchdog.New(openStore(t, filepath.Join(t.TempDir(), "wd.db")),
		&watchdog.Config{Policy: testPolicy(), Clock: clock, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Ingest(ctx, []watchdog.Event{event("A", "gold", "high", "open", t0, t0)}); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(27 * time.Minute)) // the alert stage (25m30s) is due, not fired
	if _, err := e.Ingest(ctx, []watchdog.Event{event("A", "gold", "high", "open", t0, t0.Add(26*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Hooks().EvaluateDue(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	want := map[string]firedAs{"A response/alert": {Backfilled: false, Lateness: 90 * time.Second}}
	if d := cmp.Diff(want, obs.got()); d != "" {
		t.Errorf("fired (-want +got):\n%s", d)
	}
}
