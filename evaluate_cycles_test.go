package watchdog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ticket-watchdog/watchdog"
)

// cyclePolicyFile has a policy for gold tickets with both cycle clocks and
// one that tracks only next reply for the email channel; silver falls back
// to the tiers table.
const cyclePolicyFile = `
calendars:
  office:
    timezone: UTC
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
policies:
  - name: email-only
    match: {attributes.channel: email, not: {priority: low}}
    targets: {next_reply: 2h}
  - name: office
    match: {tags: office}
    calendar: office
    targets: {next_reply: 1h}
  - name: gold
    match: {tier: gold}
    targets: {response: 30m, resolution: 24h, next_reply: 1h, periodic_update: 4h}
tiers:
  silver:
    low: {response: 240, resolution: 600}
`

func cyclePolicy(t *testing.T) *watchdog.Policy {
	t.Helper()
	p, err := watchdog.ParsePolicy([]byte(cyclePolicyFile))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// convo builds a gold/high ticket from tokens "status@offset",
// "c@offset"/"a@offset" (customer/agent messages, each sent in its own
// event at the ticket's first updated_at, as a helpdesk may resend it).
func convo(t *testing.T, tokens ...string) *watchdog.Ticket {
	t.Helper()
	tk := &watchdog.Ticket{}
	for _, tok := range tokens {
		what, off, _ := strings.Cut(tok, "@")
		d, err := time.ParseDuration(off)
		if err != nil {
			t.Fatalf("bad token %q", tok)
		}
		ev := watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0}
		switch what {
		case "c", "a":
			author := watchdog.AuthorCustomer
			if what == "a" {
				author = watchdog.AuthorAgent
			}
			ev.Messages = []watchdog.Message{{At: t0.Add(d), Author: author}}
		default:
			ev.Status, ev.UpdatedAt = what, t0.Add(d)
		}
		tk.Merge(ev)
	}
	return tk
}

// due formats the due alerts of one clock as "stage#cycle@start".
func due(ev watchdog.Evaluation, clock watchdog.SLAClock) []string {
	out := []string{}
	for _, a := range ev.Due {
		if a.SLAClock != clock {
			continue
		}
		s := fmt.Sprintf("%s#%d", a.Stage, a.Cycle)
		if a.CycleStartedAt != nil {
			s += "@" + a.CycleStartedAt.Sub(t0).String()
		}
		out = append(out, s)
	}
	return out
}

func TestCycleStages(t *testing.T) {
	p := cyclePolicy(t)
	cases := []struct {
		name     string
		timeline []string
		now      time.Duration
		want     []string // next reply alerts due
		state    watchdog.SLAClockState
	}{
		{"a running cycle fires at 85% and 100%", []string{"a@1m", "c@10m"}, 2 * time.Hour,
			[]string{"alert#1@10m0s", "breach#1@10m0s"}, watchdog.StateBreach},
		{"not before its instant", []string{"a@1m", "c@10m"}, 60 * time.Minute, []string{}, watchdog.StateOK},
		{"at its instant", []string{"a@1m", "c@10m"}, 61 * time.Minute, []string{"alert#1@10m0s"}, watchdog.StateAlert},
		{"a stop exactly at the breach instant is met", []string{"a@1m", "c@10m", "a@70m"}, 5 * time.Hour,
			[]string{"alert#1@10m0s"}, watchdog.StateMet},
		{"a stop after it is missed", []string{"a@1m", "c@10m", "a@71m"}, 5 * time.Hour,
			[]string{"alert#1@10m0s", "breach#1@10m0s"}, watchdog.StateMissed},
		{"a stop exactly at the alert instant fires nothing", []string{"a@1m", "c@10m", "a@61m"}, 5 * time.Hour,
			[]string{}, watchdog.StateMet},
		{"a pause moves the instants (51m of business time)", []string{"a@1m", "c@10m", "pending@20m", "open@50m"}, 91 * time.Minute,
			[]string{"alert#1@10m0s"}, watchdog.StateAlert},
		{"a paused cycle shows paused", []string{"a@1m", "c@10m", "pending@20m"}, 5 * time.Hour,
			[]string{}, watchdog.StatePaused},
		{"every cycle fires, numbered", []string{"a@1m", "c@10m", "a@80m", "c@90m"}, 4 * time.Hour,
			[]string{"alert#1@10m0s", "breach#1@10m0s", "alert#2@1h30m0s", "breach#2@1h30m0s"}, watchdog.StateBreach},
		{"resolving stops the cycle", []string{"a@1m", "c@10m", "solved@30m"}, 5 * time.Hour, []string{}, watchdog.StateMet},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := convo(t, c.timeline...)
			ev := watchdog.Evaluate(tk, p, t0.Add(c.now))
			if diff := cmp.Diff(c.want, due(ev, watchdog.NextReply)); diff != "" {
				t.Errorf("due (-want +got):\n%s", diff)
			}
			if got := ev.SLAClocks[watchdog.NextReply].State; got != c.state {
				t.Errorf("state %s, want %s", got, c.state)
			}
			fire(tk, ev)
			if again := watchdog.Evaluate(tk, p, t0.Add(c.now)); len(again.Due) != 0 {
				t.Errorf("fired twice: %v", again.Due)
			}
		})
	}
}

