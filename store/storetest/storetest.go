// Package storetest is the conformance suite every watchdog.Store passes.
// A store's own _test.go calls Run with a Harness that opens fresh databases:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{Open: func(t testing.TB) (watchdog.Store, func(testing.TB) watchdog.Store) {
//			path := filepath.Join(t.TempDir(), "watchdog.db")
//			open := func(t testing.TB) watchdog.Store { ... open path, t.Cleanup(Close) ... }
//			return open(t), open
//		}})
//	}
//
// Every case uses fixed instants (Base plus offsets) and explicit "now"
// values, never the wall clock. The helpers (NewEvent, FirePlan, Recorder,
// ...) are exported for stores' own tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ticket-watchdog/watchdog"
)

// Harness opens stores for the suite.
type Harness struct {
	// Open returns a store over a fresh, empty database (closed via
	// t.Cleanup), and a function that opens another independent handle (its
	// own connection pool) on that same database, also closed via t.Cleanup.
	// The suite may Close a handle itself too, so Close must be safe to call
	// twice.
	Open func(t testing.TB) (s watchdog.Store, another func(t testing.TB) watchdog.Store)

	// SharedFeed reports that SubscribeAlerts on one handle receives alerts
	// recorded through another handle on the same database (Postgres
	// LISTEN/NOTIFY). When false, the suite only checks that a subscriber
	// sees alerts recorded through its own handle.
	SharedFeed bool
}

// waitLong bounds how long a case waits for something asynchronous (a
// subscription, concurrent workers) before failing instead of hanging.
const waitLong = 20 * time.Second

// Run runs every case of the suite as a parallel subtest; each opens its own
// database.
func Run(t *testing.T, h Harness) {
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is nil")
	}
	cases := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"IngestReturnsTickets", testIngestReturnsTickets},
		{"IngestIdempotent", testIngestIdempotent},
		{"IngestLateEvent", testIngestLateEvent},
		{"IngestSameIDInBatch", testIngestSameIDInBatch},
		{"IngestFirstResponseEarliest", testIngestFirstResponseEarliest},
		{"IngestAtomic", testIngestAtomic},
		{"IngestKeepsEscalation", testIngestKeepsEscalation},
		{"EvaluateDue", testEvaluateDue},
		{"EvaluateDueLimitOrder", testEvaluateDueLimitOrder},
		{"EvaluateDueStageOnce", testEvaluateDueStageOnce},
		{"EvaluateDueConcurrent", testEvaluateDueConcurrent},
		{"EvaluateDueClaimed", testEvaluateDueClaimed},
		{"ClaimDeliveriesLease", testClaimDeliveriesLease},
		{"ClaimDeliveriesConcurrent", testClaimDeliveriesConcurrent},
		{"FinishDelivery", testFinishDelivery},
		{"FinishDeliveryUnsent", testFinishDeliveryUnsent},
		{"NextDueNextDelivery", testNextDueNextDelivery},
		{"DueInstantMoves", testDueInstantMoves},
		{"Replan", testReplan},
		{"Dashboard", testDashboard},
		{"TicketNotFound", testTicketNotFound},
		{"SubscribeAlerts", testSubscribeAlerts},
		{"SubscribeSlowReader", testSubscribeSlowReader},
		{"ContextCanceled", testContextCanceled},
		{"Closed", testClosed},
		{"TimesRoundTrip", testTimesRoundTrip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, h)
		})
	}
}

// ---- helpers ---------------------------------------------------------------

var (
	ignoreTimeline = cmpopts.IgnoreFields(watchdog.Ticket{}, "Events", "Alerts")
	ignoreDeliv    = cmpopts.IgnoreFields(watchdog.Alert{}, "Deliveries")
)

// want builds the ticket a store should return for events merged and plan p
// applied, at escalation level level.
func want(p watchdog.Plan, level int, events ...watchdog.Event) *watchdog.Ticket {
	var t watchdog.Ticket
	t.Merge(events...)
	t.Events = nil
	t.EscalationLevel = level
	t.State, t.Untracked, t.Open, t.NextDueAt, t.BreachAt = p.State, p.Untracked, p.Open, p.NextDueAt, p.BreachAt
	return &t
}

func ingest(t *testing.T, s watchdog.Store, plan watchdog.PlanFunc, events ...watchdog.Event) []*watchdog.Ticket {
	t.Helper()
	got, err := s.Ingest(t.Context(), events, plan)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if len(got) == 0 {
		t.Fatalf("Ingest returned no tickets for %d events", len(events))
	}
	return got
}

func evaluate(t *testing.T, s watchdog.Store, now time.Time, limit int, plan watchdog.PlanFunc) []watchdog.Alert {
	t.Helper()
	got, err := s.EvaluateDue(t.Context(), now, limit, plan)
	if err != nil {
		t.Fatalf("EvaluateDue(%s): %v", now.Format(time.RFC3339Nano), err)
	}
	return got
}

func getTicket(t *testing.T, s watchdog.Store, id string) *watchdog.Ticket {
	t.Helper()
	tk, err := s.Ticket(t.Context(), id)
	if err != nil {
		t.Fatalf("Ticket(%q): %v", id, err)
	}
	return tk
}

func claim(t *testing.T, s watchdog.Store, notifier string, now time.Time, limit int, lease time.Duration) []watchdog.Delivery {
	t.Helper()
	got, err := s.ClaimDeliveries(t.Context(), notifier, now, limit, lease)
	if err != nil {
		t.Fatalf("ClaimDeliveries(%q): %v", notifier, err)
	}
	for _, d := range got {
		if d.Notifier != notifier {
			t.Errorf("ClaimDeliveries(%q) returned a delivery to %q", notifier, d.Notifier)
		}
	}
	return got
}

func finish(t *testing.T, s watchdog.Store, o watchdog.DeliveryOutcome) {
	t.Helper()
	if err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{o}); err != nil {
		t.Fatalf("FinishDeliveries(%+v): %v", o, err)
	}
}

func diffTicket(t *testing.T, what string, got, want *watchdog.Ticket) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil ticket", what)
	}
	if d := cmp.Diff(want, got, ignoreTimeline); d != "" {
		t.Errorf("%s: ticket mismatch (-want +got):\n%s", what, d)
	}
	checkUTC(t, what, got.CreatedAt, got.UpdatedAt)
	checkUTCPtr(t, what, got.FirstResponseAt, got.NextDueAt, got.BreachAt)
}

func checkUTC(t *testing.T, what string, ts ...time.Time) {
	t.Helper()
	for _, x := range ts {
		if x.Location() != time.UTC {
			t.Errorf("%s: time %s is in %v, want UTC", what, x, x.Location())
		}
	}
}

func checkUTCPtr(t *testing.T, what string, ts ...*time.Time) {
	t.Helper()
	for _, x := range ts {
		if x != nil {
			checkUTC(t, what, *x)
		}
	}
}

func ids(ts []*watchdog.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func statuses(evs []watchdog.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Status
	}
	return out
}

func eventTimes(evs []watchdog.Event) []time.Time {
	out := make([]time.Time, len(evs))
	for i, e := range evs {
		out[i] = e.UpdatedAt
	}
	return out
}

func sortedStrings(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func recv(t *testing.T, ch <-chan watchdog.Alert) watchdog.Alert {
	t.Helper()
	select {
	case a, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed before an expected alert")
		}
		return a
	case <-time.After(waitLong):
		t.Fatal("no alert received in time")
	}
	return watchdog.Alert{}
}

func waitClosed(t *testing.T, ch <-chan watchdog.Alert) {
	t.Helper()
	timeout := time.After(waitLong)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("subscription channel not closed in time")
		}
	}
}

// ---- Ingest ----------------------------------------------------------------

