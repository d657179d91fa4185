package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// OutcomePlan returns the PlanFunc the engine uses for ingest under policy
// p at now: the ticket's columns and its SLA outcomes (watchdog.EvaluateOutcomes).
func OutcomePlan(p *watchdog.Policy, now time.Time) watchdog.PlanFunc {
	return func(t *watchdog.Ticket) watchdog.Plan {
		ev, outcomes := watchdog.EvaluateOutcomes(t, p, now)
		return watchdog.Plan{State: ev.State, Untracked: ev.Untracked, Open: ev.Open, Policy: ev.Policy, NextDueAt: ev.NextDueAt,
			BreachAt: ev.BreachAt, Outcomes: outcomes}
	}
}

// statusEvent is NewEvent with status and created at created.
func statusEvent(id string, created time.Time, at time.Time, status string) watchdog.Event {
	e := NewEvent(id, 0)
	e.CreatedAt, e.UpdatedAt, e.Status = created, at, status
	return e
}

// outcomesOf reads every outcome of [from, to) by stop (or start, open).
func outcomesOf(t *testing.T, s watchdog.Store, from, to time.Time) map[string]watchdog.Outcome {
	t.Helper()
	out := map[string]watchdog.Outcome{}
	q := watchdog.SLAReportQuery{From: from, To: to, Now: to}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.SLAOutcomes(t.Context(), q, func(o *watchdog.Outcome) error {
		k := o.TicketID + "/" + string(o.SLAClock)
		if _, dup := out[k]; dup {
			t.Errorf("outcome %s listed twice", k)
		}
		out[k] = *o
		return nil
	}); err != nil {
		t.Fatalf("SLAOutcomes: %v", err)
	}
	return out
}

// report runs SLAReport and formats its rows (sorted) one a line.
func report(t *testing.T, s watchdog.Store, q watchdog.SLAReportQuery) string {
	t.Helper()
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	rows, err := s.SLAReport(t.Context(), q)
	if err != nil {
		t.Fatalf("SLAReport: %v", err)
	}
	watchdog.SortSLAReport(rows)
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintln(&b, FormatReportRow(r))
	}
	return b.String()
}

