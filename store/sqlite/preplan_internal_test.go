package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// answering keeps the plans made before the transaction by *Ticket, as the
// engine does, and notes which tickets the transaction's plan answered
// from them and which it planned afresh.
type answering struct {
	decide watchdog.PlanFunc
	before func()

	mu               sync.Mutex
	plans            map[*watchdog.Ticket]watchdog.Plan
	answered, afresh []string
}

func (a *answering) prePlan(t *watchdog.Ticket) watchdog.Plan {
	if a.before != nil {
		a.before()
		a.before = nil
	}
	p := a.decide(t)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.plans == nil {
		a.plans = map[*watchdog.Ticket]watchdog.Plan{}
	}
	a.plans[t] = p
	return p
}

func (a *answering) plan(t *watchdog.Ticket) watchdog.Plan {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.plans[t]; ok {
		a.answered = append(a.answered, t.ID)
		return p
	}
	a.afresh = append(a.afresh, t.ID)
	return a.decide(t)
}

// TestPreplansStandUnlessWritten: the plans made before an evaluation's
// transaction are what it records, unless the ticket was written since its
// read: a notifier's delivery bookkeeping meanwhile leaves them standing,
// an ingest of one of the tickets plans that one again, and a write by
// another handle on the file plans them all again.
func TestPreplansStandUnlessWritten(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "preplan.db")
	s := openAt(t, path)
	due := storetest.TimePtr(storetest.At(time.Minute))
	var evs []watchdog.Event
	for _, id := range []string{"a0", "a1", "b0", "b1", "b2", "b3", "c0", "c1", "c2", "c3", "d0", "d1", "d2", "d3"} {
		evs = append(evs, storetest.NewEvent(id, 0))
	}
	if _, err := s.Ingest(ctx, evs, storetest.OpenPlan(due)); err != nil {
		t.Fatal(err)
	}
	now := storetest.At(5 * time.Minute)
	fire := storetest.FirePlan(now, nil, []string{"slack"}, "alert")
	// a0 and a1 fire first, so that there are deliveries to keep.
	if got, err := s.EvaluateDue(ctx, now, 2, fire); err != nil || len(got) != 2 {
		t.Fatalf("first evaluation: %d alerts, %v", len(got), err)
	}

	evaluate := func(before func()) *answering {
		t.Helper()
		a := &answering{decide: fire, before: before}
		if _, err := s.EvaluateDuePreplanned(ctx, now, 4, a.prePlan, a.plan); err != nil {
			t.Fatal(err)
		}
		slices.Sort(a.answered)
		slices.Sort(a.afresh)
		if n := s.inputs.reservedCount(); n != 0 {
			t.Errorf("%d tickets still reserved after the evaluation returned", n)
		}
		return a
	}
	check := func(what string, a *answering, answered, afresh []string) {
		t.Helper()
		if d := cmp.Diff(answered, a.answered); d != "" {
			t.Errorf("%s: tickets answered from the plans made before (-want +got):\n%s", what, d)
		}
		if d := cmp.Diff(afresh, a.afresh); d != "" {
			t.Errorf("%s: tickets planned again in the transaction (-want +got):\n%s", what, d)
		}
	}

	a := evaluate(func() {
		ds, err := s.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "slack", Holder: "h", Now: now, Until: now.Add(time.Minute), Limit: 10})
		if err != nil || len(ds) != 2 {
			t.Fatalf("claim: %d deliveries, %v", len(ds), err)
		}
		if err := s.Heartbeat(ctx, "h", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{{ID: ds[0].ID, Attempt: ds[0].Attempts,
			Status: watchdog.DeliveryDelivered, Finished: now}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.RescueDeliveries(ctx, now, "h"); err != nil {
			t.Fatal(err)
		}
	})
	check("delivery bookkeeping meanwhile", a, []string{"b0", "b1", "b2", "b3"}, nil)

	a = evaluate(func() {
		if _, err := s.Ingest(ctx, []watchdog.Event{storetest.NewEvent("c2", time.Minute)}, storetest.OpenPlan(due)); err != nil {
			t.Fatal(err)
		}
	})
	check("an ingest of c2 meanwhile", a, []string{"c0", "c1", "c3"}, []string{"c2"})

	other := openAt(t, path)
	a = evaluate(func() {
		if _, err := other.Ingest(ctx, []watchdog.Event{storetest.NewEvent("z", 0)}, storetest.OpenPlan(nil)); err != nil {
			t.Fatal(err)
		}
	})
	check("another handle's write meanwhile", a, nil, []string{"d0", "d1", "d2", "d3"})
}

// TestPreloadsSideBySideTakeOthers: evaluations reading side by side read
// different due tickets, and give them back when done.
func TestPreloadsSideBySideTakeOthers(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "preload.db"))
	var evs []watchdog.Event
	for i := range 10 {
		evs = append(evs, storetest.NewEvent(string(rune('a'+i)), 0))
	}
	if _, err := s.Ingest(ctx, evs, storetest.OpenPlan(storetest.TimePtr(storetest.At(time.Minute)))); err != nil {
		t.Fatal(err)
	}
	now := storetest.At(5 * time.Minute)
	first, err := s.preload(ctx, now, 4)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.preload(ctx, now, 4)
	if err != nil {
		t.Fatal(err)
	}
	third, err := s.preload(ctx, now, 4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range []*preloaded{first, second, third} {
		for _, tk := range p.tickets {
			if seen[tk.ID] {
				t.Errorf("ticket %s read by two evaluations in flight", tk.ID)
			}
			seen[tk.ID] = true
		}
	}
	if len(first.tickets) != 4 || len(second.tickets) != 4 || len(third.tickets) != 2 {
		t.Errorf("read %d, %d and %d tickets, want 4, 4 and the 2 left", len(first.tickets), len(second.tickets), len(third.tickets))
	}
	for _, p := range []*preloaded{first, second, third} {
		s.inputs.release(p.rowids)
	}
	again, err := s.preload(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.tickets) != 10 {
		t.Errorf("after the others gave them back, an evaluation read %d tickets, want all 10", len(again.tickets))
	}
}