func testIngestReturnsTickets(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	e1 := NewEvent("t-b", 0)
	e1.Priority, e1.CustomerTier = "urgent", "enterprise"
	e2 := NewEvent("t-a", time.Minute)
	e2.FirstResponseAt = TimePtr(At(30 * time.Second))
	e3 := NewEvent("t-c", 2*time.Minute)
	e3.Status = "pending"
	plans := map[string]watchdog.Plan{
		"t-b": {State: watchdog.TicketAlert, Open: true, NextDueAt: TimePtr(At(time.Hour)), BreachAt: TimePtr(At(2 * time.Hour))},
		"t-a": {State: watchdog.TicketOK, Open: false},
		"t-c": {State: watchdog.TicketUntracked, Untracked: "no policy for tier free", Open: true},
	}
	rec := &Recorder{Decide: PlanByID(plans, OpenPlan(nil))}
	got := ingest(t, s, rec.Plan, e1, e2, e3)

	if d := cmp.Diff([]string{"t-b", "t-a", "t-c"}, ids(got)); d != "" {
		t.Fatalf("ticket order (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"t-a", "t-b", "t-c"}, sortedStrings(rec.IDs())); d != "" {
		t.Errorf("plan calls (-want +got):\n%s", d)
	}
	for i, e := range []watchdog.Event{e1, e2, e3} {
		diffTicket(t, "Ingest "+e.ID, got[i], want(plans[e.ID], 0, e))
		if got[i].Events != nil || got[i].Alerts != nil {
			t.Errorf("Ingest %s: returned Events/Alerts, want none", e.ID)
		}
	}
	for _, c := range rec.Calls() {
		if len(c.Events) != 1 || len(c.Alerts) != 0 || c.EscalationLevel != 0 {
			t.Errorf("plan for %s saw %d events, %d alerts, level %d; want 1, 0, 0", c.ID, len(c.Events), len(c.Alerts), c.EscalationLevel)
		}
	}
	for _, e := range []watchdog.Event{e1, e2, e3} {
		tk := getTicket(t, s, e.ID)
		diffTicket(t, "Ticket "+e.ID, tk, want(plans[e.ID], 0, e))
		if d := cmp.Diff([]watchdog.Event{e}, tk.Events); d != "" {
			t.Errorf("Ticket %s events (-want +got):\n%s", e.ID, d)
		}
		if len(tk.Alerts) != 0 {
			t.Errorf("Ticket %s has %d alerts, want 0", e.ID, len(tk.Alerts))
		}
	}
}

func testIngestIdempotent(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	due := TimePtr(At(time.Hour))
	a0, a1, b0 := NewEvent("a", 0), NewEvent("a", time.Minute), NewEvent("b", 0)
	a1.Status = "pending"
	first := ingest(t, s, OpenPlan(due), a0, a1, b0)

	rec := &Recorder{Decide: OpenPlan(TimePtr(At(5 * time.Hour)))}
	second := ingest(t, s, rec.Plan, a0, a1, b0)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("plan called %d times for a batch already stored, want 0", n)
	}
	if d := cmp.Diff(first, second, ignoreTimeline); d != "" {
		t.Errorf("second ingest of the same batch differs (-first +second):\n%s", d)
	}

	// Same (id, updated_at) with other content: the stored event wins.
	changed := a1
	changed.Status, changed.Priority = "closed", "low"
	third := ingest(t, s, rec.Plan, changed)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("plan called %d times for a replayed (id, updated_at), want 0", n)
	}
	if len(third) != 1 || third[0].Status != "pending" || third[0].Priority != "high" {
		t.Errorf("replayed event changed the ticket: %+v", third)
	}
	tk := getTicket(t, s, "a")
	diffTicket(t, "Ticket a", tk, want(watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: due}, 0, a0, a1))
	if d := cmp.Diff([]watchdog.Event{a0, a1}, tk.Events); d != "" {
		t.Errorf("timeline (-want +got):\n%s", d)
	}
}

func testIngestLateEvent(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	late := NewEvent("a", 10*time.Minute)
	late.Status = "pending"
	ingest(t, s, OpenPlan(nil), late)

	early := NewEvent("a", 5*time.Minute)
	early.Priority = "low"
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, early)
	calls := rec.Calls()
	if len(calls) != 1 {
		t.Fatalf("plan called %d times, want 1", len(calls))
	}
	if d := cmp.Diff([]watchdog.Event{early, late}, calls[0].Events); d != "" {
		t.Errorf("plan's timeline (-want +got):\n%s", d)
	}
	if calls[0].Status != "pending" || calls[0].Priority != "high" || !calls[0].UpdatedAt.Equal(late.UpdatedAt) {
		t.Errorf("plan saw current fields status=%q priority=%q updated=%s; want those of the latest event", calls[0].Status, calls[0].Priority, calls[0].UpdatedAt)
	}
	w := want(watchdog.Plan{State: watchdog.TicketOK, Open: true}, 0, early, late)
	diffTicket(t, "Ingest", got[0], w)
	tk := getTicket(t, s, "a")
	diffTicket(t, "Ticket", tk, w)
	if d := cmp.Diff([]string{"open", "pending"}, statuses(tk.Events)); d != "" {
		t.Errorf("timeline statuses (-want +got):\n%s", d)
	}
}

func testIngestSameIDInBatch(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	a3 := NewEvent("a", 3*time.Minute)
	a3.Status = "solved"
	a1 := NewEvent("a", time.Minute)
	a2 := NewEvent("a", 2*time.Minute)
	a2.Status = "pending"
	a1dup := a1
	a1dup.Status = "closed"
	b0 := NewEvent("b", 0)
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, a3, b0, a1, a2, a1dup, b0)

	if d := cmp.Diff([]string{"a", "b"}, ids(got)); d != "" {
		t.Fatalf("tickets (-want +got):\n%s", d)
	}
	calls := rec.Calls()
	if d := cmp.Diff([]string{"a", "b"}, sortedStrings(rec.IDs())); d != "" {
		t.Fatalf("plan called for (-want +got):\n%s", d)
	}
	for _, c := range calls {
		if c.ID != "a" {
			continue
		}
		if d := cmp.Diff([]string{"open", "pending", "solved"}, statuses(c.Events)); d != "" {
			t.Errorf("plan's timeline for a (-want +got):\n%s", d)
		}
		if c.Status != "solved" {
			t.Errorf("plan saw status %q, want solved", c.Status)
		}
	}
	p := watchdog.Plan{State: watchdog.TicketOK, Open: true}
	diffTicket(t, "Ingest a", got[0], want(p, 0, a1, a2, a3))
	diffTicket(t, "Ingest b", got[1], want(p, 0, b0))
	tk := getTicket(t, s, "a")
	if d := cmp.Diff([]watchdog.Event{a1, a2, a3}, tk.Events); d != "" {
		t.Errorf("timeline (-want +got):\n%s", d)
	}
}

func testIngestFirstResponseEarliest(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	p := OpenPlan(nil)
	steps := []struct {
		updated time.Duration
		fr      *time.Time
		want    *time.Time
	}{
		{0, nil, nil},
		{time.Minute, TimePtr(At(50 * time.Second)), TimePtr(At(50 * time.Second))},
		{2 * time.Minute, TimePtr(At(20 * time.Second)), TimePtr(At(20 * time.Second))},
		{3 * time.Minute, TimePtr(At(40 * time.Second)), TimePtr(At(20 * time.Second))},
		{4 * time.Minute, nil, TimePtr(At(20 * time.Second))},
	}
	for _, st := range steps {
		e := NewEvent("a", st.updated)
		e.FirstResponseAt = st.fr
		got := ingest(t, s, p, e)
		if d := cmp.Diff(st.want, got[0].FirstResponseAt); d != "" {
			t.Errorf("after event at +%s: first_response_at (-want +got):\n%s", st.updated, d)
		}
	}
	if d := cmp.Diff(TimePtr(At(20*time.Second)), getTicket(t, s, "a").FirstResponseAt); d != "" {
		t.Errorf("Ticket first_response_at (-want +got):\n%s", d)
	}

	// An earlier response carried by a late event still wins.
	b5 := NewEvent("b", 5*time.Minute)
	b5.FirstResponseAt = TimePtr(At(4 * time.Minute))
	ingest(t, s, p, b5)
	b1 := NewEvent("b", time.Minute)
	b1.FirstResponseAt = TimePtr(At(30 * time.Second))
	got := ingest(t, s, p, b1)
	if d := cmp.Diff(TimePtr(At(30*time.Second)), got[0].FirstResponseAt); d != "" {
		t.Errorf("late event's first_response_at (-want +got):\n%s", d)
	}
}

func testIngestAtomic(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	z0 := NewEvent("z", 0)
	ingest(t, s, OpenPlan(nil), z0)

	notFound := func(id string) {
		t.Helper()
		if _, err := s.Ticket(t.Context(), id); !errors.Is(err, watchdog.ErrNotFound) {
			t.Errorf("Ticket(%q) after a failed batch: err = %v, want ErrNotFound", id, err)
		}
	}

	// A context cancelled before the call writes nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Ingest(ctx, []watchdog.Event{NewEvent("a", 0)}, OpenPlan(nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("Ingest with a cancelled context: err = %v, want context.Canceled", err)
	}
	notFound("a")

	// A context cancelled in the middle of the batch (from the plan, which
	// runs inside the store's transaction) writes nothing either.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		calls++
		if calls == 2 {
			cancel()
		}
		return watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: TimePtr(At(time.Minute))}
	}
	z1 := NewEvent("z", time.Minute)
	z1.Status = "closed"
	batch := []watchdog.Event{NewEvent("a", 0), NewEvent("b", 0), z1, NewEvent("c", 0)}
	if _, err := s.Ingest(ctx, batch, plan); !errors.Is(err, context.Canceled) {
		t.Errorf("Ingest cancelled mid-batch: err = %v, want context.Canceled", err)
	}
	if calls < 2 {
		t.Fatalf("plan called %d times, the case needs at least 2", calls)
	}
	notFound("a")
	notFound("b")
	notFound("c")
	tk := getTicket(t, s, "z")
	diffTicket(t, "Ticket z", tk, want(watchdog.Plan{State: watchdog.TicketOK, Open: true}, 0, z0))
	if len(tk.Events) != 1 {
		t.Errorf("z has %d events after a failed batch, want 1", len(tk.Events))
	}
	if at, ok, err := s.NextDue(t.Context()); err != nil || ok {
		t.Errorf("NextDue after a failed batch = %s, %v, %v; want nothing due", at, ok, err)
	}
}