// FormatReportRow formats a report row on one line, for comparisons.
func FormatReportRow(r watchdog.SLAReportRow) string {
	period := "-"
	if r.Period != nil {
		period = r.Period.UTC().Format(time.RFC3339)
	}
	f := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	i := func(p *int64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	if r.Policy != "" {
		period += " " + r.Policy
	}
	return fmt.Sprintf("%s %s/%s/%s/%s stopped=%d met=%d missed=%d achieved=%s open=%d open_breached=%d p50=%s p90=%s past=%d avg_past=%s",
		period, r.Tier, r.Priority, r.SLAType, r.Calendar, r.Stopped, r.Met, r.Missed, f(r.AchievedPercent), r.Open, r.OpenBreached,
		i(r.P50Seconds), i(r.P90Seconds), r.PastTargetSeconds, f(r.AvgPastTargetSeconds))
}

func checkOutcome(t *testing.T, what string, got watchdog.Outcome, stopped *time.Time, business, target, overrun, paused time.Duration, breached bool) {
	t.Helper()
	if !sameInstant(got.StoppedAt, stopped) || got.Business != business || got.Target != target || got.Overrun != overrun ||
		got.Paused != paused || got.Breached != breached {
		t.Errorf("%s: got stopped %v business %v target %v overrun %v paused %v breached %v; want %v %v %v %v %v %v", what,
			got.StoppedAt, got.Business, got.Target, got.Overrun, got.Paused, got.Breached,
			stopped, business, target, overrun, paused, breached)
	}
}

// testOutcomesReport: outcomes are recorded with the events that stop the
// clocks, and the report's figures are the hand-computed ones (seed
// policy, gold/high: response 30m, resolution 3h, 24x7).
func testOutcomesReport(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	p := watchdog.DefaultPolicy()
	now := At(45 * time.Minute)
	plan := OutcomePlan(p, now)
	m := time.Minute
	// a: response met after 10m, resolution missed after 200m (20m past).
	// b: response missed after 40m (10m past); paused 60m..120m;
	//    resolved at 150m after 90m of running: met.
	// c: open; response already past its 30m at now, resolution not.
	ingest(t, s, plan,
		statusEvent("a", Base, Base, "open"), statusEvent("a", Base, At(10*m), "in_progress"), statusEvent("a", Base, At(200*m), "resolved"),
		statusEvent("b", Base, Base, "open"), statusEvent("b", Base, At(40*m), "in_progress"), statusEvent("b", Base, At(60*m), "pending"),
		statusEvent("b", Base, At(120*m), "open"), statusEvent("b", Base, At(150*m), "resolved"),
		statusEvent("c", Base, Base, "open"))
	got := outcomesOf(t, s, At(-time.Hour), At(24*time.Hour))
	if len(got) != 4 {
		t.Fatalf("%d outcomes, want 4 (c's clocks never stopped: they are on its row): %v", len(got), got)
	}
	checkOutcome(t, "a/response", got["a/response"], TimePtr(At(10*m)), 10*m, 30*m, 0, 0, false)
	checkOutcome(t, "a/resolution", got["a/resolution"], TimePtr(At(200*m)), 200*m, 180*m, 20*m, 0, true)
	checkOutcome(t, "b/response", got["b/response"], TimePtr(At(40*m)), 40*m, 30*m, 10*m, 0, true)
	checkOutcome(t, "b/resolution", got["b/resolution"], TimePtr(At(150*m)), 90*m, 180*m, 0, 60*m, false)
	if o := got["a/resolution"]; o.Policy != "tiers.gold.high" || o.Tier != "gold" || o.Priority != "high" || o.Calendar != "24x7" ||
		o.BreachAt == nil || !o.BreachAt.Equal(At(180*m)) || o.RecordedAt == nil || !o.StartedAt.Equal(Base) {
		t.Errorf("a/resolution = %+v", o)
	}
	if oc := getTicket(t, s, "c").OpenClocks; oc.Calendar != "24x7" || !oc.Response || !oc.Resolution ||
		!sameInstant(oc.ResponseBreachAt, TimePtr(At(30*m))) || !sameInstant(oc.ResolutionBreachAt, TimePtr(At(180*m))) {
		t.Errorf("c's open clocks = %+v, want both, reaching their targets at 30m and 180m", oc)
	}
	if oc := getTicket(t, s, "a").OpenClocks; oc.Calendar != "24x7" || oc.Response || oc.Resolution {
		t.Errorf("a's open clocks = %+v, want none", oc)
	}

	q := watchdog.SLAReportQuery{From: At(-time.Hour), To: At(24 * time.Hour), Now: now, GroupBy: []string{"sla_type"}}
	wantReport := "- //resolution/ stopped=2 met=1 missed=1 achieved=50 open=1 open_breached=0 p50=5400 p90=12000 past=1200 avg_past=1200\n" +
		"- //response/ stopped=2 met=1 missed=1 achieved=50 open=1 open_breached=1 p50=600 p90=2400 past=600 avg_past=600\n"
	if r := report(t, s, q); r != wantReport {
		t.Errorf("report by sla_type:\n%s\nwant:\n%s", r, wantReport)
	}
	// Everything in one row; tier, priority and calendar keys.
	q.GroupBy = []string{"tier", "priority", "calendar"}
	wantAll := "- gold/high//24x7 stopped=4 met=2 missed=2 achieved=50 open=2 open_breached=1 p50=2400 p90=12000 past=1800 avg_past=900\n"
	if r := report(t, s, q); r != wantAll {
		t.Errorf("report by tier, priority, calendar:\n%s\nwant:\n%s", r, wantAll)
	}
	// By start: all six clocks started at Base.
	q.By, q.GroupBy = watchdog.ByStarted, nil
	if r, w := report(t, s, q), "- /// stopped=4 met=2 missed=2 achieved=50 open=2 open_breached=1 p50=2400 p90=12000 past=1800 avg_past=900\n"; r != w {
		t.Errorf("report by start:\n%s\nwant:\n%s", r, w)
	}
	// A range that selects by stop only a's resolution (stopped at 200m)
	// and no clock in progress (they started at Base).
	q = watchdog.SLAReportQuery{From: At(160 * m), To: At(24 * time.Hour), Now: now}
	if r, w := report(t, s, q), "- /// stopped=1 met=0 missed=1 achieved=0 open=0 open_breached=0 p50=12000 p90=12000 past=1200 avg_past=1200\n"; r != w {
		t.Errorf("report from 160m:\n%s\nwant:\n%s", r, w)
	}
	// An empty period gives no rows; so does a range with nothing at all.
	q = watchdog.SLAReportQuery{From: At(-48 * time.Hour), To: At(24 * time.Hour), Now: now, GroupBy: []string{"day"}}
	if r, w := report(t, s, q), "2025-06-18T00:00:00Z /// stopped=4 met=2 missed=2 achieved=50 open=2 open_breached=1 p50=2400 p90=12000 past=1800 avg_past=900\n"; r != w {
		t.Errorf("report by day:\n%s\nwant:\n%s", r, w)
	}
	q = watchdog.SLAReportQuery{From: At(-48 * time.Hour), To: At(-24 * time.Hour), Now: now}
	if r := report(t, s, q); r != "" {
		t.Errorf("report of an empty range: %q, want no rows", r)
	}
}

// testOutcomesFollowTimeline: a late event moves a stopped outcome (which
// keeps its recorded target under a new policy), a reopen reopens the
// resolution outcome and a new stop records it again: one outcome per
// clock throughout, RecordedAt kept.
func testOutcomesFollowTimeline(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	m := time.Minute
	p := watchdog.DefaultPolicy()
	ingest(t, s, OutcomePlan(p, At(10*time.Hour)),
		statusEvent("a", Base, Base, "open"), statusEvent("a", Base, At(20*m), "in_progress"), statusEvent("a", Base, At(150*m), "resolved"))
	first := outcomesOf(t, s, At(-time.Hour), At(24*time.Hour))
	checkOutcome(t, "a/response", first["a/response"], TimePtr(At(20*m)), 20*m, 30*m, 0, 0, false)

	// A policy with a 5m response target, and a late event: the response
	// stopped at 8m, still judged by its recorded 30m target.
	strict, err := watchdog.ParsePolicy([]byte("tiers:\n  gold:\n    high:\n      response: 5\n      resolution: 60\n"))
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, s, OutcomePlan(strict, At(11*time.Hour)), statusEvent("a", Base, At(8*m), "waiting_on_agent"))
	got := outcomesOf(t, s, At(-time.Hour), At(24*time.Hour))
	checkOutcome(t, "a/response after late event", got["a/response"], TimePtr(At(8*m)), 8*m, 30*m, 0, 0, false)
	checkOutcome(t, "a/resolution after late event", got["a/resolution"], TimePtr(At(150*m)), 150*m, 180*m, 0, 0, false)
	if !sameInstant(got["a/response"].RecordedAt, first["a/response"].RecordedAt) {
		t.Errorf("RecordedAt moved: %v, was %v", got["a/response"].RecordedAt, first["a/response"].RecordedAt)
	}

	// Reopened at 160m: in progress, under the policy in force.
	ingest(t, s, OutcomePlan(p, At(12*time.Hour)), statusEvent("a", Base, At(160*m), "open"))
	got = outcomesOf(t, s, At(-time.Hour), At(24*time.Hour))
	checkOutcome(t, "a/resolution reopened", got["a/resolution"], nil, 150*m, 180*m, 0, 0, false)
	if got["a/resolution"].RecordedAt == nil {
		t.Error("reopened outcome lost RecordedAt")
	}
	// Stopped again at 190m: 180m of business time, exactly the target,
	// is met (the target is reached only by running past it).
	ingest(t, s, OutcomePlan(p, At(13*time.Hour)), statusEvent("a", Base, At(190*m), "closed"))
	got = outcomesOf(t, s, At(-time.Hour), At(24*time.Hour))
	checkOutcome(t, "a/resolution stopped again", got["a/resolution"], TimePtr(At(190*m)), 180*m, 180*m, 0, 0, false)
	// A late resolved event at 185m moves the stop back, to 175m of
	// business time; the target recorded at the stop stays.
	ingest(t, s, OutcomePlan(p, At(14*time.Hour)), statusEvent("a", Base, At(185*m), "resolved"))
	got = outcomesOf(t, s, At(-time.Hour), At(24*time.Hour))
	checkOutcome(t, "a/resolution late stop", got["a/resolution"], TimePtr(At(185*m)), 175*m, 180*m, 0, 0, false)
	if len(got) != 2 {
		t.Errorf("%d outcomes, want 2", len(got))
	}
}