func TestCyclePeriodicUpdate(t *testing.T) {
	p := cyclePolicy(t)
	tk := convo(t, "a@0s", "a@5h", "solved@6h", "open@7h")
	ev := watchdog.Evaluate(tk, p, t0.Add(20*time.Hour))
	want := []string{"alert#1@0s", "breach#1@0s"} // the second cycle stopped at resolve, under 85%; a reopen starts none
	if diff := cmp.Diff(want, due(ev, watchdog.PeriodicUpdate)); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	v := ev.SLAClocks[watchdog.PeriodicUpdate]
	if v.Cycle != 2 || v.State != watchdog.StateMet || v.CyclesMet != 1 || v.CyclesMissed != 1 || !v.CycleStartedAt.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("view %+v", v)
	}
	if v := ev.SLAClocks[watchdog.NextReply]; v.State != watchdog.StateIdle || v.Cycle != 0 || v.TargetSeconds != 3600 {
		t.Errorf("next reply without a customer message: %+v", v)
	}
}

// TestCycleIdentity: alerts already fired stay fired for the cycle that
// holds their key, whatever late messages do to the cycles' numbers.
func TestCycleIdentity(t *testing.T) {
	p := cyclePolicy(t)
	tk := convo(t, "a@1m", "c@30m")
	now := t0.Add(2 * time.Hour)
	ev := watchdog.Evaluate(tk, p, now)
	fire(tk, ev)
	if got := due(ev, watchdog.NextReply); !cmp.Equal(got, []string{"alert#1@30m0s", "breach#1@30m0s"}) {
		t.Fatalf("first pass %v", got)
	}
	// A late, earlier customer message moves the cycle's start: the same
	// cycle (its span holds the fired keys), so nothing fires again.
	late := watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0,
		Messages: []watchdog.Message{{At: t0.Add(20 * time.Minute), Author: watchdog.AuthorCustomer}}}
	tk.Merge(late)
	if ev := watchdog.Evaluate(tk, p, now); len(due(ev, watchdog.NextReply)) != 0 {
		t.Fatalf("refired after an earlier customer message: %v", due(ev, watchdog.NextReply))
	}
	// A late agent message and customer message before the first cycle
	// add a cycle before it: it fires as cycle 1, the old alerts keep
	// their number, and the old cycle (now 2) does not fire again.
	tk.Merge(watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0,
		Messages: []watchdog.Message{{At: t0.Add(2 * time.Minute), Author: watchdog.AuthorCustomer}, {At: t0.Add(15 * time.Minute), Author: watchdog.AuthorAgent}}})
	ev = watchdog.Evaluate(tk, p, now)
	if got := due(ev, watchdog.NextReply); len(got) != 0 {
		t.Fatalf("a 13-minute cycle fires nothing, got %v", got)
	}
	tk.Merge(watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0,
		Messages: []watchdog.Message{{At: t0.Add(5 * time.Minute), Author: watchdog.AuthorAgent}, {At: t0.Add(15 * time.Minute), Author: watchdog.AuthorAgent}}})
	ev = watchdog.Evaluate(tk, p, t0.Add(10*time.Hour))
	if got := due(ev, watchdog.NextReply); len(got) != 0 {
		t.Fatalf("refired: %v", got)
	}
	if v := ev.SLAClocks[watchdog.NextReply]; v.Cycle != 2 || !v.CycleStartedAt.Equal(t0.Add(20*time.Minute)) {
		t.Errorf("current cycle %d from %v, want 2 from 20m", v.Cycle, v.CycleStartedAt)
	}
	for _, a := range tk.Alerts {
		if a.SLAClock == watchdog.NextReply && a.Cycle != 1 {
			t.Errorf("a fired alert changed its number: %+v", a)
		}
	}
}