func testIngestKeepsEscalation(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert", "breach"))

	rec := &Recorder{Decide: OpenPlan(TimePtr(At(time.Hour)))}
	e := NewEvent("a", 2*time.Minute)
	e.Status = "pending"
	got := ingest(t, s, rec.Plan, e)
	calls := rec.Calls()
	if len(calls) != 1 {
		t.Fatalf("plan called %d times, want 1", len(calls))
	}
	if calls[0].EscalationLevel != 2 || len(calls[0].Alerts) != 2 || len(calls[0].Events) != 2 {
		t.Errorf("plan saw level %d, %d alerts, %d events; want 2, 2, 2", calls[0].EscalationLevel, len(calls[0].Alerts), len(calls[0].Events))
	}
	w := want(watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(time.Hour))}, 2, NewEvent("a", 0), e)
	diffTicket(t, "Ingest", got[0], w)
	diffTicket(t, "Ticket", getTicket(t, s, "a"), w)
}

// ---- EvaluateDue -----------------------------------------------------------

func testEvaluateDue(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	dues := map[string]*time.Time{
		"a": TimePtr(At(10 * time.Minute)),
		"b": TimePtr(At(20 * time.Minute)),
		"c": nil,
		"d": TimePtr(At(5 * time.Minute)),
		"e": TimePtr(At(15 * time.Minute)),
	}
	plans := map[string]watchdog.Plan{}
	var evs []watchdog.Event
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		plans[id] = watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: dues[id]}
		e := NewEvent(id, 0)
		e.Priority = "p-" + id
		evs = append(evs, e)
	}
	ingest(t, s, PlanByID(plans, nil), evs...)

	now := At(15 * time.Minute)
	notifiers := []string{"slack", "webhook"}
	rec := &Recorder{Decide: FirePlan(now, TimePtr(At(time.Hour)), notifiers, "alert")}
	got := evaluate(t, s, now, 10, rec.Plan)

	if d := cmp.Diff([]string{"a", "d", "e"}, sortedStrings(rec.IDs())); d != "" {
		t.Fatalf("plan called for (-want +got):\n%s", d)
	}
	for _, c := range rec.Calls() {
		if len(c.Events) != 1 || c.Events[0].Priority != "p-"+c.ID {
			t.Errorf("plan for %s saw events %+v", c.ID, c.Events)
		}
	}
	if len(got) != 3 {
		t.Fatalf("EvaluateDue returned %d alerts, want 3: %+v", len(got), got)
	}
	seen := map[int64]bool{}
	byTicket := map[string]watchdog.Alert{}
	for _, a := range got {
		if a.ID == 0 || seen[a.ID] {
			t.Errorf("alert %+v: id zero or repeated", a)
		}
		seen[a.ID] = true
		byTicket[a.TicketID] = a
		tk := &watchdog.Ticket{ID: a.TicketID, Priority: "p-" + a.TicketID, CustomerTier: "gold"}
		w := NewAlert(tk, "alert", *dues[a.TicketID], now)
		w.ID, w.EscalationLevel = a.ID, 1
		if d := cmp.Diff(w, a, ignoreDeliv); d != "" {
			t.Errorf("alert for %s (-want +got):\n%s", a.TicketID, d)
		}
		checkUTC(t, "alert", a.DueAt, a.FiredAt)
	}

	for _, id := range []string{"a", "d", "e"} {
		tk := getTicket(t, s, id)
		w := want(watchdog.Plan{State: watchdog.TicketAlert, Open: true, NextDueAt: TimePtr(At(time.Hour))}, 1, evs[id[0]-'a'])
		diffTicket(t, "Ticket "+id, tk, w)
		if len(tk.Alerts) != 1 {
			t.Fatalf("Ticket %s has %d alerts, want 1", id, len(tk.Alerts))
		}
		if d := cmp.Diff(byTicket[id], tk.Alerts[0], ignoreDeliv); d != "" {
			t.Errorf("Ticket %s alert (-returned +stored):\n%s", id, d)
		}
		ds := tk.Alerts[0].Deliveries
		var names []string
		for _, dl := range ds {
			names = append(names, dl.Notifier)
			if dl.ID == 0 || dl.AlertID != tk.Alerts[0].ID || dl.Status != watchdog.DeliveryPending || dl.Attempts != 0 ||
				!dl.NextAttemptAt.Equal(now) || dl.LastError != "" || dl.DeliveredAt != nil {
				t.Errorf("Ticket %s delivery %+v: want a fresh pending delivery due at the alert's fired_at", id, dl)
			}
		}
		if d := cmp.Diff(notifiers, sortedStrings(names)); d != "" {
			t.Errorf("Ticket %s deliveries (-want +got):\n%s", id, d)
		}
		if d := cmp.Diff(byNotifier(ds), byNotifier(byTicket[id].Deliveries)); d != "" {
			t.Errorf("Ticket %s: deliveries returned by EvaluateDue differ from those stored (-stored +returned):\n%s", id, d)
		}
	}
	for _, id := range []string{"b", "c"} {
		tk := getTicket(t, s, id)
		diffTicket(t, "Ticket "+id, tk, want(plans[id], 0, evs[id[0]-'a']))
		if len(tk.Alerts) != 0 {
			t.Errorf("Ticket %s has alerts %+v, want none", id, tk.Alerts)
		}
	}
}

// byNotifier indexes deliveries by notifier name.
func byNotifier(ds []watchdog.Delivery) map[string]watchdog.Delivery {
	out := map[string]watchdog.Delivery{}
	for _, d := range ds {
		out[d.Notifier] = d
	}
	return out
}

// testEvaluateDueClaimed: deliveries the caller claims at recording (the
// engine's hand-off) are stored leased, returned with the alert, hidden from
// claims until the lease ends, and finish like claimed ones.
func testEvaluateDueClaimed(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	now := At(time.Minute)
	until := At(3*time.Minute + 500*time.Microsecond + 7*time.Nanosecond)
	fire := FirePlan(now, nil, []string{"n3", "n1", "n2", "n1"}, "alert")
	got := evaluate(t, s, now, 10, func(tk *watchdog.Ticket) watchdog.Plan {
		p := fire(tk)
		p.Claimed, p.ClaimedUntil = []string{"n3", "n1", "not-a-notifier"}, until
		return p
	})
	if len(got) != 1 {
		t.Fatalf("EvaluateDue returned %d alerts, want 1", len(got))
	}
	a := got[0]
	leaseEnd := until.Truncate(time.Microsecond)
	var names []string
	for _, d := range a.Deliveries {
		names = append(names, d.Notifier)
		if d.ID == 0 || d.AlertID != a.ID || d.Status != watchdog.DeliveryPending || d.LastError != "" || d.DeliveredAt != nil || d.Alert != nil {
			t.Errorf("returned delivery %+v: want a pending delivery of alert %d without Alert", d, a.ID)
		}
		checkUTC(t, "returned delivery", d.NextAttemptAt)
		switch d.Notifier {
		case "n1", "n3":
			if d.Attempts != 1 || !d.NextAttemptAt.Equal(leaseEnd) {
				t.Errorf("claimed delivery to %s: attempts %d, next attempt %s; want 1 and the lease end %s",
					d.Notifier, d.Attempts, d.NextAttemptAt.Format(time.RFC3339Nano), leaseEnd.Format(time.RFC3339Nano))
			}
		default:
			if d.Attempts != 0 || !d.NextAttemptAt.Equal(now) {
				t.Errorf("unclaimed delivery to %s: attempts %d, next attempt %s; want 0 and the alert's fired_at",
					d.Notifier, d.Attempts, d.NextAttemptAt.Format(time.RFC3339Nano))
			}
		}
	}
	if d := cmp.Diff([]string{"n1", "n2", "n3"}, names); d != "" {
		t.Fatalf("returned deliveries, in order (-want +got):\n%s", d)
	}
	stored := getTicket(t, s, "a").Alerts[0].Deliveries
	if d := cmp.Diff(byNotifier(stored), byNotifier(a.Deliveries)); d != "" {
		t.Errorf("returned deliveries differ from those stored (-stored +returned):\n%s", d)
	}

	// The claimed ones are leased: only n2's is claimable now.
	for _, n := range []string{"n1", "n3"} {
		if c := claim(t, s, n, At(2*time.Minute), 10, time.Minute); len(c) != 0 {
			t.Errorf("claimed %d deliveries to %s during their hand-off lease", len(c), n)
		}
	}
	if c := claim(t, s, "n2", now, 10, time.Minute); len(c) != 1 || c[0].Attempts != 1 {
		t.Errorf("claim n2 = %+v, want its one delivery at attempt 1", c)
	}
	if at, ok, err := s.NextDelivery(t.Context(), "n1"); err != nil || !ok || !at.Equal(leaseEnd) {
		t.Errorf("NextDelivery(n1) = %s, %v, %v; want the lease end", at, ok, err)
	}
	// The sender records its first attempt like any claimed one.
	d3 := byNotifier(a.Deliveries)["n3"]
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: At(70 * time.Second)})
	if d := byNotifier(getTicket(t, s, "a").Alerts[0].Deliveries)["n3"]; d.Status != watchdog.DeliveryDelivered || d.DeliveredAt == nil || !d.DeliveredAt.Equal(At(70*time.Second)) {
		t.Errorf("n3 after finishing attempt 1: %+v, want delivered at +70s", d)
	}
	// A sender that died: the lease ends and a claim takes it at attempt 2.
	c := claim(t, s, "n1", leaseEnd, 10, time.Minute)
	if len(c) != 1 || c[0].Attempts != 2 || c[0].Alert == nil || c[0].Alert.ID != a.ID {
		t.Fatalf("claim n1 at the lease end = %+v, want its delivery at attempt 2 with the alert", c)
	}
	if c := claim(t, s, "n3", At(time.Hour), 10, time.Minute); len(c) != 0 {
		t.Errorf("claimed %d delivered deliveries", len(c))
	}
}

