package storetest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// cyclePolicy is an SLA file with a policy for tickets tagged vip (next
// reply after nextReply) before the seed's gold/high tier (response 30m,
// resolution 3h).
func cyclePolicy(t *testing.T, nextReply string) *watchdog.Policy {
	t.Helper()
	p, err := watchdog.ParsePolicy([]byte("policies:\n  - name: vip\n    match: {tags: vip}\n" +
		"    targets: {response: 30m, next_reply: " + nextReply + ", resolution: 8h}\n" +
		"tiers:\n  gold:\n    high:\n      response: 30\n      resolution: 180\n"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cycleOutcomes lists every outcome of [At(-1h), At(24h)) one a line,
// sorted: ticket, clock, ordinal, start, stop, business, target, overrun,
// result, policy.
func cycleOutcomes(t *testing.T, s watchdog.Store) string {
	t.Helper()
	q := watchdog.SLAReportQuery{From: At(-time.Hour), To: At(24 * time.Hour), Now: At(24 * time.Hour)}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	seen := map[watchdog.OutcomeKey]map[string]bool{}
	if err := s.SLAOutcomes(t.Context(), q, func(o *watchdog.Outcome) error {
		k := o.Key()
		if seen[k] == nil {
			seen[k] = map[string]bool{}
		}
		if seen[k][o.TicketID] {
			t.Errorf("outcome %s %v listed twice", o.TicketID, k)
		}
		seen[k][o.TicketID] = true
		stop := "-"
		if o.StoppedAt != nil {
			stop = o.StoppedAt.Sub(Base).String()
		}
		lines = append(lines, fmt.Sprintf("%s %s #%d %s..%s business=%s target=%s past=%s %s %s", o.TicketID, o.SLAClock, o.Cycle,
			o.StartedAt.Sub(Base), stop, o.Business, o.Target, o.Overrun, o.Result(), o.Policy))
		return nil
	}); err != nil {
		t.Fatalf("SLAOutcomes: %v", err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// testOutcomesCyclesPolicy: outcomes carry the policy in force, one per
// next-reply cycle, keyed by the cycle's start: a late message that
// inserts an earlier cycle renumbers the later ones without duplicating
// them, a stopped cycle keeps its recorded target under a new policy file,
// and a late message that moves a cycle's start continues its row. Reports
// group by policy. Hand-computed on a 24x7 calendar.
func testOutcomesCyclesPolicy(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	m := time.Minute
	now := At(10 * time.Hour)
	// v (tagged vip): first response by the agent at 10m (response met,
	// 10m); next-reply cycles [20m, 50m) met in 30m and [60m, 200m) missed
	// (140m against 1h: 80m past); resolution still running, past its 8h
	// at now. g (gold/high by the tiers table): response met at 10m,
	// resolution missed at 200m (20m past 3h).
	v := NewEvent("v", 0)
	v.Tags = []string{"vip"}
	v.Messages = []watchdog.Message{agent(10 * m), customer(20 * m), agent(50 * m), customer(60 * m), agent(200 * m)}
	ingest(t, s, OutcomePlan(cyclePolicy(t, "1h"), now), v,
		statusEvent("g", Base, Base, "open"), statusEvent("g", Base, At(10*m), "in_progress"), statusEvent("g", Base, At(200*m), "resolved"))
	want := strings.Join([]string{
		"g resolution #0 0s..3h20m0s business=3h20m0s target=3h0m0s past=20m0s missed tiers.gold.high",
		"g response #0 0s..10m0s business=10m0s target=30m0s past=0s met tiers.gold.high",
		"v next_reply #1 20m0s..50m0s business=30m0s target=1h0m0s past=0s met vip",
		"v next_reply #2 1h0m0s..3h20m0s business=2h20m0s target=1h0m0s past=1h20m0s missed vip",
		"v response #0 0s..10m0s business=10m0s target=30m0s past=0s met vip",
	}, "\n")
	if got := cycleOutcomes(t, s); got != want {
		t.Errorf("outcomes:\n%s\nwant:\n%s", got, want)
	}

	// Late messages insert an earlier cycle [12m, 15m), under a file whose
	// next reply is 2h: the new cycle has 2h; the stopped ones keep 1h and
	// their rows, renumbered 2 and 3.
	late := NewEvent("v", time.Hour)
	late.Messages = []watchdog.Message{customer(12 * m), agent(15 * m)}
	ingest(t, s, OutcomePlan(cyclePolicy(t, "2h"), now), late)
	want = strings.Join([]string{
		"g resolution #0 0s..3h20m0s business=3h20m0s target=3h0m0s past=20m0s missed tiers.gold.high",
		"g response #0 0s..10m0s business=10m0s target=30m0s past=0s met tiers.gold.high",
		"v next_reply #1 12m0s..15m0s business=3m0s target=2h0m0s past=0s met vip",
		"v next_reply #2 20m0s..50m0s business=30m0s target=1h0m0s past=0s met vip",
		"v next_reply #3 1h0m0s..3h20m0s business=2h20m0s target=1h0m0s past=1h20m0s missed vip",
		"v response #0 0s..10m0s business=10m0s target=30m0s past=0s met vip",
	}, "\n")
	if got := cycleOutcomes(t, s); got != want {
		t.Errorf("after a late message inserting an earlier cycle:\n%s\nwant:\n%s", got, want)
	}

	// A late customer message at 18m moves the second cycle's start: its
	// row (recorded 1h target) is continued under the new key, not doubled.
	moved := NewEvent("v", 2*time.Hour)
	moved.Messages = []watchdog.Message{customer(18 * m)}
	ingest(t, s, OutcomePlan(cyclePolicy(t, "2h"), now), moved)
	want = strings.Replace(want, "v next_reply #2 20m0s..50m0s business=30m0s", "v next_reply #2 18m0s..50m0s business=32m0s", 1)
	if got := cycleOutcomes(t, s); got != want {
		t.Errorf("after a late message moving a cycle's start:\n%s\nwant:\n%s", got, want)
	}

	// By policy and clock: next_reply 180s, 1920s, 8400s (nearest rank:
	// p50 the 2nd, p90 the 3rd); v's resolution is open, past its 8h at
	// now, counted under its policy from the ticket's row.
	q := watchdog.SLAReportQuery{From: At(-time.Hour), To: At(24 * time.Hour), Now: now, GroupBy: []string{"policy", "sla_type"}}
	wantReport := "- tiers.gold.high //resolution/ stopped=1 met=0 missed=1 achieved=0 open=0 open_breached=0 p50=12000 p90=12000 past=1200 avg_past=1200\n" +
		"- tiers.gold.high //response/ stopped=1 met=1 missed=0 achieved=100 open=0 open_breached=0 p50=600 p90=600 past=0 avg_past=null\n" +
		"- vip //next_reply/ stopped=3 met=2 missed=1 achieved=66.67 open=0 open_breached=0 p50=1920 p90=8400 past=4800 avg_past=4800\n" +
		"- vip //resolution/ stopped=0 met=0 missed=0 achieved=null open=1 open_breached=1 p50=null p90=null past=0 avg_past=null\n" +
		"- vip //response/ stopped=1 met=1 missed=0 achieved=100 open=0 open_breached=0 p50=600 p90=600 past=0 avg_past=null\n"
	if got := report(t, s, q); got != wantReport {
		t.Errorf("report by policy and sla_type:\n%s\nwant:\n%s", got, wantReport)
	}
	// The same over whole UTC days, which a store may read from a roll-up
	// rather than from the rows: the moved cycle's old row must be gone
	// from it too (a deleted outcome row), and the inserted cycle in it.
	days := q
	days.From = Base.Truncate(24 * time.Hour).Add(-24 * time.Hour)
	days.To = days.From.Add(72 * time.Hour)
	if got := report(t, s, days); got != wantReport {
		t.Errorf("report by policy and sla_type over whole days:\n%s\nwant:\n%s", got, wantReport)
	}
	q.GroupBy = []string{"policy"}
	wantReport = "- tiers.gold.high /// stopped=2 met=1 missed=1 achieved=50 open=0 open_breached=0 p50=600 p90=12000 past=1200 avg_past=1200\n" +
		"- vip /// stopped=4 met=3 missed=1 achieved=75 open=1 open_breached=1 p50=600 p90=8400 past=4800 avg_past=4800\n"
	if got := report(t, s, q); got != wantReport {
		t.Errorf("report by policy:\n%s\nwant:\n%s", got, wantReport)
	}
}