// TestCycleManyCycles: 120 next-reply cycles on one ticket, each missed:
// every stage of every cycle fires once.
func TestCycleManyCycles(t *testing.T) {
	p := cyclePolicy(t)
	tokens := []string{"a@1m"}
	for i := 0; i < 120; i++ {
		tokens = append(tokens, fmt.Sprintf("c@%dm", 120*i+10), fmt.Sprintf("a@%dm", 120*i+100))
	}
	tk := convo(t, tokens...)
	now := t0.Add(300 * time.Hour)
	ev := watchdog.Evaluate(tk, p, now)
	if n := len(due(ev, watchdog.NextReply)); n != 240 {
		t.Fatalf("%d next reply alerts, want 240", n)
	}
	fire(tk, ev)
	ev = watchdog.Evaluate(tk, p, now)
	if len(ev.Due) != 0 {
		t.Fatalf("fired again: %d", len(ev.Due))
	}
	if v := ev.SLAClocks[watchdog.NextReply]; v.CyclesMissed != 120 || v.CyclesMet != 0 || v.Cycle != 120 {
		t.Errorf("view %+v", v)
	}
	if ev.State != watchdog.TicketBreach {
		t.Errorf("state %s", ev.State)
	}
}

// TestCycleAcrossClosedNight: a cycle in a business-hours calendar does not
// count the night: a customer message at 16:30 on a Monday with a 1h target
// breaches at 09:30 on Tuesday.
func TestCycleAcrossClosedNight(t *testing.T) {
	p := cyclePolicy(t)
	mon := time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC) // a Monday
	ev0 := watchdog.Event{ID: "N", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: mon, UpdatedAt: mon,
		Tags: []string{"office"}, Messages: []watchdog.Message{
			{At: mon.Add(time.Hour), Author: watchdog.AuthorAgent},
			{At: mon.Add(8*time.Hour + 30*time.Minute), Author: watchdog.AuthorCustomer}}}
	tk := &watchdog.Ticket{}
	tk.Merge(ev0)
	ev := watchdog.Evaluate(tk, p, mon.Add(9*time.Hour))
	v := ev.SLAClocks[watchdog.NextReply]
	if ev.Policy != "office" || v == nil || v.BreachAt == nil {
		t.Fatalf("policy %q, view %+v", ev.Policy, v)
	}
	if want := time.Date(2026, 6, 16, 9, 30, 0, 0, time.UTC); !v.BreachAt.Equal(want) || !ev.BreachAt.Equal(want) {
		t.Errorf("breach at %s, want %s", v.BreachAt, want)
	}
	if _, ok := ev.SLAClocks[watchdog.Response]; ok {
		t.Error("the office policy tracks no response clock")
	}
}

func TestPolicySelection(t *testing.T) {
	p := cyclePolicy(t)
	cases := []struct {
		name, tier, prio string
		attrs            map[string]string
		policy           string
		clocks           []watchdog.SLAClock
	}{
		{"the first matching policy applies", "gold", "high", map[string]string{"channel": "email"}, "email-only",
			[]watchdog.SLAClock{watchdog.NextReply}},
		{"a not excludes", "gold", "low", map[string]string{"channel": "email"}, "gold",
			[]watchdog.SLAClock{watchdog.Response, watchdog.Resolution, watchdog.NextReply, watchdog.PeriodicUpdate}},
		{"the tiers table after the policies", "silver", "low", nil, "tiers.silver.low",
			[]watchdog.SLAClock{watchdog.Response, watchdog.Resolution}},
		{"tier names compare without case", "GOLD", "high", nil, "gold",
			[]watchdog.SLAClock{watchdog.Response, watchdog.Resolution, watchdog.NextReply, watchdog.PeriodicUpdate}},
		{"nothing applies", "bronze", "low", map[string]string{"channel": "phone"}, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := &watchdog.Ticket{}
			tk.Merge(watchdog.Event{ID: "P", Priority: c.prio, CustomerTier: c.tier, Status: "open", CreatedAt: t0, UpdatedAt: t0, Attributes: c.attrs})
			ev := watchdog.Evaluate(tk, p, t0)
			if ev.Policy != c.policy {
				t.Errorf("policy %q, want %q", ev.Policy, c.policy)
			}
			var got []watchdog.SLAClock
			for _, k := range watchdog.AllSLAClocks {
				if ev.SLAClocks[k] != nil {
					got = append(got, k)
				}
			}
			if diff := cmp.Diff(c.clocks, got); diff != "" {
				t.Errorf("clocks (-want +got):\n%s", diff)
			}
			if c.policy == "" && (ev.State != watchdog.TicketUntracked || !strings.Contains(ev.Untracked, "no policy matches")) {
				t.Errorf("untracked: %s %q", ev.State, ev.Untracked)
			}
		})
	}
}