func testEvaluateDueLimitOrder(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	plans := map[string]watchdog.Plan{}
	var evs []watchdog.Event
	// Due order differs from id order.
	for i, id := range []string{"c", "a", "d", "b"} {
		plans[id] = watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(time.Duration(i+1) * time.Minute))}
		evs = append(evs, NewEvent(id, 0))
	}
	ingest(t, s, PlanByID(plans, nil), evs...)
	rec := &Recorder{Decide: OpenPlan(TimePtr(At(time.Hour)))}
	got := evaluate(t, s, At(10*time.Minute), 2, rec.Plan)
	if len(got) != 0 {
		t.Errorf("a plan without alerts recorded %d alerts", len(got))
	}
	if d := cmp.Diff([]string{"a", "c"}, sortedStrings(rec.IDs())); d != "" {
		t.Errorf("limit 2 claimed (-want +got):\n%s", d)
	}
	rec.Reset()
	evaluate(t, s, At(10*time.Minute), 10, rec.Plan)
	if d := cmp.Diff([]string{"b", "d"}, sortedStrings(rec.IDs())); d != "" {
		t.Errorf("second pass claimed (-want +got):\n%s", d)
	}
	rec.Reset()
	evaluate(t, s, At(10*time.Minute), 10, rec.Plan)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("third pass claimed %d tickets that are no longer due", n)
	}
}

func testEvaluateDueStageOnce(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(10*time.Minute))), NewEvent("a", 0))
	notifiers := []string{"n1", "n2"}

	first := evaluate(t, s, At(10*time.Minute), 10, FirePlan(At(10*time.Minute), TimePtr(At(20*time.Minute)), notifiers, "alert"))
	if len(first) != 1 || first[0].EscalationLevel != 1 {
		t.Fatalf("first evaluation: %+v, want one alert at level 1", first)
	}

	rec := &Recorder{Decide: FirePlan(At(20*time.Minute), TimePtr(At(30*time.Minute)), notifiers, "alert", "breach", "escalation-1")}
	second := evaluate(t, s, At(20*time.Minute), 10, rec.Plan)
	calls := rec.Calls()
	if len(calls) != 1 || len(calls[0].Alerts) != 1 || calls[0].EscalationLevel != 1 || calls[0].Alerts[0].Stage != "alert" {
		t.Fatalf("plan saw %+v; want ticket a at level 1 with its alert", calls)
	}
	var stages []string
	var levels []int
	for _, a := range second {
		stages = append(stages, a.Stage)
		levels = append(levels, a.EscalationLevel)
	}
	if d := cmp.Diff([]string{"breach", "escalation-1"}, stages); d != "" {
		t.Errorf("second evaluation stages (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{2, 3}, levels); d != "" {
		t.Errorf("second evaluation levels (-want +got):\n%s", d)
	}

	third := evaluate(t, s, At(30*time.Minute), 10, FirePlan(At(30*time.Minute), TimePtr(At(40*time.Minute)), notifiers, "alert", "breach", "escalation-1"))
	if len(third) != 0 {
		t.Errorf("third evaluation recorded %+v, want nothing", third)
	}
	tk := getTicket(t, s, "a")
	diffTicket(t, "Ticket", tk, want(watchdog.Plan{State: watchdog.TicketAlert, Open: true, NextDueAt: TimePtr(At(40 * time.Minute))}, 3, NewEvent("a", 0)))
	if len(tk.Alerts) != 3 {
		t.Fatalf("ticket has %d alerts, want 3", len(tk.Alerts))
	}
	var gotStages []string
	for i, a := range tk.Alerts {
		gotStages = append(gotStages, a.Stage)
		if len(a.Deliveries) != 2 {
			t.Errorf("alert %s has %d deliveries, want 2", a.Stage, len(a.Deliveries))
		}
		if i > 0 && a.FiredAt.Before(tk.Alerts[i-1].FiredAt) {
			t.Errorf("alerts not in fired_at order: %+v", tk.Alerts)
		}
	}
	if d := cmp.Diff([]string{"alert", "breach", "escalation-1"}, gotStages); d != "" {
		t.Errorf("stored stages (-want +got):\n%s", d)
	}
}

