package sqlstore

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

func TestCoarseBinRangeHoldsItsValues(t *testing.T) {
	for _, b := range []int64{0, 1, 299, 300, 3599, 3600, 3601, 7199, 7200, 359999, 360000, 360001, 446399, 446400, 10000000} {
		lo, hi := CoarseBinRange(CoarseBin(b))
		if b < lo || b >= hi {
			t.Errorf("CoarseBin(%d) = %d, whose range [%d, %d) does not hold it", b, CoarseBin(b), lo, hi)
		}
		if b > 0 && CoarseBin(b-1) > CoarseBin(b) {
			t.Errorf("CoarseBin not monotonic at %d", b)
		}
	}
}

// DaySpans covers each period's part of [From, To) exactly once: whole UTC
// days inside one period, the rest as raw spans.
func TestDaySpansCoverTheRangeOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		loc, _ := watchdog.ParseTimeZone([]string{"UTC", "+05:30", "-03:45", "America/New_York", "Asia/Kathmandu"}[i%5])
		from := base.Add(time.Duration(r.Int64N(int64(400 * 24 * time.Hour)))).Truncate(time.Microsecond)
		to := from.Add(time.Duration(r.Int64N(int64(100 * 24 * time.Hour)))).Truncate(time.Microsecond)
		if i%3 == 0 {
			from = from.Truncate(24 * time.Hour)
		}
		q := watchdog.SLAReportQuery{From: from, To: to, Location: loc, GroupBy: [][]string{nil, {"day"}, {"week"}, {"month"}}[i%4]}
		periods, days, raw := DaySpans(q)
		var pieces []Span
		for _, d := range days {
			s := time.Unix(d*86400, 0).UTC()
			p := 0
			for _, ps := range periods {
				if !s.Before(ps.From) && !s.Add(24*time.Hour).After(ps.To) {
					p = ps.Period
				}
			}
			if p == 0 {
				t.Fatalf("%v: day %v lies in no one period of %v", q, s, periods)
			}
			pieces = append(pieces, Span{Period: p, From: s, To: s.Add(24 * time.Hour)})
		}
		pieces = append(pieces, raw...)
		var total time.Duration
		for _, p := range pieces {
			ps := periods[0]
			for _, x := range periods {
				if x.Period == p.Period {
					ps = x
				}
			}
			if p.From.Before(ps.From) || p.To.After(ps.To) || !p.From.Before(p.To) {
				t.Fatalf("%v: piece %v outside its period %v", q, p, ps)
			}
			total += p.To.Sub(p.From)
		}
		if total != to.Sub(from) {
			t.Fatalf("%v: pieces cover %v, want %v", q, total, to.Sub(from))
		}
	}
}
