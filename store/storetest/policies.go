package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

// Cases of the attributes, tags and messages of events, the policy in
// force and the alerts of cycle clocks.

func customer(d time.Duration) watchdog.Message {
	return watchdog.Message{At: At(d), Author: watchdog.AuthorCustomer}
}

func agent(d time.Duration) watchdog.Message {
	return watchdog.Message{At: At(d), Author: watchdog.AuthorAgent}
}

func testIngestExtras(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	e0 := NewEvent("x", 0)
	e0.Attributes, e0.Tags = map[string]string{"group": "billing", "channel": "email"}, []string{"vip", "eu"}
	e0.Messages = []watchdog.Message{agent(5 * time.Minute), customer(time.Minute)}
	e2 := NewEvent("x", 2*time.Hour)
	e2.Attributes = map[string]string{} // clears; tags absent: kept
	got := ingest(t, s, OpenPlan(nil), e0, e2)
	if got[0].Attributes != nil || !cmp.Equal(got[0].Tags, []string{"vip", "eu"}) || got[0].Messages != nil {
		t.Errorf("Ingest returned attributes %v, tags %v, messages %v", got[0].Attributes, got[0].Tags, got[0].Messages)
	}
	// A late event's attributes do not override a later event's.
	e1 := NewEvent("x", time.Hour)
	e1.Attributes = map[string]string{"group": "late"}
	ingest(t, s, OpenPlan(nil), e1)
	tk := getTicket(t, s, "x")
	if tk.Attributes != nil || !cmp.Equal(tk.Tags, []string{"vip", "eu"}) {
		t.Errorf("ticket attributes %v, tags %v; want none and [vip eu]", tk.Attributes, tk.Tags)
	}
	if d := cmp.Diff([]watchdog.Message{customer(time.Minute), agent(5 * time.Minute)}, tk.Messages); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
	e0.Messages = nil
	if d := cmp.Diff([]watchdog.Event{e0, e1, e2}, tk.Events); d != "" {
		t.Errorf("timeline keeps each event's attributes and tags, absent apart from empty (-want +got):\n%s", d)
	}
	// The latest event sets them again, and the dashboard row has them.
	e3 := NewEvent("x", 3*time.Hour)
	e3.Attributes, e3.Tags = map[string]string{"group": "sales"}, []string{}
	ingest(t, s, OpenPlan(nil), e3)
	rows, _, err := s.Dashboard(t.Context(), watchdog.DashboardQuery{Limit: 10})
	if err != nil || len(rows) != 1 || rows[0].Attributes["group"] != "sales" || rows[0].Tags != nil {
		t.Errorf("Dashboard: %+v, %v", rows, err)
	}
}

// testMessagesFromStoredEvents: an event whose (id, updated_at) is stored
// still brings its messages (and only them); a message re-sent is a no-op.
func testMessagesFromStoredEvents(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	e := NewEvent("m", 0)
	ingest(t, s, OpenPlan(nil), e)
	again := e
	again.Status, again.Messages = "closed", []watchdog.Message{customer(time.Minute), customer(time.Minute), agent(time.Minute)}
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, again)
	if calls := rec.Calls(); len(calls) != 1 || len(calls[0].Messages) != 2 || len(calls[0].Events) != 1 {
		t.Fatalf("plan calls %+v, want one with 2 messages and 1 event", calls)
	}
	if got[0].Status != "open" {
		t.Errorf("the stored event's status changed: %s", got[0].Status)
	}
	rec.Reset()
	ingest(t, s, rec.Plan, again)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("plan called %d times for messages already stored", n)
	}
	more := e
	more.Messages = []watchdog.Message{agent(2 * time.Minute), customer(time.Minute)}
	ingest(t, s, rec.Plan, more)
	tk := getTicket(t, s, "m")
	if d := cmp.Diff([]watchdog.Message{customer(time.Minute), agent(time.Minute), agent(2 * time.Minute)}, tk.Messages); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
}

// testPlansSeeMessages: every plan (ingest, evaluation, replan, dashboard
// clocks) sees the ticket's messages, attributes and tags.
func testPlansSeeMessages(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	e := NewEvent("p", 0)
	e.Messages, e.Tags = []watchdog.Message{customer(time.Minute)}, []string{"vip"}
	ingest(t, s, OpenPlan(TimePtr(At(time.Hour))), e)
	check := func(what string, tk *watchdog.Ticket) {
		t.Helper()
		if len(tk.Messages) != 1 || !cmp.Equal(tk.Tags, []string{"vip"}) {
			t.Errorf("%s: plan saw messages %v, tags %v", what, tk.Messages, tk.Tags)
		}
	}
	rec := &Recorder{Decide: OpenPlan(TimePtr(At(2 * time.Hour)))}
	evaluate(t, s, At(time.Hour), 10, rec.Plan)
	if calls := rec.Calls(); len(calls) != 1 {
		t.Fatalf("EvaluateDue planned %d tickets", len(calls))
	}
	check("EvaluateDue", rec.Calls()[0])
	rec.Reset()
	if _, _, err := s.Replan(t.Context(), "", 10, rec.Plan); err != nil || len(rec.Calls()) != 1 {
		t.Fatalf("Replan: %v, %d calls", err, len(rec.Calls()))
	}
	check("Replan", rec.Calls()[0])
	rows, _, err := s.Dashboard(t.Context(), watchdog.DashboardQuery{Limit: 10, Clocks: true})
	if err != nil || len(rows) != 1 {
		t.Fatalf("Dashboard: %v", err)
	}
	check("Dashboard with clocks", rows[0])
}