func testEvaluateDueConcurrent(t *testing.T, h Harness) {
	s, another := h.Open(t)
	const n = 30
	var evs []watchdog.Event
	for i := range n {
		evs = append(evs, NewEvent(fmt.Sprintf("c%02d", i), 0))
	}
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), evs...)

	// The plan keeps every ticket due, so every pass claims tickets whose
	// stages are already recorded and must skip them.
	now := At(5 * time.Minute)
	plan := FirePlan(now, TimePtr(At(time.Minute)), []string{"n1", "n2"}, "alert", "breach")
	var (
		mu   sync.Mutex
		all  []watchdog.Alert
		errs []error
		wg   sync.WaitGroup
	)
	for range 4 {
		h := another(t)
		for range 2 {
			wg.Go(func() {
				for range 6 {
					got, err := h.EvaluateDue(t.Context(), now, 20, plan)
					mu.Lock()
					all = append(all, got...)
					if err != nil {
						errs = append(errs, err)
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent EvaluateDue: %v", err)
	}
	all = append(all, evaluate(t, s, now, n, plan)...)

	keys := map[string]int{}
	for _, a := range all {
		k := a.TicketID + "/" + a.Stage
		keys[k]++
		wantLevel := 1
		if a.Stage == "breach" {
			wantLevel = 2
		}
		if a.EscalationLevel != wantLevel {
			t.Errorf("alert %s at level %d, want %d", k, a.EscalationLevel, wantLevel)
		}
	}
	if len(all) != 2*n || len(keys) != 2*n {
		t.Errorf("recorded %d alerts over %d keys, want %d each", len(all), len(keys), 2*n)
	}
	for k, c := range keys {
		if c != 1 {
			t.Errorf("alert %s recorded %d times", k, c)
		}
	}
	for _, e := range evs {
		tk := getTicket(t, s, e.ID)
		if tk.EscalationLevel != 2 || len(tk.Alerts) != 2 {
			t.Errorf("ticket %s: level %d with %d alerts, want 2 and 2", e.ID, tk.EscalationLevel, len(tk.Alerts))
		}
		for _, a := range tk.Alerts {
			if len(a.Deliveries) != 2 {
				t.Errorf("ticket %s alert %s: %d deliveries, want 2", e.ID, a.Stage, len(a.Deliveries))
			}
		}
	}
}

// ---- deliveries ------------------------------------------------------------

func testClaimDeliveriesLease(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, PlanByID(map[string]watchdog.Plan{
		"a": {State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(time.Minute))},
		"b": {State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(2 * time.Minute))},
	}, nil), NewEvent("a", 0), NewEvent("b", 0))
	alertsA := evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n1", "n2"}, "alert"))
	alertsB := evaluate(t, s, At(2*time.Minute), 10, FirePlan(At(2*time.Minute), nil, []string{"n1"}, "breach"))
	if len(alertsA) != 1 || len(alertsB) != 1 {
		t.Fatalf("setup recorded %d and %d alerts, want 1 and 1", len(alertsA), len(alertsB))
	}

	if got := claim(t, s, "n1", At(time.Minute-time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d deliveries before they were due", len(got))
	}
	if got := claim(t, s, "other", At(time.Hour), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d deliveries for a notifier that has none", len(got))
	}
	got := claim(t, s, "n1", At(time.Minute), 10, 90*time.Second)
	if len(got) != 1 {
		t.Fatalf("claimed %d deliveries at +1m, want 1", len(got))
	}
	da := got[0]
	if da.Attempts != 1 || da.Status != watchdog.DeliveryPending || !da.NextAttemptAt.Equal(At(150*time.Second)) || da.Notifier != "n1" || da.AlertID != alertsA[0].ID {
		t.Errorf("claimed delivery %+v: want attempt 1, pending, leased until +2m30s", da)
	}
	if da.Alert == nil {
		t.Fatal("claimed delivery has no Alert")
	}
	if d := cmp.Diff(alertsA[0], *da.Alert, ignoreDeliv); d != "" {
		t.Errorf("claimed delivery's alert (-recorded +claimed):\n%s", d)
	}

	got = claim(t, s, "n1", At(2*time.Minute), 10, time.Minute+30*time.Second)
	if len(got) != 1 || got[0].AlertID != alertsB[0].ID || got[0].Attempts != 1 {
		t.Fatalf("claim at +2m = %+v, want only b's delivery (a's is leased)", got)
	}
	if got := claim(t, s, "n1", At(2*time.Minute+10*time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d leased deliveries", len(got))
	}
	// a's lease ends at +2m30s, b's at +3m30s: the oldest comes first.
	got = claim(t, s, "n1", At(5*time.Minute), 1, time.Minute)
	if len(got) != 1 || got[0].ID != da.ID || got[0].Attempts != 2 {
		t.Fatalf("claim with limit 1 = %+v, want a's delivery at attempt 2", got)
	}
	got = claim(t, s, "n1", At(5*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].AlertID != alertsB[0].ID || got[0].Attempts != 2 {
		t.Fatalf("claim = %+v, want b's delivery at attempt 2", got)
	}
	// n2's delivery of a's alert was never claimed by n1's claims.
	got = claim(t, s, "n2", At(5*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].AlertID != alertsA[0].ID || got[0].Attempts != 1 {
		t.Fatalf("claim for n2 = %+v, want a's delivery to n2 at attempt 1", got)
	}
}

func testClaimDeliveriesConcurrent(t *testing.T, h Harness) {
	s, another := h.Open(t)
	const n = 20
	var evs []watchdog.Event
	for i := range n {
		evs = append(evs, NewEvent(fmt.Sprintf("d%02d", i), 0))
	}
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), evs...)
	alerts := evaluate(t, s, At(time.Minute), n, FirePlan(At(time.Minute), nil, []string{"n1", "n2", "n3"}, "alert"))
	if len(alerts) != n {
		t.Fatalf("setup recorded %d alerts, want %d", len(alerts), n)
	}
	var (
		mu     sync.Mutex
		counts = map[int64]int{}
		errs   []error
		wg     sync.WaitGroup
	)
	for range 4 {
		h := another(t)
		for range 2 {
			wg.Go(func() {
				for _, name := range []string{"n1", "n2", "n3"} {
					for {
						got, err := h.ClaimDeliveries(t.Context(), name, At(2*time.Minute), 5, time.Hour)
						mu.Lock()
						for _, d := range got {
							counts[d.ID]++
							if d.Notifier != name {
								errs = append(errs, fmt.Errorf("claim for %s returned a delivery to %s", name, d.Notifier))
							}
						}
						if err != nil {
							errs = append(errs, err)
						}
						mu.Unlock()
						if err != nil || len(got) == 0 {
							break
						}
					}
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent ClaimDeliveries: %v", err)
	}
	if len(counts) != 3*n {
		t.Errorf("claimed %d distinct deliveries, want %d", len(counts), 3*n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("delivery %d claimed %d times within its lease", id, c)
		}
	}
}

func testFinishDelivery(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n1", "n2", "n3"}, "alert"))
	byName := map[string]watchdog.Delivery{}
	for _, name := range []string{"n1", "n2", "n3"} {
		got := claim(t, s, name, At(time.Minute), 10, time.Minute)
		if len(got) != 1 {
			t.Fatalf("claimed %d deliveries to %s, want 1", len(got), name)
		}
		byName[name] = got[0]
	}
	d1, d2, d3 := byName["n1"], byName["n2"], byName["n3"]
	// One batch of mixed outcomes, with a stale one for d1 that must not
	// count, as the engine's finisher records them.
	if err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{
		{ID: d1.ID, Attempt: 0, Status: watchdog.DeliveryFailed, Error: "stale", Finished: At(65 * time.Second)},
		{ID: d1.ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: At(70 * time.Second)},
		{ID: d2.ID, Attempt: 1, Status: watchdog.DeliveryFailed, Error: "HTTP 410 Gone", Finished: At(70 * time.Second)},
		{ID: d3.ID, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: At(3 * time.Minute), Error: "timeout", Finished: At(70 * time.Second)},
	}); err != nil {
		t.Fatalf("FinishDeliveries: %v", err)
	}

	check := func(what string, wantD map[string]watchdog.Delivery) {
		t.Helper()
		tk := getTicket(t, s, "a")
		if len(tk.Alerts) != 1 {
			t.Fatalf("%s: %d alerts, want 1", what, len(tk.Alerts))
		}
		gotD := map[string]watchdog.Delivery{}
		for _, d := range tk.Alerts[0].Deliveries {
			d.Alert = nil
			gotD[d.Notifier] = d
			if d.DeliveredAt != nil {
				checkUTC(t, what, *d.DeliveredAt)
			}
			checkUTC(t, what, d.NextAttemptAt)
		}
		if d := cmp.Diff(wantD, gotD); d != "" {
			t.Errorf("%s: deliveries (-want +got):\n%s", what, d)
		}
	}
	base := func(d watchdog.Delivery) watchdog.Delivery { d.Alert = nil; return d }
	w1, w2, w3 := base(d1), base(d2), base(d3)
	// Finished deliveries have no next attempt.
	w1.Status, w1.DeliveredAt, w1.NextAttemptAt = watchdog.DeliveryDelivered, TimePtr(At(70*time.Second)), time.Time{}
	w2.Status, w2.LastError, w2.NextAttemptAt = watchdog.DeliveryFailed, "HTTP 410 Gone", time.Time{}
	w3.NextAttemptAt, w3.LastError = At(3*time.Minute), "timeout"
	check("after finishing", map[string]watchdog.Delivery{"n1": w1, "n2": w2, "n3": w3})

	if at, ok, err := s.NextDelivery(t.Context(), "n3"); err != nil || !ok || !at.Equal(At(3*time.Minute)) {
		t.Errorf("NextDelivery(n3) = %s, %v, %v; want +3m", at, ok, err)
	}
	for _, name := range []string{"n1", "n2"} {
		if at, ok, err := s.NextDelivery(t.Context(), name); err != nil || ok {
			t.Errorf("NextDelivery(%s) with nothing pending = %s, %v, %v", name, at, ok, err)
		}
		if got := claim(t, s, name, At(time.Hour), 10, time.Minute); len(got) != 0 {
			t.Errorf("claimed %d finished deliveries to %s", len(got), name)
		}
	}
	if got := claim(t, s, "n3", At(3*time.Minute-time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d deliveries before the retry", len(got))
	}
	got := claim(t, s, "n3", At(3*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].ID != d3.ID || got[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v, want n3 at attempt 2", got)
	}
	// An outcome for an earlier attempt is ignored.
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: At(3 * time.Minute)})
	w3.Attempts, w3.NextAttemptAt = 2, At(4*time.Minute)
	check("after a stale outcome", map[string]watchdog.Delivery{"n1": w1, "n2": w2, "n3": w3})

	// The lease ran out and another worker claimed it again: the first
	// worker's late outcome is ignored, the second's counts.
	got = claim(t, s, "n3", At(4*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].Attempts != 3 {
		t.Fatalf("claim after lease = %+v, want n3 at attempt 3", got)
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 2, Status: watchdog.DeliveryFailed, Error: "late", Finished: At(4 * time.Minute)})
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 3, Status: watchdog.DeliveryDelivered, Finished: At(4*time.Minute + time.Second)})
	// No longer pending: ignored.
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 3, Status: watchdog.DeliveryFailed, Error: "after", Finished: At(4*time.Minute + 2*time.Second)})
	w3.Attempts, w3.NextAttemptAt, w3.Status, w3.LastError, w3.DeliveredAt = 3, time.Time{}, watchdog.DeliveryDelivered, "", TimePtr(At(4*time.Minute+time.Second))
	check("after delivery", map[string]watchdog.Delivery{"n1": w1, "n2": w2, "n3": w3})

	if at, ok, err := s.NextDelivery(t.Context(), "n3"); err != nil || ok {
		t.Errorf("NextDelivery with nothing pending = %s, %v, %v", at, ok, err)
	}
}

// A claimed delivery handed back unsent does not use up an attempt: the
// claim's count is taken back and the last real error kept, while the
// retry instant is the one given. A stale unsent outcome changes nothing,
// and an unsent outcome must be pending.
func testFinishDeliveryUnsent(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert"))
	got := claim(t, s, "n", At(time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("first claim = %+v, want one delivery at attempt 1", got)
	}
	id := got[0].ID
	finish(t, s, watchdog.DeliveryOutcome{ID: id, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: At(2 * time.Minute), Error: "HTTP 503", Finished: At(70 * time.Second)})
	if got = claim(t, s, "n", At(2*time.Minute), 10, time.Minute); len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v, want attempt 2", got)
	}
	delivery := func() watchdog.Delivery {
		t.Helper()
		tk := getTicket(t, s, "a")
		if len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
			t.Fatalf("ticket alerts %+v, want one alert with one delivery", tk.Alerts)
		}
		d := tk.Alerts[0].Deliveries[0]
		d.Alert = nil
		return d
	}
	want := delivery()
	want.Attempts, want.NextAttemptAt = 1, At(2*time.Minute+time.Second)
	if err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{
		{ID: id, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: At(time.Hour), Unsent: true, Finished: At(2 * time.Minute)}, // stale
		{ID: id, Attempt: 2, Status: watchdog.DeliveryPending, RetryAt: At(2*time.Minute + time.Second), Unsent: true, Error: "ignored", Finished: At(2*time.Minute + time.Second)},
	}); err != nil {
		t.Fatalf("FinishDeliveries: %v", err)
	}
	if d := cmp.Diff(want, delivery()); d != "" {
		t.Errorf("after an unsent outcome (-want +got):\n%s", d)
	}
	if want.LastError != "HTTP 503" || want.Status != watchdog.DeliveryPending {
		t.Errorf("delivery before the release: %+v", want)
	}
	// The next claim is attempt 2 again, and its outcome counts.
	if got = claim(t, s, "n", At(2*time.Minute+time.Second), 10, time.Minute); len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("claim after the release = %+v, want attempt 2", got)
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: id, Attempt: 2, Status: watchdog.DeliveryDelivered, Finished: At(3 * time.Minute)})
	if d := delivery(); d.Status != watchdog.DeliveryDelivered || d.Attempts != 2 || d.LastError != "" || !d.NextAttemptAt.IsZero() {
		t.Errorf("after delivery: %+v", d)
	}
	for _, st := range []watchdog.DeliveryStatus{watchdog.DeliveryDelivered, watchdog.DeliveryFailed} {
		err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{{ID: id, Attempt: 2, Status: st, Unsent: true, Finished: At(4 * time.Minute)}})
		if !errors.Is(err, watchdog.ErrInvalid) {
			t.Errorf("unsent %s outcome: err = %v, want ErrInvalid", st, err)
		}
	}
}

