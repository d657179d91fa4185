package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// testOutcomesReportMatchesRows: reports over random outcomes spread over
// months, in zones whose periods start inside a UTC day (+05:30, -03:45,
// New York across its DST change), by stop and by start, equal the same
// report aggregated by hand from the outcome rows themselves (SLAOutcomes);
// also after a second ingest moves, re-times and re-judges a third of them
// (the stores' roll-ups must follow).
func testOutcomesReportMatchesRows(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	r := rand.New(rand.NewPCG(15, 1))
	start := time.Date(2025, 9, 20, 7, 13, 0, 0, time.UTC)
	const tickets = 300
	outcomes := map[string][]watchdog.Outcome{}
	plan := func(t *watchdog.Ticket) watchdog.Plan {
		return watchdog.Plan{State: watchdog.TicketOK, Outcomes: outcomes[t.ID]}
	}
	gen := func(id string, created time.Time) []watchdog.Outcome {
		var os []watchdog.Outcome
		for _, clock := range []watchdog.SLAClock{watchdog.Response, watchdog.Resolution} {
			// Business times in each kind of roll-up bin: minutes, hours, days.
			business := time.Duration([]int64{r.Int64N(3600), r.Int64N(360000), r.Int64N(2000000)}[r.IntN(3)]) * time.Second
			stop := created.Add(time.Duration(r.Int64N(int64(50 * time.Hour))))
			if r.IntN(4) == 0 { // stops on a midnight in some zone
				stop = stop.Truncate(15 * time.Minute)
			}
			target := time.Duration(r.Int64N(200000)) * time.Second
			o := watchdog.Outcome{TicketID: id, SLAClock: clock, Policy: "p" + fmt.Sprint(r.IntN(2)), Tier: []string{"gold", "silver", "bronze"}[r.IntN(3)],
				Priority: []string{"high", "low"}[r.IntN(2)], Calendar: []string{"24x7", "office"}[r.IntN(2)], Target: target,
				StartedAt: created, StoppedAt: &stop, Business: business, RecordedAt: &stop}
			if business > target {
				breach := created.Add(target)
				o.Breached, o.BreachAt, o.Overrun = true, &breach, business-target
			}
			os = append(os, o)
		}
		return os
	}
	var events []watchdog.Event
	for i := range tickets {
		id := fmt.Sprintf("rr-%03d", i)
		created := start.Add(time.Duration(r.Int64N(int64(75 * 24 * time.Hour))))
		outcomes[id] = gen(id, created)
		events = append(events, statusEvent(id, created, created, "resolved"))
	}
	ingest(t, s, plan, events...)
	checkReportsMatchRows(t, s, r, start)
	// A third re-recorded: new stops, business times and results.
	events = events[:0]
	for i := 0; i < tickets; i += 3 {
		id := fmt.Sprintf("rr-%03d", i)
		created := outcomes[id][0].StartedAt
		outcomes[id] = gen(id, created)
		events = append(events, statusEvent(id, created, created.Add(time.Minute), "resolved"))
	}
	ingest(t, s, plan, events...)
	checkReportsMatchRows(t, s, r, start)
}

func checkReportsMatchRows(t *testing.T, s watchdog.Store, r *rand.Rand, start time.Time) {
	t.Helper()
	zones := []string{"UTC", "+05:30", "-03:45", "America/New_York", "Europe/Berlin"}
	groupings := [][]string{nil, {"week"}, {"day", "tier"}, {"month", "sla_type", "priority"}, {"tier", "calendar", "policy"}, {"month"}}
	for i := range 24 {
		loc, err := watchdog.ParseTimeZone(zones[i%len(zones)])
		if err != nil {
			t.Fatal(err)
		}
		from := start.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		to := from.Add(time.Duration(r.Int64N(int64(60 * 24 * time.Hour))))
		if i%2 == 0 { // from and to at midnight in the zone
			f, e := from.In(loc), to.In(loc)
			from, to = time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc), time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, loc)
		}
		q := watchdog.SLAReportQuery{From: from, To: to, Location: loc, GroupBy: groupings[i%len(groupings)], Now: to}
		if i%4 == 3 {
			q.By = watchdog.ByStarted
		}
		if err := q.Validate(); err != nil {
			t.Fatal(err)
		}
		want, n := reportFromRows(t, s, q)
		watchdog.SortSLAReport(want)
		var w string
		for _, row := range want {
			w += FormatReportRow(row) + "\n"
		}
		if got := report(t, s, q); got != w {
			t.Errorf("report %d (%s, %v, by %s, %s..%s, %d outcomes):\n%s\nwant (from the rows):\n%s", i, loc, q.GroupBy, q.By,
				q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), n, got, w)
		}
	}
}

// reportFromRows aggregates the outcome rows q selects (SLAOutcomes) by
// hand, sorting each group's business times; it returns the rows and how
// many outcomes it read.
func reportFromRows(t *testing.T, s watchdog.Store, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, int) {
	t.Helper()
	bounds := q.Bounds()
	type group struct {
		row      watchdog.SLAReportRow
		business []int64
	}
	groups := map[watchdog.SLAReportRow]*group{}
	n := 0
	if err := s.SLAOutcomes(t.Context(), q, func(o *watchdog.Outcome) error {
		n++
		at := o.StartedAt
		if q.By == watchdog.ByStopped && o.StoppedAt != nil {
			at = *o.StoppedAt
		}
		var k watchdog.SLAReportRow
		for key, dst := range map[string]*string{"policy": &k.Policy, "tier": &k.Tier, "priority": &k.Priority, "calendar": &k.Calendar} {
			if q.Groups(key) {
				*dst = map[string]string{"policy": o.Policy, "tier": o.Tier, "priority": o.Priority, "calendar": o.Calendar}[key]
			}
		}
		if q.Groups("sla_type") {
			k.SLAType = string(o.SLAClock)
		}
		var period time.Time
		if q.Period() != "" {
			for _, b := range bounds {
				if !b.After(at) {
					period = b
				}
			}
			k.Period = &period
		}
		gk := k
		gk.Period = nil
		gk.Stopped = int(period.Unix()) // the period as part of the map key
		g := groups[gk]
		if g == nil {
			g = &group{row: k}
			groups[gk] = g
		}
		switch {
		case o.StoppedAt == nil:
			g.row.Open++
			if o.BreachAt != nil && !o.BreachAt.After(q.Now) {
				g.row.OpenBreached++
			}
		default:
			g.row.Stopped++
			if o.Breached {
				g.row.PastTargetSeconds += int64(o.Overrun / time.Second)
			} else {
				g.row.Met++
			}
			g.business = append(g.business, int64(o.Business/time.Second))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var out []watchdog.SLAReportRow
	for _, g := range groups {
		if len(g.business) > 0 {
			slices.Sort(g.business)
			p50, p90 := watchdog.NearestRank(g.business, 0.5), watchdog.NearestRank(g.business, 0.9)
			g.row.P50Seconds, g.row.P90Seconds = &p50, &p90
		}
		g.row.Finish()
		out = append(out, g.row)
	}
	return out, n
}
