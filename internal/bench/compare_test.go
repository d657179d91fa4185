package bench

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func run(kind string, ingest, p99Slack float64, once bool) *Report {
	return &Report{Stores: []*StoreReport{{
		Kind:   kind,
		Ingest: &IngestResult{EventsPerS: ingest},
		Lateness: &LatenessResult{
			Slack:       Arrival{Lateness: Latency{P99Ms: p99Slack}},
			WebSocket:   Arrival{Lateness: Latency{P99Ms: p99Slack / 2}},
			ExactlyOnce: once,
		},
	}}}
}

func figure(t *testing.T, c *Comparison, kind, name string) ComparedFigure {
	t.Helper()
	for _, s := range c.Stores {
		if s.Kind != kind {
			continue
		}
		for _, f := range s.Figures {
			if f.Name == name {
				return f
			}
		}
	}
	t.Fatalf("no figure %q for %s", name, kind)
	return ComparedFigure{}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median of nothing is not NaN")
	}
}

// TestCompareJudgesEachDirection holds the verdicts to the 10% rule, for a
// figure where higher is better (ingest) and one where lower is (lateness).
func TestCompareJudgesEachDirection(t *testing.T) {
	base := []*Report{run("postgres", 1000, 500, true), run("postgres", 1200, 300, true), run("postgres", 800, 400, true)}
	for _, tc := range []struct {
		ingest, slack float64
		wantIngest    string
		wantSlack     string
	}{
		{1000, 400, "same", "same"},
		{1101, 359, "better", "better"},
		{901, 439, "same", "same"},
		{899, 441, "worse", "worse"},
	} {
		now := []*Report{run("postgres", tc.ingest, tc.slack, true)}
		c := Compare(base, now)
		if got := figure(t, c, "postgres", "ingest events/s"); got.Verdict != tc.wantIngest {
			t.Errorf("ingest %v against a median of 1000: %q, want %q", tc.ingest, got.Verdict, tc.wantIngest)
		}
		if got := figure(t, c, "postgres", "lateness: Slack p99 ms"); got.Verdict != tc.wantSlack {
			t.Errorf("Slack p99 %v against a median of 400: %q, want %q", tc.slack, got.Verdict, tc.wantSlack)
		}
		worse := c.Worse()
		if want := tc.wantIngest == "worse"; want != slices.Contains(worse, "postgres: ingest events/s") {
			t.Errorf("Worse() = %v", worse)
		}
	}
}

// TestCompareKeepsStoresAndRunsApart checks that each store's figures come
// from its own runs only, that a figure one side lacks is shown but not
// judged, and that exactly once is counted per run.
func TestCompareKeepsStoresAndRunsApart(t *testing.T) {
	sqliteOnly := run("sqlite", 500, 100, true)
	both := run("postgres", 2000, 900, false)
	both.Stores = append(both.Stores, run("sqlite", 700, 50, true).Stores...)
	c := Compare([]*Report{sqliteOnly}, []*Report{both})
	if len(c.Stores) != 2 || c.Stores[0].Kind != "sqlite" || c.Stores[1].Kind != "postgres" {
		t.Fatalf("stores %+v", c.Stores)
	}
	f := figure(t, c, "sqlite", "ingest events/s")
	if len(f.Base) != 1 || f.Base[0] != 500 || len(f.Now) != 1 || f.Now[0] != 700 || f.Verdict != "better" {
		t.Errorf("sqlite ingest %+v", f)
	}
	f = figure(t, c, "postgres", "ingest events/s")
	if len(f.Base) != 0 || f.Verdict != "" || !math.IsNaN(f.Ratio()) {
		t.Errorf("postgres ingest without a baseline: %+v", f)
	}
	pg := c.Stores[1]
	if pg.NowOnce != 0 || pg.NowRuns != 1 || pg.BaseRuns != 0 {
		t.Errorf("postgres exactly once: %d of %d after, %d runs before", pg.NowOnce, pg.NowRuns, pg.BaseRuns)
	}
	var b strings.Builder
	if err := c.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| ingest events/s | **500** (500) | **700** (700) | 1.40 | better |",
		"| ingest events/s | — | **2,000** (2,000) | — |  |",
		"| every stage exactly once | — | 0 of 1 runs | | |",
		"No figure is worse by more than 10%.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		x      float64
		digits int
		want   string
	}{
		{1234567.891, 0, "1,234,568"},
		{999, 0, "999"},
		{1000, 1, "1,000.0"},
		{-2500.25, 2, "-2,500.25"},
		{-0.001, 1, "0.0"},
		{0.376, 3, "0.376"},
	} {
		if got := number(tc.x, tc.digits); got != tc.want {
			t.Errorf("number(%v, %d) = %q, want %q", tc.x, tc.digits, got, tc.want)
		}
	}
}