func testNextDueNextDelivery(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ctx := t.Context()
	if at, ok, err := s.NextDue(ctx); err != nil || ok {
		t.Errorf("NextDue on an empty store = %s, %v, %v", at, ok, err)
	}
	if at, ok, err := s.NextDelivery(ctx, "n"); err != nil || ok {
		t.Errorf("NextDelivery on an empty store = %s, %v, %v", at, ok, err)
	}
	ingest(t, s, PlanByID(map[string]watchdog.Plan{
		"a": {State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(30 * time.Minute))},
		"b": {State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(10*time.Minute + time.Microsecond))},
	}, OpenPlan(nil)), NewEvent("a", 0), NewEvent("b", 0), NewEvent("c", 0))
	at, ok, err := s.NextDue(ctx)
	if err != nil || !ok || !at.Equal(At(10*time.Minute+time.Microsecond)) {
		t.Errorf("NextDue = %s, %v, %v; want +10m1µs", at, ok, err)
	}
	checkUTC(t, "NextDue", at)
	evaluate(t, s, At(10*time.Minute+time.Microsecond), 10, FirePlan(At(11*time.Minute), nil, []string{"n"}, "alert"))
	if at, ok, err := s.NextDue(ctx); err != nil || !ok || !at.Equal(At(30*time.Minute)) {
		t.Errorf("NextDue after evaluation = %s, %v, %v; want +30m", at, ok, err)
	}
	at, ok, err = s.NextDelivery(ctx, "n")
	if err != nil || !ok || !at.Equal(At(11*time.Minute)) {
		t.Errorf("NextDelivery = %s, %v, %v; want +11m", at, ok, err)
	}
	checkUTC(t, "NextDelivery", at)
	if at, ok, err := s.NextDelivery(ctx, "other"); err != nil || ok {
		t.Errorf("NextDelivery for a notifier without deliveries = %s, %v, %v", at, ok, err)
	}
}

// testDueInstantMoves follows one ticket's due instant as later writes set,
// move, clear and restore it (through Ingest, EvaluateDue and Replan): only
// the current instant makes it due, and NextDue always reports it.
func testDueInstantMoves(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ctx := t.Context()
	wantNext := func(step string, want *time.Time) {
		t.Helper()
		at, ok, err := s.NextDue(ctx)
		switch {
		case err != nil:
			t.Fatalf("%s: NextDue: %v", step, err)
		case want == nil && ok:
			t.Errorf("%s: NextDue = %s; want nothing due", step, at)
		case want != nil && (!ok || !at.Equal(*want)):
			t.Errorf("%s: NextDue = %s, %v; want %s", step, at, ok, want)
		}
		tk, err := s.Ticket(ctx, "m")
		if err != nil {
			t.Fatalf("%s: Ticket: %v", step, err)
		}
		if (tk.NextDueAt == nil) != (want == nil) || (want != nil && !tk.NextDueAt.Equal(*want)) {
			t.Errorf("%s: ticket NextDueAt = %v; want %v", step, tk.NextDueAt, want)
		}
	}
	claims := func(step string, now time.Time) int {
		t.Helper()
		n := 0
		rec := func(tk *watchdog.Ticket) watchdog.Plan {
			n++
			return watchdog.Plan{State: tk.State, Open: true, NextDueAt: tk.NextDueAt}
		}
		evaluate(t, s, now, 10, rec)
		return n
	}

	ingest(t, s, OpenPlan(nil), NewEvent("m", 0))
	wantNext("created without a due instant", nil)
	ingest(t, s, OpenPlan(TimePtr(At(time.Hour))), NewEvent("m", time.Minute))
	wantNext("due set by a later event", TimePtr(At(time.Hour)))
	ingest(t, s, OpenPlan(TimePtr(At(2*time.Hour))), NewEvent("m", 2*time.Minute))
	wantNext("due moved by a later event", TimePtr(At(2*time.Hour)))
	if n := claims("at the old instant", At(time.Hour)); n != 0 {
		t.Errorf("EvaluateDue at the old due instant claimed %d tickets; want 0", n)
	}
	if n := claims("at the new instant", At(2*time.Hour)); n != 1 {
		t.Errorf("EvaluateDue at the due instant claimed %d tickets; want 1", n)
	}
	evaluate(t, s, At(2*time.Hour), 10, OpenPlan(TimePtr(At(3*time.Hour))))
	wantNext("due moved by an evaluation", TimePtr(At(3*time.Hour)))
	if _, _, err := s.Replan(ctx, "", 10, OpenPlan(nil)); err != nil {
		t.Fatalf("Replan: %v", err)
	}
	wantNext("due cleared by a replan", nil)
	if n := claims("after clearing", At(100*time.Hour)); n != 0 {
		t.Errorf("EvaluateDue after the due instant was cleared claimed %d tickets; want 0", n)
	}
	if _, _, err := s.Replan(ctx, "", 10, OpenPlan(TimePtr(At(4*time.Hour)))); err != nil {
		t.Fatalf("Replan: %v", err)
	}
	wantNext("due restored by a replan", TimePtr(At(4*time.Hour)))
	ingest(t, s, OpenPlan(TimePtr(At(4*time.Hour))), NewEvent("m", 3*time.Minute))
	wantNext("unchanged by an event that keeps it", TimePtr(At(4*time.Hour)))
}