// testOutcomesPeriods: weeks in Europe/Berlin across the end of summer time
// (the week of 2025-10-20 lasts 169 hours), and days at +05:30.
func testOutcomesPeriods(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	p := watchdog.DefaultPolicy()
	d0 := time.Date(2025, 10, 26, 21, 0, 0, 0, time.UTC)  // Sunday 22:00 CET
	e0 := time.Date(2025, 10, 26, 23, 10, 0, 0, time.UTC) // Monday 00:10 CET
	m := time.Minute
	ingest(t, s, OutcomePlan(p, e0.Add(time.Hour)),
		// d: response met at 20m, resolved at 90m, Sunday 23:30 CET.
		statusEvent("d", d0, d0, "open"), statusEvent("d", d0, d0.Add(20*m), "in_progress"), statusEvent("d", d0, d0.Add(90*m), "resolved"),
		// e: response met at 10m, resolved at 20m, Monday 00:30 CET.
		statusEvent("e", e0, e0, "open"), statusEvent("e", e0, e0.Add(10*m), "in_progress"), statusEvent("e", e0, e0.Add(20*m), "resolved"))
	berlin, err := watchdog.ParseTimeZone("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	q := watchdog.SLAReportQuery{From: time.Date(2025, 10, 20, 0, 0, 0, 0, berlin), To: time.Date(2025, 11, 3, 0, 0, 0, 0, berlin),
		Location: berlin, GroupBy: []string{"week"}, Now: e0.Add(time.Hour)}
	want := "2025-10-19T22:00:00Z /// stopped=2 met=2 missed=0 achieved=100 open=0 open_breached=0 p50=1200 p90=5400 past=0 avg_past=null\n" +
		"2025-10-26T23:00:00Z /// stopped=2 met=2 missed=0 achieved=100 open=0 open_breached=0 p50=600 p90=1200 past=0 avg_past=null\n"
	if r := report(t, s, q); r != want {
		t.Errorf("Berlin weeks:\n%s\nwant:\n%s", r, want)
	}
	// Months: both in October in Berlin, the start of which is 22:00 UTC.
	q.GroupBy = []string{"month", "sla_type"}
	want = "2025-09-30T22:00:00Z //resolution/ stopped=2 met=2 missed=0 achieved=100 open=0 open_breached=0 p50=1200 p90=5400 past=0 avg_past=null\n" +
		"2025-09-30T22:00:00Z //response/ stopped=2 met=2 missed=0 achieved=100 open=0 open_breached=0 p50=600 p90=1200 past=0 avg_past=null\n"
	if r := report(t, s, q); r != want {
		t.Errorf("Berlin months:\n%s\nwant:\n%s", r, want)
	}
	// Days at +05:30: d's stops (21:20Z, 22:30Z) fall on the 27th there
	// (02:50, 04:00), as do e's.
	india, err := watchdog.ParseTimeZone("+05:30")
	if err != nil {
		t.Fatal(err)
	}
	q = watchdog.SLAReportQuery{From: d0.Add(-24 * time.Hour), To: d0.Add(24 * time.Hour), Location: india, GroupBy: []string{"day"}, Now: e0}
	want = "2025-10-26T18:30:00Z /// stopped=4 met=4 missed=0 achieved=100 open=0 open_breached=0 p50=1200 p90=5400 past=0 avg_past=null\n"
	if r := report(t, s, q); r != want {
		t.Errorf("+05:30 days:\n%s\nwant:\n%s", r, want)
	}
}

