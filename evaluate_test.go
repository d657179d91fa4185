package watchdog_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ticket-watchdog/watchdog"
)

var t0 = time.Date(2026, 6, 18, 12, 0, 0, 0, time.UTC)

func testPolicy(escalation ...float64) *watchdog.Policy {
	return &watchdog.Policy{
		Thresholds: watchdog.DefaultThresholds,
		Escalation: escalation,
		Statuses:   watchdog.DefaultStatuses,
		Tiers: map[string]*watchdog.TierPolicy{
			"gold": {Priorities: map[string]watchdog.Targets{
				"high": {Response: 30 * time.Minute, Resolution: 180 * time.Minute},
				"low":  {Response: 120 * time.Minute, Resolution: 360 * time.Minute},
			}},
			"silver": {Priorities: map[string]watchdog.Targets{
				"low": {Response: 240 * time.Minute, Resolution: 600 * time.Minute},
			}},
		},
	}
}

// ticket builds a ticket from (offset, status) steps, all gold/high unless
// changed by mod.
func ticket(steps ...any) *watchdog.Ticket {
	t := &watchdog.Ticket{}
	var evs []watchdog.Event
	for i := 0; i < len(steps); i += 2 {
		evs = append(evs, watchdog.Event{
			ID: "T-1", Priority: "high", CustomerTier: "gold", Status: steps[i+1].(string),
			CreatedAt: t0, UpdatedAt: t0.Add(steps[i].(time.Duration)),
		})
	}
	t.Merge(evs...)
	return t
}

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr(t time.Time) *time.Time { return &t }

// fire records every due alert as the store would.
func fire(t *watchdog.Ticket, ev watchdog.Evaluation) {
	for _, a := range ev.Due {
		t.EscalationLevel++
		a.EscalationLevel = t.EscalationLevel
		t.Alerts = append(t.Alerts, a)
	}
}

func stages(as []watchdog.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, string(a.SLAClock)+"/"+a.Stage+"@"+a.DueAt.Sub(t0).String())
	}
	return out
}

func TestEvaluateRunningTicket(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open")
	ev := watchdog.Evaluate(tk, p, at(10*time.Minute))
	if ev.State != watchdog.TicketOK || !ev.Open {
		t.Fatalf("state %q open %v, want ok/open", ev.State, ev.Open)
	}
	r := ev.SLAClocks[watchdog.Response]
	if r.State != watchdog.StateOK || r.ElapsedSeconds != 600 || r.TargetSeconds != 1800 || r.RemainingSeconds != 1200 {
		t.Fatalf("response clock %+v", r)
	}
	if !r.AlertAt.Equal(at(25*time.Minute+30*time.Second)) || !r.BreachAt.Equal(at(30*time.Minute)) {
		t.Fatalf("response alert_at %v breach_at %v", r.AlertAt, r.BreachAt)
	}
	if !ev.NextDueAt.Equal(at(25*time.Minute + 30*time.Second)) {
		t.Fatalf("next due %v, want alert instant", ev.NextDueAt)
	}
	if !ev.BreachAt.Equal(at(30 * time.Minute)) {
		t.Fatalf("breach at %v", ev.BreachAt)
	}
	if len(ev.Due) != 0 {
		t.Fatalf("nothing is due yet, got %v", stages(ev.Due))
	}
	if c := ev.SLAClocks[watchdog.Resolution]; c.State != watchdog.StateOK || !c.BreachAt.Equal(at(180*time.Minute)) || c.Calendar != "24x7" {
		t.Fatalf("resolution clock %+v", c)
	}
}