// ---- Replan ----------------------------------------------------------------

func testReplan(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	plans := map[string]watchdog.Plan{"r3": {State: watchdog.TicketOK, Open: false}}
	var evs []watchdog.Event
	for _, id := range []string{"r4", "r2", "r5", "r1", "r3"} {
		evs = append(evs, NewEvent(id, 0))
	}
	ingest(t, s, PlanByID(plans, OpenPlan(TimePtr(At(time.Hour)))), evs...)

	rec := &Recorder{Decide: func(tk *watchdog.Ticket) watchdog.Plan {
		p := FirePlan(At(time.Hour), TimePtr(At(3*time.Hour)), []string{"n"}, "alert")(tk)
		p.State, p.BreachAt = watchdog.TicketBreach, TimePtr(At(4*time.Hour))
		return p
	}}
	ctx := t.Context()
	last, n, err := s.Replan(ctx, "", 2, rec.Plan)
	if err != nil || last != "r2" || n != 2 {
		t.Fatalf(`Replan("", 2) = %q, %d, %v; want "r2", 2`, last, n, err)
	}
	last, n, err = s.Replan(ctx, last, 2, rec.Plan)
	if err != nil || last != "r5" || n != 2 {
		t.Fatalf(`Replan("r2", 2) = %q, %d, %v; want "r5", 2 (closed r3 skipped)`, last, n, err)
	}
	if _, n, err = s.Replan(ctx, last, 2, rec.Plan); err != nil || n != 0 {
		t.Fatalf(`Replan("r5", 2) visited %d, %v; want 0`, n, err)
	}
	if d := cmp.Diff([]string{"r1", "r2", "r4", "r5"}, rec.IDs()); d != "" {
		t.Errorf("plan calls (-want +got):\n%s", d)
	}
	for _, c := range rec.Calls() {
		if len(c.Events) != 1 {
			t.Errorf("plan for %s saw %d events, want 1", c.ID, len(c.Events))
		}
	}
	for _, id := range []string{"r1", "r2", "r4", "r5"} {
		tk := getTicket(t, s, id)
		w := want(watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: TimePtr(At(3 * time.Hour)), BreachAt: TimePtr(At(4 * time.Hour))}, 0, NewEvent(id, 0))
		diffTicket(t, "Ticket "+id, tk, w)
		if len(tk.Alerts) != 0 {
			t.Errorf("Replan recorded alerts for %s", id)
		}
	}
	diffTicket(t, "Ticket r3", getTicket(t, s, "r3"), want(plans["r3"], 0, NewEvent("r3", 0)))
}

// ---- Dashboard -------------------------------------------------------------

func testDashboard(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	type row struct {
		id, tier, prio string
		created        time.Duration
		state          watchdog.TicketState
		open           bool
		breach         *time.Time
	}
	rows := []row{
		{"d1", "gold", "high", 0, watchdog.TicketOK, true, TimePtr(At(5 * time.Hour))},
		{"d2", "silver", "low", time.Minute, watchdog.TicketAlert, true, TimePtr(At(2 * time.Hour))},
		{"d3", "gold", "low", 2 * time.Minute, watchdog.TicketBreach, true, TimePtr(At(time.Hour))},
		{"d4", "gold", "high", 3 * time.Minute, watchdog.TicketUntracked, true, nil},
		{"d6", "gold", "high", 4 * time.Minute, watchdog.TicketBreach, false, TimePtr(At(time.Hour))},
		{"d5", "silver", "high", 4 * time.Minute, watchdog.TicketOK, false, nil},
	}
	plans := map[string]watchdog.Plan{}
	wants := map[string]*watchdog.Ticket{}
	var evs []watchdog.Event
	for _, r := range rows {
		e := NewEvent(r.id, r.created+time.Minute)
		e.CreatedAt, e.CustomerTier, e.Priority = At(r.created), r.tier, r.prio
		p := watchdog.Plan{State: r.state, Open: r.open, BreachAt: r.breach}
		if r.state == watchdog.TicketUntracked {
			p.Untracked = "no policy"
		}
		plans[r.id] = p
		wants[r.id] = want(p, 0, e)
		evs = append(evs, e)
	}
	ingest(t, s, PlanByID(plans, nil), evs...)

	yes, no := true, false
	cases := []struct {
		name  string
		q     watchdog.DashboardQuery
		ids   []string
		total int
	}{
		{"all", watchdog.DashboardQuery{}, []string{"d5", "d6", "d4", "d3", "d2", "d1"}, 6},
		{"ok", watchdog.DashboardQuery{State: "ok"}, []string{"d5", "d1"}, 2},
		{"alert includes breach", watchdog.DashboardQuery{State: "alert"}, []string{"d6", "d3", "d2"}, 3},
		{"breach", watchdog.DashboardQuery{State: "breach"}, []string{"d6", "d3"}, 2},
		{"untracked", watchdog.DashboardQuery{State: "untracked"}, []string{"d4"}, 1},
		{"tier", watchdog.DashboardQuery{Tier: "gold"}, []string{"d6", "d4", "d3", "d1"}, 4},
		{"priority", watchdog.DashboardQuery{Priority: "high"}, []string{"d5", "d6", "d4", "d1"}, 4},
		{"tier and priority any case", watchdog.DashboardQuery{Tier: "GOLD", Priority: "High"}, []string{"d6", "d4", "d1"}, 3},
		{"tier and priority", watchdog.DashboardQuery{Tier: "gold", Priority: "low"}, []string{"d3"}, 1},
		{"open", watchdog.DashboardQuery{Open: &yes}, []string{"d4", "d3", "d2", "d1"}, 4},
		{"closed", watchdog.DashboardQuery{Open: &no}, []string{"d5", "d6"}, 2},
		{"urgency", watchdog.DashboardQuery{Order: watchdog.OrderUrgency}, []string{"d3", "d6", "d2", "d1", "d4", "d5"}, 6},
		{"urgency open", watchdog.DashboardQuery{Order: watchdog.OrderUrgency, Open: &yes}, []string{"d3", "d2", "d1", "d4"}, 4},
		{"page", watchdog.DashboardQuery{Offset: 1, Limit: 2}, []string{"d6", "d4"}, 6},
		{"past the end", watchdog.DashboardQuery{Offset: 10, Limit: 5}, []string{}, 6},
		{"alert urgency page", watchdog.DashboardQuery{State: "alert", Order: watchdog.OrderUrgency, Limit: 2}, []string{"d3", "d6"}, 3},
		{"no match", watchdog.DashboardQuery{Tier: "bronze"}, []string{}, 0},
	}
	for _, c := range cases {
		q := c.q
		if err := q.Validate(); err != nil {
			t.Fatalf("%s: query invalid: %v", c.name, err)
		}
		got, total, err := s.Dashboard(t.Context(), q)
		if err != nil {
			t.Errorf("%s: Dashboard: %v", c.name, err)
			continue
		}
		if d := cmp.Diff(c.ids, ids(got), cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s: ids (-want +got):\n%s", c.name, d)
		}
		if total != c.total {
			t.Errorf("%s: total = %d, want %d", c.name, total, c.total)
		}
		for _, tk := range got {
			diffTicket(t, c.name+" "+tk.ID, tk, wants[tk.ID])
			if tk.Events != nil || tk.Alerts != nil {
				t.Errorf("%s: %s carries Events/Alerts", c.name, tk.ID)
			}
		}
	}
}

func testTicketNotFound(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(nil), NewEvent("known", 0))
	for _, id := range []string{"unknown", "", "KNOWN", "known "} {
		if tk, err := s.Ticket(t.Context(), id); !errors.Is(err, watchdog.ErrNotFound) {
			t.Errorf("Ticket(%q) = %+v, %v; want ErrNotFound", id, tk, err)
		}
	}
}

// ---- SubscribeAlerts -------------------------------------------------------