// testOutcomesBackfill: tickets stored without outcomes gain them from
// BackfillOutcomes, once; a second pass visits none.
func testOutcomesBackfill(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	m := time.Minute
	ingest(t, s, OpenPlan(nil),
		statusEvent("a", Base, Base, "open"), statusEvent("a", Base, At(10*m), "resolved"),
		statusEvent("b", Base, Base, "open"), statusEvent("c", Base, Base, "open"))
	if got := outcomesOf(t, s, At(-time.Hour), At(time.Hour)); len(got) != 0 {
		t.Fatalf("outcomes before backfill: %v", got)
	}
	plan := OutcomePlan(watchdog.DefaultPolicy(), At(time.Hour))
	last, n, err := s.BackfillOutcomes(t.Context(), "", 2, plan)
	if err != nil || n != 2 || last != "b" {
		t.Fatalf("BackfillOutcomes = %q, %d, %v; want b, 2", last, n, err)
	}
	if last, n, err = s.BackfillOutcomes(t.Context(), last, 2, plan); err != nil || n != 1 || last != "c" {
		t.Fatalf("BackfillOutcomes after b = %q, %d, %v; want c, 1", last, n, err)
	}
	got := outcomesOf(t, s, At(-time.Hour), At(time.Hour))
	if len(got) != 2 {
		t.Fatalf("%d outcomes after backfill, want a's 2", len(got))
	}
	checkOutcome(t, "a/resolution", got["a/resolution"], TimePtr(At(10*m)), 10*m, 180*m, 0, 0, false)
	q := watchdog.SLAReportQuery{From: At(-time.Hour), To: At(time.Hour), Now: At(time.Hour)}
	if r, w := report(t, s, q), "- /// stopped=2 met=2 missed=0 achieved=100 open=4 open_breached=2 p50=600 p90=600 past=0 avg_past=null\n"; r != w {
		t.Errorf("report after backfill:\n%s\nwant:\n%s", r, w)
	}
	if _, n, err := s.BackfillOutcomes(t.Context(), "", 10, plan); err != nil || n != 0 {
		t.Fatalf("second backfill visited %d, %v; want 0", n, err)
	}
}