func testPolicyStored(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	plan := func(name string, due *time.Time) watchdog.PlanFunc {
		return func(*watchdog.Ticket) watchdog.Plan {
			return watchdog.Plan{State: watchdog.TicketOK, Open: true, Policy: name, NextDueAt: due}
		}
	}
	ingest(t, s, PlanByID(map[string]watchdog.Plan{"b": {State: watchdog.TicketOK, Open: true, Policy: "email"}},
		plan("vip-billing", TimePtr(At(time.Hour)))), NewEvent("a", 0), NewEvent("b", 0))
	page := func(policy string) []string {
		t.Helper()
		rows, total, err := s.Dashboard(t.Context(), watchdog.DashboardQuery{Limit: 10, Policy: policy})
		if err != nil || total != len(rows) {
			t.Fatalf("Dashboard(policy=%q): %d of %d, %v", policy, len(rows), total, err)
		}
		return sortedStrings(ids(rows))
	}
	if got := page("vip-billing"); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("policy=vip-billing: %v", got)
	}
	if got := page("VIP-BILLING"); len(got) != 0 {
		t.Errorf("policy names compare exactly: %v", got)
	}
	evaluate(t, s, At(time.Hour), 10, plan("tiers.gold.high", nil))
	if tk := getTicket(t, s, "a"); tk.Policy != "tiers.gold.high" {
		t.Errorf("after EvaluateDue: policy %q", tk.Policy)
	}
	if _, _, err := s.Replan(t.Context(), "", 10, plan("email", nil)); err != nil {
		t.Fatal(err)
	}
	if got := page("email"); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("after Replan, policy=email: %v", got)
	}
}

// testCycleAlerts: a cycle alert is keyed by its cycle's start, not its
// number: two cycles numbered alike both record, the same cycle and stage
// once; the number, start and policy read back.
func testCycleAlerts(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Hour))), NewEvent("c", 0))
	cycleAlert := func(tk *watchdog.Ticket, n int, start time.Duration) watchdog.Alert {
		a := NewAlert(tk, watchdog.StageBreach, At(start+time.Hour), At(3*time.Hour))
		a.SLAClock, a.Cycle, a.CycleStartedAt, a.Policy = watchdog.NextReply, n, TimePtr(At(start)), "vip"
		return a
	}
	fire := func(starts ...time.Duration) watchdog.PlanFunc {
		return func(tk *watchdog.Ticket) watchdog.Plan {
			p := watchdog.Plan{State: watchdog.TicketBreach, Open: true, NextDueAt: TimePtr(At(4 * time.Hour)), Notifiers: []string{"n"}}
			for _, st := range starts {
				p.Alerts = append(p.Alerts, cycleAlert(tk, 1, st))
			}
			return p
		}
	}
	first := evaluate(t, s, At(3*time.Hour), 10, fire(10*time.Minute, 20*time.Minute))
	if len(first) != 2 {
		t.Fatalf("recorded %d alerts, want 2 cycles numbered 1", len(first))
	}
	rec := &Recorder{Decide: fire(10*time.Minute, 20*time.Minute, 30*time.Minute)}
	second := evaluate(t, s, At(4*time.Hour), 10, rec.Plan)
	if len(second) != 1 || !second[0].CycleStartedAt.Equal(At(30*time.Minute)) || second[0].EscalationLevel != 3 {
		t.Fatalf("second pass recorded %+v, want the third cycle alone at level 3", second)
	}
	if calls := rec.Calls(); len(calls) != 1 || len(calls[0].Alerts) != 2 || calls[0].Alerts[0].CycleStartedAt == nil {
		t.Fatalf("plan saw alerts %+v", rec.Calls())
	}
	tk := getTicket(t, s, "c")
	want := []watchdog.Alert{cycleAlert(tk, 1, 10*time.Minute), cycleAlert(tk, 1, 20*time.Minute), cycleAlert(tk, 1, 30*time.Minute)}
	for i := range want {
		want[i].ID, want[i].EscalationLevel = tk.Alerts[i].ID, i+1
	}
	if d := cmp.Diff(want, tk.Alerts, ignoreDeliv); d != "" {
		t.Errorf("alerts (-want +got):\n%s", d)
	}
	listed, err := s.Alerts(t.Context(), watchdog.AlertsQuery{Limit: 10})
	if err != nil || len(listed) != 3 || listed[0].Policy != "vip" || listed[0].Cycle != 1 || !listed[0].CycleStartedAt.Equal(At(30*time.Minute)) {
		t.Errorf("Alerts: %+v, %v", listed, err)
	}
	ds := claim(t, s, "n", At(5*time.Hour), 10, time.Minute)
	if len(ds) != 3 || ds[0].Alert.CycleStartedAt == nil || ds[0].Alert.Policy != "vip" {
		t.Errorf("claimed deliveries' alerts: %+v", ds)
	}
}