func testSubscribeAlerts(t *testing.T, h Harness) {
	s, another := h.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.SubscribeAlerts(ctx)
	if err != nil {
		t.Fatalf("SubscribeAlerts: %v", err)
	}
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	recorded := evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert", "breach"))
	if len(recorded) != 2 {
		t.Fatalf("recorded %d alerts, want 2", len(recorded))
	}
	got := []watchdog.Alert{recv(t, ch), recv(t, ch)}
	sortAlerts := cmpopts.SortSlices(func(a, b watchdog.Alert) bool { return a.ID < b.ID })
	if d := cmp.Diff(recorded, got, sortAlerts, ignoreDeliv); d != "" {
		t.Errorf("subscribed alerts (-recorded +received):\n%s", d)
	}

	if h.SharedFeed {
		o := another(t)
		ch2, err := s.SubscribeAlerts(ctx)
		if err != nil {
			t.Fatalf("SubscribeAlerts: %v", err)
		}
		ingest(t, o, OpenPlan(TimePtr(At(time.Minute))), NewEvent("b", 0))
		other := evaluate(t, o, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert"))
		if len(other) != 1 {
			t.Fatalf("recorded %d alerts through another handle, want 1", len(other))
		}
		if d := cmp.Diff(other[0], recv(t, ch2), ignoreDeliv); d != "" {
			t.Errorf("alert recorded through another handle (-recorded +received):\n%s", d)
		}
	}

	cancel()
	waitClosed(t, ch)
}

func testSubscribeSlowReader(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ch, err := s.SubscribeAlerts(t.Context())
	if err != nil {
		t.Fatalf("SubscribeAlerts: %v", err)
	}
	const n = 400
	var evs []watchdog.Event
	for i := range n {
		evs = append(evs, NewEvent(fmt.Sprintf("s%04d", i), 0))
	}
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), evs...)
	// 1,200 alerts (more than a subscriber buffers) while nobody reads: the
	// writer must not block on the subscriber.
	ctx, cancel := context.WithTimeout(t.Context(), waitLong)
	defer cancel()
	got, err := s.EvaluateDue(ctx, At(time.Minute), n, FirePlan(At(time.Minute), nil, nil, "alert", "breach", "escalation-1"))
	if err != nil {
		t.Fatalf("EvaluateDue with a subscriber that does not read: %v", err)
	}
	if len(got) != 3*n {
		t.Fatalf("recorded %d alerts, want %d", len(got), 3*n)
	}
	if a := recv(t, ch); a.ID == 0 {
		t.Errorf("received alert without id: %+v", a)
	}
}

// ---- cancellation, closing, times -------------------------------------------

func testContextCanceled(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0), NewEvent("b", 0))
	evaluate(t, s, At(time.Minute), 1, FirePlan(At(time.Minute), TimePtr(At(time.Minute)), []string{"n"}, "alert"))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Ingest": func() error {
			_, err := s.Ingest(ctx, []watchdog.Event{NewEvent("c", 0)}, OpenPlan(nil))
			return err
		},
		"EvaluateDue": func() error {
			_, err := s.EvaluateDue(ctx, At(time.Hour), 10, FirePlan(At(time.Hour), nil, []string{"n"}, "alert", "breach"))
			return err
		},
		"NextDue":      func() error { _, _, err := s.NextDue(ctx); return err },
		"NextDelivery": func() error { _, _, err := s.NextDelivery(ctx, "n"); return err },
		"Replan": func() error {
			_, _, err := s.Replan(ctx, "", 10, func(*watchdog.Ticket) watchdog.Plan { return watchdog.Plan{State: watchdog.TicketBreach} })
			return err
		},
		"Ticket": func() error { _, err := s.Ticket(ctx, "a"); return err },
		"Dashboard": func() error {
			_, _, err := s.Dashboard(ctx, watchdog.DashboardQuery{Limit: 10, Order: watchdog.OrderCreated})
			return err
		},
		"ClaimDeliveries": func() error { _, err := s.ClaimDeliveries(ctx, "n", At(time.Hour), 10, time.Minute); return err },
		"FinishDelivery": func() error {
			return s.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{{ID: 1, Attempt: 0, Status: watchdog.DeliveryFailed, Error: "x", Finished: At(time.Hour)}})
		},
		"Ping": func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", name, err)
		}
	}
	if sub, err := s.SubscribeAlerts(ctx); err == nil {
		waitClosed(t, sub)
	}

	// Nothing was written.
	if _, err := s.Ticket(t.Context(), "c"); !errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("Ticket(c) after a cancelled Ingest: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"a", "b"} {
		tk := getTicket(t, s, id)
		if tk.State == watchdog.TicketBreach {
			t.Errorf("ticket %s replanned by a cancelled Replan", id)
		}
		if tk.EscalationLevel > 1 || len(tk.Alerts) > 1 {
			t.Errorf("ticket %s changed by a cancelled EvaluateDue: level %d, %d alerts", id, tk.EscalationLevel, len(tk.Alerts))
		}
		for _, a := range tk.Alerts {
			for _, d := range a.Deliveries {
				if d.Attempts != 0 || d.Status != watchdog.DeliveryPending {
					t.Errorf("delivery %+v changed by a cancelled call", d)
				}
			}
		}
	}
}

func testClosed(t *testing.T, h Harness) {
	_, another := h.Open(t)
	o := another(t)
	ch, err := o.SubscribeAlerts(t.Context())
	if err != nil {
		t.Fatalf("SubscribeAlerts: %v", err)
	}
	if err := o.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, ch)
	if _, err := o.Ticket(t.Context(), "a"); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("Ticket on a closed store: %v, want ErrClosed", err)
	}
	if _, err := o.Ingest(t.Context(), []watchdog.Event{NewEvent("a", 0)}, OpenPlan(nil)); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("Ingest on a closed store: %v, want ErrClosed", err)
	}
	if _, err := o.EvaluateDue(t.Context(), At(0), 10, OpenPlan(nil)); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("EvaluateDue on a closed store: %v, want ErrClosed", err)
	}
	if err := o.Ping(t.Context()); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("Ping on a closed store: %v, want ErrClosed", err)
	}
}

func testTimesRoundTrip(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	odd := time.Date(2031, 2, 3, 4, 5, 6, 789012000, time.UTC)
	e := watchdog.Event{
		ID: "tz", Priority: "high", CustomerTier: "gold", Status: "open",
		CreatedAt: odd, UpdatedAt: odd.Add(time.Second + time.Microsecond),
		FirstResponseAt: TimePtr(odd.Add(500 * time.Microsecond)),
	}
	edge := watchdog.Event{
		ID: "edge", Priority: "high", CustomerTier: "gold", Status: "open",
		CreatedAt: time.Date(1970, 1, 1, 0, 0, 1, 1000, time.UTC),
		UpdatedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	p := watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(odd.Add(time.Hour + time.Microsecond)), BreachAt: TimePtr(odd.Add(2*time.Hour + 7*time.Microsecond))}
	got := ingest(t, s, func(*watchdog.Ticket) watchdog.Plan { return p }, e, edge)
	diffTicket(t, "Ingest tz", got[0], want(p, 0, e))
	diffTicket(t, "Ingest edge", got[1], want(p, 0, edge))
	for _, ev := range []watchdog.Event{e, edge} {
		tk := getTicket(t, s, ev.ID)
		diffTicket(t, "Ticket "+ev.ID, tk, want(p, 0, ev))
		if d := cmp.Diff([]watchdog.Event{ev}, tk.Events); d != "" {
			t.Errorf("%s events (-want +got):\n%s", ev.ID, d)
		}
		for _, x := range tk.Events {
			checkUTC(t, "event", x.CreatedAt, x.UpdatedAt)
			checkUTCPtr(t, "event", x.FirstResponseAt)
		}
	}
	if d := cmp.Diff([]time.Time{edge.UpdatedAt}, eventTimes(getTicket(t, s, "edge").Events)); d != "" {
		t.Errorf("edge timeline (-want +got):\n%s", d)
	}

	fired := odd.Add(3*time.Hour + 3*time.Microsecond)
	recorded := evaluate(t, s, fired, 10, func(tk *watchdog.Ticket) watchdog.Plan {
		if tk.ID != "tz" {
			return p
		}
		a := NewAlert(tk, "breach", odd.Add(time.Hour+time.Microsecond), fired)
		a.Target, a.Elapsed = 90*time.Minute+1500*time.Millisecond, 77*time.Minute+250*time.Millisecond
		return watchdog.Plan{State: watchdog.TicketBreach, Open: true, Alerts: []watchdog.Alert{a}, Notifiers: []string{"n"}}
	})
	if len(recorded) != 1 {
		t.Fatalf("recorded %d alerts, want 1", len(recorded))
	}
	tk := getTicket(t, s, "tz")
	if len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
		t.Fatalf("stored alerts %+v, want one with one delivery", tk.Alerts)
	}
	a := tk.Alerts[0]
	if d := cmp.Diff(recorded[0], a, ignoreDeliv); d != "" {
		t.Errorf("alert round trip (-recorded +stored):\n%s", d)
	}
	if a.Target != 90*time.Minute+1500*time.Millisecond || a.Elapsed != 77*time.Minute+250*time.Millisecond || !a.FiredAt.Equal(fired) {
		t.Errorf("alert durations/times: %+v", a)
	}
	checkUTC(t, "alert", a.DueAt, a.FiredAt, a.Deliveries[0].NextAttemptAt)
	if !a.Deliveries[0].NextAttemptAt.Equal(fired) {
		t.Errorf("delivery next_attempt_at = %s, want %s", a.Deliveries[0].NextAttemptAt, fired)
	}
}