func TestEvaluateFiresNeverBeforeItsInstant(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open")
	alertAt := at(25*time.Minute + 30*time.Second)
	if ev := watchdog.Evaluate(tk, p, alertAt.Add(-time.Nanosecond)); len(ev.Due) != 0 {
		t.Fatalf("fired before its instant: %v", stages(ev.Due))
	}
	ev := watchdog.Evaluate(tk, p, alertAt)
	if got := stages(ev.Due); !cmp.Equal(got, []string{"response/alert@25m30s"}) {
		t.Fatalf("due at the instant: %v", got)
	}
	if ev.State != watchdog.TicketAlert || ev.SLAClocks[watchdog.Response].State != watchdog.StateAlert {
		t.Fatalf("state %q / %q, want alert", ev.State, ev.SLAClocks[watchdog.Response].State)
	}
	a := ev.Due[0]
	if a.State != "alert" || a.TicketID != "T-1" || a.Target != 30*time.Minute || a.Elapsed != 1530*time.Second || !strings.Contains(a.Message, "Response") {
		t.Fatalf("alert %+v", a)
	}
	fire(tk, ev)
	ev = watchdog.Evaluate(tk, p, alertAt)
	if len(ev.Due) != 0 || !ev.NextDueAt.Equal(at(30*time.Minute)) {
		t.Fatalf("after firing: due %v next %v", stages(ev.Due), ev.NextDueAt)
	}
}

// Each stage fires exactly once however often the ticket is evaluated.
func TestEvaluateEachStageOnce(t *testing.T) {
	p := testPolicy(1.5, 2.0)
	tk := ticket(0*time.Minute, "open")
	for now := t0; now.Before(at(10 * time.Hour)); now = now.Add(37 * time.Second) {
		ev := watchdog.Evaluate(tk, p, now)
		for _, a := range ev.Due {
			if a.DueAt.After(now) {
				t.Fatalf("%s due at %v fired at %v", a.Stage, a.DueAt, now)
			}
			if now.Sub(a.DueAt) >= 37*time.Second {
				t.Fatalf("%s due at %v fired late at %v", a.Stage, a.DueAt, now)
			}
		}
		fire(tk, ev)
	}
	want := []string{
		"response/alert@25m30s", "response/breach@30m0s", "response/escalation-1@45m0s", "response/escalation-2@1h0m0s",
		"resolution/alert@2h33m0s", "resolution/breach@3h0m0s", "resolution/escalation-1@4h30m0s", "resolution/escalation-2@6h0m0s",
	}
	if diff := cmp.Diff(want, stages(tk.Alerts)); diff != "" {
		t.Fatalf("alerts (-want +got):\n%s", diff)
	}
	if tk.EscalationLevel != 8 {
		t.Fatalf("escalation level %d, want 8", tk.EscalationLevel)
	}
	if ev := watchdog.Evaluate(tk, p, at(11*time.Hour)); ev.NextDueAt != nil || ev.State != watchdog.TicketBreach {
		t.Fatalf("after every stage: next %v state %q", ev.NextDueAt, ev.State)
	}
}

func TestEvaluatePauseAndResume(t *testing.T) {
	p := testPolicy()
	// Answered into pending at 10m (stops response), customer replies at 1h.
	tk := ticket(0*time.Minute, "open", 10*time.Minute, "pending", 60*time.Minute, "open")
	ev := watchdog.Evaluate(tk, p, at(30*time.Minute))
	_ = ev
	tkPaused := ticket(0*time.Minute, "open", 10*time.Minute, "pending")
	ev = watchdog.Evaluate(tkPaused, p, at(30*time.Minute))
	if c := ev.SLAClocks[watchdog.Resolution]; c.State != watchdog.StatePaused || c.ElapsedSeconds != 600 || c.BreachAt != nil {
		t.Fatalf("paused resolution clock %+v", c)
	}
	if c := ev.SLAClocks[watchdog.Response]; c.State != watchdog.StateMet || c.ElapsedSeconds != 600 {
		t.Fatalf("response clock after answer %+v", c)
	}
	if ev.NextDueAt != nil {
		t.Fatalf("a paused ticket has nothing due, got %v", ev.NextDueAt)
	}
	ev = watchdog.Evaluate(tk, p, at(2*time.Hour))
	c := ev.SLAClocks[watchdog.Resolution]
	if c.State != watchdog.StateOK || c.ElapsedSeconds != int64((10*time.Minute+time.Hour)/time.Second) {
		t.Fatalf("resumed resolution clock %+v", c)
	}
	// 170 minutes left at resumption.
	if !c.BreachAt.Equal(at(60*time.Minute + 170*time.Minute)) {
		t.Fatalf("breach at %v, want resume+170m", c.BreachAt)
	}
}