// testOutcomesReplan: a policy change (Replan) recomputes the open tickets'
// outcomes only: an open ticket's open clocks move to the new targets, a
// stopped clock of an open ticket keeps its recorded target, and a closed
// ticket is not visited.
func testOutcomesReplan(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	m := time.Minute
	p := watchdog.DefaultPolicy()
	ingest(t, s, OutcomePlan(p, At(time.Hour)),
		statusEvent("closed", Base, Base, "open"), statusEvent("closed", Base, At(100*m), "resolved"),
		statusEvent("open", Base, Base, "open"), statusEvent("open", Base, At(20*m), "in_progress"))
	strict, err := watchdog.ParsePolicy([]byte("tiers:\n  gold:\n    high:\n      response: 5\n      resolution: 60\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, n, err := s.Replan(t.Context(), "", 10, OutcomePlan(strict, At(2*time.Hour))); err != nil || n != 1 {
		t.Fatalf("Replan visited %d, %v; want the open ticket only", n, err)
	}
	if oc := getTicket(t, s, "open").OpenClocks; oc.Response || !oc.Resolution || !sameInstant(oc.ResolutionBreachAt, TimePtr(At(60*m))) {
		t.Errorf("open ticket's open clocks after the policy change: %+v, want resolution reaching 60m", oc)
	}
	got := outcomesOf(t, s, At(-time.Hour), At(24*time.Hour))
	checkOutcome(t, "open/response", got["open/response"], TimePtr(At(20*m)), 20*m, 30*m, 0, 0, false)
	checkOutcome(t, "closed/resolution", got["closed/resolution"], TimePtr(At(100*m)), 100*m, 180*m, 0, 0, false)
}
