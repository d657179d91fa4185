package watchdog_test

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// outcomeObserver counts the outcomes reported recorded, by
// "ticket clock result".
type outcomeObserver struct {
	watchdog.NopObserver
	mu   sync.Mutex
	seen map[string]int
}

func (o *outcomeObserver) OutcomeRecorded(oc watchdog.Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]int{}
	}
	o.seen[oc.TicketID+" "+string(oc.SLAClock)+" "+oc.Result()]++
}

func (o *outcomeObserver) got() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.seen)
}

// Each clock's outcome is reported once, when it first stops: a late event
// that moves the stop, a reopen and a second stop record it again without
// counting it again. The report through the engine sees the latest.
func TestEngineCountsEachOutcomeOnce(t *testing.T) {
	clock := watchdogtest.NewClock(t0.Add(time.Hour))
	obs := &outcomeObserver{}
	h := watchdogtest.StartEngine(t, openStore(t, filepath.Join(t.TempDir(), "wd.db")), clock,
		&watchdog.Config{Policy: testPolicy(), Observer: obs, SweepInterval: noSweep})
	h.Ingest(event("a", "gold", "high", "open", t0, t0), event("a", "gold", "high", "in_progress", t0, t0.Add(40*time.Minute)))
	h.Ingest(event("a", "gold", "high", "resolved", t0, t0.Add(50*time.Minute)))
	want := map[string]int{"a response missed": 1, "a resolution met": 1}
	if diff := cmp.Diff(want, obs.got()); diff != "" {
		t.Fatalf("after the stops (-want +got):\n%s", diff)
	}
	// A late first response at 20m: the response outcome becomes met, and
	// is not counted again; nor is a reopen and a second resolution.
	h.Ingest(event("a", "gold", "high", "in_progress", t0, t0.Add(20*time.Minute)))
	h.Ingest(event("a", "gold", "high", "open", t0, t0.Add(55*time.Minute)))
	h.Ingest(event("a", "gold", "high", "resolved", t0, t0.Add(58*time.Minute)))
	if diff := cmp.Diff(want, obs.got()); diff != "" {
		t.Errorf("after re-recording (-want +got):\n%s", diff)
	}
	rows, err := h.Engine.SLAReport(context.Background(), watchdog.SLAReportQuery{GroupBy: []string{"sla_type"}, From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].SLAType != "response" || rows[1].Met != 1 || *rows[1].P50Seconds != 1200 ||
		rows[0].SLAType != "resolution" || rows[0].Met != 1 || *rows[0].P50Seconds != 53*60 {
		t.Errorf("report: %+v", rows)
	}
	// Bad queries are validation errors naming the parameter.
	_, err = h.Engine.SLAReport(context.Background(), watchdog.SLAReportQuery{GroupBy: []string{"week", "day"}})
	if ve := (*watchdog.ValidationError)(nil); !errors.As(err, &ve) || ve.Errors[0].Field != "group_by" {
		t.Errorf("two periods: %v", err)
	}
}

// Each next-reply cycle's outcome is counted once, labelled by its
// policy's tier: a late message that inserts an earlier cycle counts that
// one alone; one that moves a stopped cycle's start counts nothing again.
func TestEngineCountsEachCycleOutcomeOnce(t *testing.T) {
	p, err := watchdog.ParsePolicy([]byte("policies:\n  - name: chat\n    targets: {next_reply: 30m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	clock := watchdogtest.NewClock(t0.Add(5 * time.Hour))
	obs := &outcomeObserver{}
	h := watchdogtest.StartEngine(t, openStore(t, filepath.Join(t.TempDir(), "wd.db")), clock,
		&watchdog.Config{Policy: p, Observer: obs, SweepInterval: noSweep})
	msg := func(author string, d time.Duration) watchdog.Message {
		return watchdog.Message{At: t0.Add(d), Author: author}
	}
	e := event("a", "gold", "high", "open", t0, t0)
	// Cycles [20m, 40m) met and [60m, 2h) missed.
	e.Messages = []watchdog.Message{msg(watchdog.AuthorAgent, 10*time.Minute), msg(watchdog.AuthorCustomer, 20*time.Minute),
		msg(watchdog.AuthorAgent, 40*time.Minute), msg(watchdog.AuthorCustomer, time.Hour), msg(watchdog.AuthorAgent, 2*time.Hour)}
	h.Ingest(e)
	want := map[string]int{"a next_reply met": 1, "a next_reply missed": 1}
	if diff := cmp.Diff(want, obs.got()); diff != "" {
		t.Fatalf("after two cycles (-want +got):\n%s", diff)
	}
	late := event("a", "gold", "high", "open", t0, t0.Add(time.Minute))
	late.Messages = []watchdog.Message{msg(watchdog.AuthorCustomer, 12*time.Minute), msg(watchdog.AuthorAgent, 15*time.Minute)}
	h.Ingest(late)
	want["a next_reply met"]++
	if diff := cmp.Diff(want, obs.got()); diff != "" {
		t.Fatalf("after a late cycle (-want +got):\n%s", diff)
	}
	moved := event("a", "gold", "high", "open", t0, t0.Add(2*time.Minute))
	moved.Messages = []watchdog.Message{msg(watchdog.AuthorCustomer, 50*time.Minute)}
	h.Ingest(moved)
	if diff := cmp.Diff(want, obs.got()); diff != "" {
		t.Errorf("after a late message moving a cycle's start (-want +got):\n%s", diff)
	}
	rows, err := h.Engine.SLAReport(context.Background(), watchdog.SLAReportQuery{GroupBy: []string{"policy", "sla_type"},
		From: t0, To: t0.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Policy != "chat" || rows[0].SLAType != "next_reply" || rows[0].Stopped != 3 || rows[0].Met != 2 {
		t.Errorf("report: %+v", rows)
	}
}

// An outcome names the policy that gave its target: a policies entry
// matched by the ticket, or its tiers entry; a clock the policy gives no
// target has no outcome.
func TestOutcomesNameTheSelectedPolicy(t *testing.T) {
	p, err := watchdog.ParsePolicy([]byte(`policies:
  - name: vip
    match: {tags: vip}
    targets: {response: 15m}
tiers:
  gold:
    high: {response: 30m, resolution: 3h}
`))
	if err != nil {
		t.Fatal(err)
	}
	vip := event("v", "gold", "high", "open", t0, t0)
	vip.Tags = []string{"vip"}
	plain := event("p", "gold", "high", "open", t0, t0)
	for _, tc := range []struct {
		ev     watchdog.Event
		policy string
		clocks int
	}{{vip, "vip", 1}, {plain, "tiers.gold.high", 2}} {
		tk := &watchdog.Ticket{ID: tc.ev.ID}
		tk.Merge(tc.ev)
		_, outs := watchdog.EvaluateOutcomes(tk, p, t0.Add(time.Minute))
		if len(outs) != tc.clocks {
			t.Fatalf("%s: %d outcomes, want %d: %+v", tc.ev.ID, len(outs), tc.clocks, outs)
		}
		for _, o := range outs {
			if o.Policy != tc.policy {
				t.Errorf("%s: outcome policy %q, want %q", tc.ev.ID, o.Policy, tc.policy)
			}
		}
	}
}