func TestEvaluateReopenResumes(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open", 60*time.Minute, "resolved")
	ev := watchdog.Evaluate(tk, p, at(4*time.Hour))
	if c := ev.SLAClocks[watchdog.Resolution]; c.State != watchdog.StateMet || c.ElapsedSeconds != 3600 {
		t.Fatalf("resolved clock (before reopen) %+v", c)
	}
	if ev.Open {
		t.Fatal("a resolved ticket is not open")
	}
	tk.Merge(watchdog.Event{ID: "T-1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: at(5 * time.Hour)})
	ev = watchdog.Evaluate(tk, p, at(5*time.Hour+30*time.Minute))
	c := ev.SLAClocks[watchdog.Resolution]
	if !ev.Open || c.State != watchdog.StateOK || c.ElapsedSeconds != 5400 || !c.BreachAt.Equal(at(5*time.Hour+120*time.Minute)) {
		t.Fatalf("reopened clock %+v open %v", c, ev.Open)
	}
}

func TestEvaluateFirstResponse(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open")
	fr := at(5 * time.Minute)
	tk.Merge(watchdog.Event{ID: "T-1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: at(6 * time.Minute), FirstResponseAt: &fr})
	ev := watchdog.Evaluate(tk, p, at(time.Hour))
	if c := ev.SLAClocks[watchdog.Response]; c.State != watchdog.StateMet || c.ElapsedSeconds != 300 || c.BreachAt != nil {
		t.Fatalf("response after explicit first response %+v", c)
	}
	if len(ev.Due) != 0 {
		t.Fatalf("a met response clock fires nothing, got %v", stages(ev.Due))
	}
}

func TestEvaluateMissedResponse(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open", 40*time.Minute, "in_progress")
	ev := watchdog.Evaluate(tk, p, at(50*time.Minute))
	if c := ev.SLAClocks[watchdog.Response]; c.State != watchdog.StateMissed {
		t.Fatalf("response answered after its breach: %+v", c)
	}
	if ev.State != watchdog.TicketBreach {
		t.Fatalf("ticket state %q, want breach", ev.State)
	}
	// Both stages were reached while the clock ran, even though the
	// events arrived after the fact.
	if got := stages(ev.Due); !cmp.Equal(got, []string{"response/alert@25m30s", "response/breach@30m0s"}) {
		t.Fatalf("due %v", got)
	}
	// Answered exactly at the breach instant: met, nothing breached.
	tk = ticket(0*time.Minute, "open", 30*time.Minute, "in_progress")
	ev = watchdog.Evaluate(tk, p, at(50*time.Minute))
	if c := ev.SLAClocks[watchdog.Response]; c.State != watchdog.StateMet {
		t.Fatalf("answered at the breach instant: %+v", c)
	}
	if got := stages(ev.Due); !cmp.Equal(got, []string{"response/alert@25m30s"}) {
		t.Fatalf("due %v", got)
	}
}

func TestEvaluateLateEventsMergeByTime(t *testing.T) {
	p := testPolicy()
	inOrder := ticket(0*time.Minute, "open", 10*time.Minute, "pending", 60*time.Minute, "open")
	late := ticket(0*time.Minute, "open", 60*time.Minute, "open")
	late.Merge(watchdog.Event{ID: "T-1", Priority: "high", CustomerTier: "gold", Status: "pending", CreatedAt: t0, UpdatedAt: at(10 * time.Minute)})
	if late.Status != "open" || !late.UpdatedAt.Equal(at(60*time.Minute)) {
		t.Fatalf("a late event must not change current fields: %+v", late)
	}
	now := at(90 * time.Minute)
	a, b := watchdog.Evaluate(inOrder, p, now), watchdog.Evaluate(late, p, now)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("late arrival changed the evaluation (-in order +late):\n%s", diff)
	}
	// Duplicate of a stored event is ignored.
	if late.Merge(late.Events[1]) {
		t.Fatal("merging a stored event reported a change")
	}
}

func TestEvaluateTierChangeKeepsUsedTime(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open")
	tk.Merge(watchdog.Event{ID: "T-1", Priority: "low", CustomerTier: "silver", Status: "open", CreatedAt: t0, UpdatedAt: at(20 * time.Minute)})
	ev := watchdog.Evaluate(tk, p, at(25*time.Minute))
	c := ev.SLAClocks[watchdog.Response]
	if c.TargetSeconds != 240*60 || c.ElapsedSeconds != 25*60 || !c.BreachAt.Equal(at(240*time.Minute)) {
		t.Fatalf("after tier change: %+v", c)
	}
}

func TestEvaluatePolicyChange(t *testing.T) {
	long := testPolicy()
	tk := ticket(0*time.Minute, "open")
	now := at(20 * time.Minute)
	if ev := watchdog.Evaluate(tk, long, now); len(ev.Due) != 0 {
		t.Fatalf("due under the long policy: %v", stages(ev.Due))
	}
	short := testPolicy()
	short.Tiers["gold"].Priorities["high"] = watchdog.Targets{Response: 10 * time.Minute, Resolution: 60 * time.Minute}
	ev := watchdog.Evaluate(tk, short, now)
	if got := stages(ev.Due); !cmp.Equal(got, []string{"response/alert@8m30s", "response/breach@10m0s"}) {
		t.Fatalf("due after shortening: %v", got)
	}
	fire(tk, ev)
	// Back to the long policy: the alerts sent stay sent, nothing fires
	// again, and the state follows the time used under the new targets.
	ev = watchdog.Evaluate(tk, long, at(26*time.Minute))
	if len(ev.Due) != 0 || ev.State != watchdog.TicketAlert {
		t.Fatalf("after lengthening: due %v state %q", stages(ev.Due), ev.State)
	}
	if !ev.NextDueAt.Equal(at(30 * time.Minute)) {
		t.Fatalf("next due %v: the breach instant still changes the state", ev.NextDueAt)
	}
}

func TestEvaluateUntracked(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open")
	tk.Merge(watchdog.Event{ID: "T-1", Priority: "urgent", CustomerTier: "platinum", Status: "open", CreatedAt: t0, UpdatedAt: at(time.Minute)})
	ev := watchdog.Evaluate(tk, p, at(time.Hour))
	if ev.State != watchdog.TicketUntracked || !strings.Contains(ev.Untracked, "platinum") || ev.SLAClocks != nil || ev.NextDueAt != nil {
		t.Fatalf("untracked evaluation %+v", ev)
	}
	// A policy that covers it gives it clocks.
	p.Tiers["platinum"] = &watchdog.TierPolicy{Priorities: map[string]watchdog.Targets{"urgent": {Response: time.Hour, Resolution: 2 * time.Hour}}}
	if ev := watchdog.Evaluate(tk, p, at(time.Hour)); ev.State != watchdog.TicketBreach || len(ev.Due) != 2 {
		t.Fatalf("once tracked: %+v", ev)
	}
}

func TestEvaluateCreatedResolved(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "closed")
	ev := watchdog.Evaluate(tk, p, at(10*time.Hour))
	for _, k := range watchdog.SLAClocks {
		if c := ev.SLAClocks[k]; c.State != watchdog.StateMet || c.ElapsedSeconds != 0 {
			t.Fatalf("%s clock of a ticket created closed: %+v", k, c)
		}
	}
	if ev.NextDueAt != nil || len(ev.Due) != 0 || ev.Open {
		t.Fatalf("closed ticket: %+v", ev)
	}
	_ = ptr
}

func TestAlertDetailsNameTheTarget(t *testing.T) {
	p := testPolicy()
	tk := ticket(0*time.Minute, "open")
	ev := watchdog.Evaluate(tk, p, at(4*time.Hour))
	want := map[string]string{
		"response/alert":    "Response SLA at 85% of its 30m target",
		"response/breach":   "Response SLA breached: 30m target reached",
		"resolution/alert":  "Resolution SLA at 85% of its 3h target",
		"resolution/breach": "Resolution SLA breached: 3h target reached",
	}
	for _, a := range ev.Due {
		if got := a.Message; got != want[string(a.SLAClock)+"/"+a.Stage] {
			t.Errorf("%s/%s details %q", a.SLAClock, a.Stage, got)
		}
	}
	if len(ev.Due) != 4 {
		t.Fatalf("due %v", stages(ev.Due))
	}
}