// TestPolicySwitchMidCycle: the attributes change so that another policy
// applies while a next-reply cycle runs; the cycle is recomputed under the
// new target from the whole timeline, and the stage fired under the old
// policy stays fired.
func TestPolicySwitchMidCycle(t *testing.T) {
	p := cyclePolicy(t)
	tk := convo(t, "a@1m", "c@10m")
	ev := watchdog.Evaluate(tk, p, t0.Add(62*time.Minute))
	if got := due(ev, watchdog.NextReply); !cmp.Equal(got, []string{"alert#1@10m0s"}) || ev.Policy != "gold" {
		t.Fatalf("under gold: %v %s", got, ev.Policy)
	}
	fire(tk, ev)
	tk.Merge(watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0.Add(63 * time.Minute),
		Attributes: map[string]string{"channel": "email"}})
	ev = watchdog.Evaluate(tk, p, t0.Add(64*time.Minute))
	v := ev.SLAClocks[watchdog.NextReply]
	if ev.Policy != "email-only" || v.Target != 2*time.Hour || !v.BreachAt.Equal(t0.Add(130*time.Minute)) || len(ev.Due) != 0 {
		t.Fatalf("after the switch: policy %s, %+v, due %v", ev.Policy, v, ev.Due)
	}
	ev = watchdog.Evaluate(tk, p, t0.Add(3*time.Hour))
	if got := due(ev, watchdog.NextReply); !cmp.Equal(got, []string{"breach#1@10m0s"}) || ev.Due[0].Policy != "email-only" {
		t.Errorf("under email-only: %v", ev.Due)
	}
	// An empty attributes object clears them: back to gold.
	tk.Merge(watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0.Add(65 * time.Minute),
		Attributes: map[string]string{}})
	if ev := watchdog.Evaluate(tk, p, t0.Add(66*time.Minute)); ev.Policy != "gold" {
		t.Errorf("after clearing: %s", ev.Policy)
	}
}

// FuzzEvaluateCycles evaluates arbitrary conversations (each byte pair a
// status change or a message at some minute): no stage is due after its
// instant is in the future, and once the due stages are recorded, none is
// due again, whatever the conversation.
func FuzzEvaluateCycles(f *testing.F) {
	f.Add([]byte{0, 1, 1, 10, 2, 20, 1, 30, 3, 40, 4, 50, 0, 60})
	f.Add([]byte{2, 0, 1, 0, 2, 0, 5, 0, 1, 0, 0, 0})
	p, err := watchdog.ParsePolicy([]byte(cyclePolicyFile))
	if err != nil {
		f.Fatal(err)
	}
	statuses := []string{"open", "pending", "solved", "closed", "new"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 400 {
			return
		}
		tk := &watchdog.Ticket{}
		base := watchdog.Event{ID: "F", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0}
		tk.Merge(base)
		for i := 0; i+1 < len(data); i += 2 {
			at := t0.Add(time.Duration(data[i+1]) * time.Minute)
			ev := base
			switch k := data[i] % 7; k {
			case 0:
				ev.Messages = []watchdog.Message{{At: at, Author: watchdog.AuthorCustomer}}
			case 1:
				ev.Messages = []watchdog.Message{{At: at, Author: watchdog.AuthorAgent}}
			default:
				ev.Status, ev.UpdatedAt = statuses[k-2], at
			}
			tk.Merge(ev)
		}
		for _, now := range []time.Time{t0.Add(2 * time.Hour), t0.Add(5 * time.Hour), t0.Add(100 * time.Hour)} {
			ev := watchdog.Evaluate(tk, p, now)
			for _, a := range ev.Due {
				if a.DueAt.After(now) {
					t.Fatalf("stage due at %s after now %s", a.DueAt, now)
				}
			}
			fire(tk, ev)
			if again := watchdog.Evaluate(tk, p, now); len(again.Due) != 0 {
				t.Fatalf("due again after recording: %+v", again.Due)
			}
		}
	})
}

// TestCycleResults: Evaluation.Cycles lists every cycle for reports.
func TestCycleResults(t *testing.T) {
	p := cyclePolicy(t)
	tk := convo(t, "a@1m", "c@10m", "a@80m", "c@90m", "pending@100m")
	ev := watchdog.Evaluate(tk, p, t0.Add(3*time.Hour))
	var got []string
	for _, c := range ev.Cycles {
		s := fmt.Sprintf("%s#%d %s-%s %s %s", c.SLAClock, c.Cycle, c.StartedAt.Sub(t0), c.StoppedAt.Sub(t0), c.State, c.Elapsed)
		if c.StoppedAt.IsZero() {
			s = fmt.Sprintf("%s#%d %s- %s %s", c.SLAClock, c.Cycle, c.StartedAt.Sub(t0), c.State, c.Elapsed)
		}
		got = append(got, s)
	}
	want := []string{
		"next_reply#1 10m0s-1h20m0s missed 1h10m0s",
		"next_reply#2 1h30m0s- paused 10m0s",
		"periodic_update#1 1m0s-1h20m0s met 1h19m0s",
		"periodic_update#2 1h20m0s- paused 20m0s",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cycles (-want +got):\n%s", diff)
	}
}
