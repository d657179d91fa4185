package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

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
	evs := numberedEvents("c%02d", n)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), evs...)

	// The plan keeps every ticket due, so every pass claims tickets whose
	// stages are already recorded and must skip them.
	now := At(5 * time.Minute)
	plan := FirePlan(now, TimePtr(At(time.Minute)), []string{"n1", "n2"}, "alert", "breach")
	all := evaluateOnHandles(t, another, "EvaluateDue", func(h watchdog.Store) ([]watchdog.Alert, error) {
		return h.EvaluateDue(t.Context(), now, 20, plan)
	})
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
	la, ok := s.(watchdog.DeliveryLookahead)
	if !ok {
		return
	}
	for _, c := range []struct {
		name   string
		n      string
		before time.Time
		want   *time.Time
	}{
		{"a window past it", "n", At(time.Hour), TimePtr(At(11 * time.Minute))},
		{"a window ending a microsecond after it", "n", At(11*time.Minute + time.Microsecond), TimePtr(At(11 * time.Minute))},
		{"a window ending at it", "n", At(11 * time.Minute), nil},
		{"a window ending before it", "n", At(5 * time.Minute), nil},
		{"a notifier without deliveries", "other", At(time.Hour), nil},
	} {
		at, ok, err := la.NextDeliveryBefore(ctx, c.n, c.before)
		switch {
		case err != nil:
			t.Errorf("NextDeliveryBefore, %s: %v", c.name, err)
		case c.want == nil && ok:
			t.Errorf("NextDeliveryBefore, %s = %s; want none", c.name, at)
		case c.want != nil && (!ok || !at.Equal(*c.want)):
			t.Errorf("NextDeliveryBefore, %s = %s, %v; want %s", c.name, at, ok, c.want)
		case ok:
			checkUTC(t, "NextDeliveryBefore", at)
		}
	}
}

// testEvaluateDueColumns: one evaluation whose plans change different sets
// of a ticket's columns stores each ticket's as planned. A store may write
// the tickets whose plans change only what a firing changes (the state,
// the due instant, the escalation level) apart from those whose plans
// change more; none of either may be mixed up with the other's.
func testEvaluateDueColumns(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ids := []string{"col-fire", "col-state", "col-full", "col-close", "col-same"}
	var evs []watchdog.Event
	for _, id := range ids {
		evs = append(evs, NewEvent(id, 0))
	}
	ingest(t, s, OpenPlan(TimePtr(At(time.Hour))), evs...)

	fire := FirePlan(At(time.Hour), TimePtr(At(2*time.Hour)), []string{"n"}, "warn")
	plans := map[string]func(*watchdog.Ticket) watchdog.Plan{
		// What firing a stage changes, alone.
		"col-fire": fire,
		// The state and the due instant, with nothing fired.
		"col-state": func(*watchdog.Ticket) watchdog.Plan {
			return watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: TimePtr(At(5 * time.Hour))}
		},
		// A firing that changes every other derived column too.
		"col-full": func(tk *watchdog.Ticket) watchdog.Plan {
			p := fire(tk)
			p.State, p.Untracked, p.Policy = watchdog.TicketBreach, "on hold", "vip"
			p.BreachAt, p.BackfilledAt = TimePtr(At(4*time.Hour)), TimePtr(At(30*time.Minute))
			return p
		},
		// Closed: no due instant, not open.
		"col-close": func(*watchdog.Ticket) watchdog.Plan { return watchdog.Plan{State: watchdog.TicketOK} },
		// Nothing changes: the ticket stays due at the same instant.
		"col-same": OpenPlan(TimePtr(At(time.Hour))),
	}
	planned := map[string]watchdog.Plan{}
	got := evaluate(t, s, At(time.Hour), 10, func(tk *watchdog.Ticket) watchdog.Plan {
		p := plans[tk.ID](tk)
		planned[tk.ID] = p
		return p
	})
	if len(got) != 2 {
		t.Fatalf("EvaluateDue recorded %d alerts, want 2 (col-fire, col-full): %+v", len(got), got)
	}
	for _, id := range ids {
		p, ok := planned[id]
		if !ok {
			t.Errorf("EvaluateDue did not plan %s", id)
			continue
		}
		level := len(p.Alerts)
		diffTicket(t, "Ticket "+id, getTicket(t, s, id), want(p, level, NewEvent(id, 0)))
	}
	// The next claim sees the stored due instants: col-same is still due.
	var again []string
	evaluate(t, s, At(time.Hour), 10, func(tk *watchdog.Ticket) watchdog.Plan {
		again = append(again, tk.ID)
		return watchdog.Plan{State: tk.State, Untracked: tk.Untracked, Open: tk.Open, Policy: tk.Policy,
			NextDueAt: TimePtr(At(9 * time.Hour)), BreachAt: tk.BreachAt, BackfilledAt: tk.BackfilledAt}
	})
	if d := cmp.Diff([]string{"col-same"}, again); d != "" {
		t.Errorf("tickets due at 1h after the evaluation (-want +got):\n%s", d)
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

// evaluateOnHandles runs evaluate six times on each of two goroutines per
// handle of onHandles, and returns the alerts they recorded; an error is
// the test's, and stops its goroutine.
func evaluateOnHandles(t *testing.T, another func(testing.TB) watchdog.Store, what string, evaluate func(h watchdog.Store) ([]watchdog.Alert, error)) []watchdog.Alert {
	var (
		mu   sync.Mutex
		all  []watchdog.Alert
		errs []error
	)
	onHandles(t, another, func(h watchdog.Store) {
		for range 6 {
			got, err := evaluate(h)
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
	for _, err := range errs {
		t.Errorf("concurrent %s: %v", what, err)
	}
	return all
}
