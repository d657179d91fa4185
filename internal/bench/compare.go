package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A measure is one figure a run reports, for comparing runs: how to read
// it from a store's report, and which way is better.
type measure struct {
	name string
	// better is +1 when higher is better, -1 when lower is better, and 0
	// for a measure of the machine rather than of the product (the raw
	// COPY ceiling), which is shown but not judged.
	better int
	// digits after the decimal point when printed.
	digits int
	get    func(*StoreReport) (float64, bool)
}

func p99(l *Latency) float64 { return l.P99Ms }

// measures are the figures of BENCHMARKS.md, in the order of its table.
var measures = slices.Concat([]measure{
	{"ingest events/s", +1, 0, func(s *StoreReport) (float64, bool) {
		if s.Ingest == nil {
			return 0, false
		}
		return s.Ingest.EventsPerS, true
	}},
	{"ingest request p99 ms", -1, 1, func(s *StoreReport) (float64, bool) {
		if s.Ingest == nil {
			return 0, false
		}
		return p99(&s.Ingest.Request), true
	}},
	{"ingest server RSS peak MB", -1, 0, func(s *StoreReport) (float64, bool) {
		if s.Ingest == nil || s.Ingest.Memory == nil {
			return 0, false
		}
		return s.Ingest.Memory.PeakMB, true
	}},
	{"raw COPY rows/s (the machine)", 0, 0, func(s *StoreReport) (float64, bool) {
		if s.Ceiling == nil {
			return 0, false
		}
		return s.Ceiling.RowsPerS, true
	}},
	{"ingest ÷ raw COPY", +1, 3, func(s *StoreReport) (float64, bool) {
		if s.Ingest == nil || s.Ceiling == nil || s.Ceiling.RowsPerS <= 0 {
			return 0, false
		}
		// Computed rather than read from IngestRatio, which is rounded to
		// two digits.
		return s.Ingest.EventsPerS / s.Ceiling.RowsPerS, true
	}},
	{"scheduler µs per due ticket, small store", -1, 1, func(s *StoreReport) (float64, bool) {
		if s.SchedulerSmall == nil {
			return 0, false
		}
		return s.SchedulerSmall.PerTicketUs, true
	}},
	{"preload tickets/s", +1, 0, func(s *StoreReport) (float64, bool) {
		if s.Preload == nil {
			return 0, false
		}
		return s.Preload.RowsPerS, true
	}},
	{"scheduler µs per due ticket, full store", -1, 1, func(s *StoreReport) (float64, bool) {
		if s.Scheduler == nil {
			return 0, false
		}
		return s.Scheduler.PerTicketUs, true
	}},
	{"watchdogd start on the preloaded store s", -1, 1, func(s *StoreReport) (float64, bool) {
		return s.ServerReadyS, s.ServerReadyS > 0 && s.Preload != nil
	}},
	{"dashboard p99 ms", -1, 2, func(s *StoreReport) (float64, bool) {
		if s.Reads == nil {
			return 0, false
		}
		return p99(&s.Reads.Dashboard), true
	}},
	{"ticket p99 ms", -1, 2, func(s *StoreReport) (float64, bool) {
		if s.Reads == nil {
			return 0, false
		}
		return p99(&s.Reads.Ticket), true
	}},
	{"queue page p99 ms", -1, 2, func(s *StoreReport) (float64, bool) {
		if s.Reads == nil {
			return 0, false
		}
		return p99(&s.Reads.Queue), true
	}},
}, latenessMeasures("lateness", func(s *StoreReport) *LatenessResult { return s.Lateness }),
	latenessMeasures("lateness, half next-reply", func(s *StoreReport) *LatenessResult { return s.LatenessCycles }),
	[]measure{
		{"evaluation pass mean ms (lateness)", -1, 1, func(s *StoreReport) (float64, bool) {
			if s.Lateness == nil || s.Lateness.EvalPasses == 0 {
				return 0, false
			}
			return s.Lateness.EvalMeanMs, true
		}},
	}, latenessMeasures("lateness under a bulk import", func(s *StoreReport) *LatenessResult {
		if s.BulkLateness == nil {
			return nil
		}
		return s.BulkLateness.Lateness
	}),
	[]measure{
		{"bulk import events/s during that run", +1, 0, func(s *StoreReport) (float64, bool) {
			if s.BulkLateness == nil || s.BulkLateness.Bulk == nil {
				return 0, false
			}
			return s.BulkLateness.Bulk.DuringPerS, true
		}},
		{"— of its target", +1, 2, func(s *StoreReport) (float64, bool) {
			if s.BulkLateness == nil || s.BulkLateness.Bulk == nil || s.BulkLateness.Bulk.TargetPerS <= 0 {
				return 0, false
			}
			b := s.BulkLateness.Bulk
			return b.DuringPerS / b.TargetPerS, true
		}},
		{"catch-up: stages recorded/s", +1, 0, func(s *StoreReport) (float64, bool) {
			if s.CatchUp == nil {
				return 0, false
			}
			return s.CatchUp.StagesPerS, true
		}},
		{"catch-up: import s", -1, 1, func(s *StoreReport) (float64, bool) {
			if s.CatchUp == nil {
				return 0, false
			}
			return s.CatchUp.ImportS, true
		}},
		{"catch-up: every stage on Slack, s after the last batch", -1, 1, func(s *StoreReport) (float64, bool) {
			if s.CatchUp == nil {
				return 0, false
			}
			return s.CatchUp.Slack.Lateness.MaxMs / 1000, true
		}},
		{"catch-up: every stage on the WebSocket, s after the last batch", -1, 1, func(s *StoreReport) (float64, bool) {
			if s.CatchUp == nil {
				return 0, false
			}
			return s.CatchUp.WebSocket.Lateness.MaxMs / 1000, true
		}},
		{"drain s", -1, 0, func(s *StoreReport) (float64, bool) {
			if s.Drain == nil {
				return 0, false
			}
			return s.Drain.DrainS, true
		}},
		{"outcome backfill s", -1, 1, func(s *StoreReport) (float64, bool) {
			if s.Reports == nil {
				return 0, false
			}
			return s.Reports.BackfillS, true
		}},
		{"report 30 d p99 ms", -1, 0, func(s *StoreReport) (float64, bool) {
			if s.Reports == nil {
				return 0, false
			}
			return p99(&s.Reports.Week30), true
		}},
		{"report 365 d p99 ms", -1, 0, func(s *StoreReport) (float64, bool) {
			if s.Reports == nil {
				return 0, false
			}
			return p99(&s.Reports.Month365), true
		}},
		{"CSV export rows/s", +1, 0, func(s *StoreReport) (float64, bool) {
			if s.Reports == nil || s.Reports.Export == nil {
				return 0, false
			}
			return s.Reports.Export.RowsPerS, true
		}},
		{"CSV export RSS at most MB", -1, 0, func(s *StoreReport) (float64, bool) {
			if s.Reports == nil || s.Reports.Export == nil {
				return 0, false
			}
			return s.Reports.Export.RSSMaxMB, true
		}},
		{"scale + lateness RSS peak MB", -1, 0, func(s *StoreReport) (float64, bool) {
			if s.ScaleMemory == nil {
				return 0, false
			}
			return s.ScaleMemory.PeakMB, true
		}},
	})

// latenessMeasures are a lateness run's Slack and WebSocket p99.
func latenessMeasures(name string, of func(*StoreReport) *LatenessResult) []measure {
	arrival := func(channel string, pick func(*LatenessResult) *Arrival) measure {
		return measure{name: name + ": " + channel + " p99 ms", better: -1, get: func(s *StoreReport) (float64, bool) {
			l := of(s)
			if l == nil {
				return 0, false
			}
			return pick(l).Lateness.P99Ms, true
		}}
	}
	return []measure{
		arrival("Slack", func(l *LatenessResult) *Arrival { return &l.Slack }),
		arrival("WebSocket", func(l *LatenessResult) *Arrival { return &l.WebSocket }),
	}
}

// Tolerance is how far a figure may move the wrong way before a comparison
// calls it worse: the "within 10% of its baseline".
const Tolerance = 0.10

// Comparison sets the medians of one set of runs beside those of another,
// figure by figure and store by store.
type Comparison struct {
	Base, Now []*Report
	Stores    []StoreComparison
}

// StoreComparison is one store's figures in a Comparison.
type StoreComparison struct {
	Kind    string
	Figures []ComparedFigure
	// BaseOnce and NowOnce count the runs whose every measured stage
	// arrived exactly once, of BaseRuns and NowRuns with any.
	BaseOnce, BaseRuns, NowOnce, NowRuns int
}

// ComparedFigure is one figure's runs on both sides.
type ComparedFigure struct {
	Name   string
	Better int
	digits int
	// Base and Now are the figure in each run that has it, in run order.
	Base, Now []float64
	// Verdict: "better", "same" (within Tolerance), "worse", or "" when
	// a side lacks the figure or it is not judged.
	Verdict string
}

// Median is the middle of xs (the mean of the middle two for an even
// count); NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Ratio is the median now over the median before; NaN when either lacks it.
func (f *ComparedFigure) Ratio() float64 {
	b, n := Median(f.Base), Median(f.Now)
	if math.IsNaN(b) || math.IsNaN(n) || b == 0 {
		return math.NaN()
	}
	return n / b
}

func (f *ComparedFigure) judge() {
	r := f.Ratio()
	if f.Better == 0 || math.IsNaN(r) {
		f.Verdict = ""
		return
	}
	// Both ways are judged against the baseline: higher is better means
	// worse below 90% of it, lower is better means worse above 110%.
	up, down := "better", "worse"
	if f.Better < 0 {
		up, down = down, up
	}
	switch {
	case r > 1+Tolerance:
		f.Verdict = up
	case r < 1-Tolerance:
		f.Verdict = down
	default:
		f.Verdict = "same"
	}
}

// Compare reads every figure of base and now, per store kind, in the
// order the stores first appear.
func Compare(base, now []*Report) *Comparison {
	c := &Comparison{Base: base, Now: now}
	var kinds []string
	for _, r := range slices.Concat(base, now) {
		for _, s := range r.Stores {
			if !slices.Contains(kinds, s.Kind) {
				kinds = append(kinds, s.Kind)
			}
		}
	}
	for _, kind := range kinds {
		sc := StoreComparison{Kind: kind}
		bases, nows := storesOf(base, kind), storesOf(now, kind)
		for _, m := range measures {
			f := ComparedFigure{Name: m.name, Better: m.better, digits: m.digits, Base: values(bases, m), Now: values(nows, m)}
			if len(f.Base) == 0 && len(f.Now) == 0 {
				continue
			}
			f.judge()
			sc.Figures = append(sc.Figures, f)
		}
		sc.BaseOnce, sc.BaseRuns = onceRuns(bases)
		sc.NowOnce, sc.NowRuns = onceRuns(nows)
		c.Stores = append(c.Stores, sc)
	}
	return c
}

func storesOf(runs []*Report, kind string) []*StoreReport {
	var out []*StoreReport
	for _, r := range runs {
		for _, s := range r.Stores {
			if s.Kind == kind {
				out = append(out, s)
			}
		}
	}
	return out
}

func values(stores []*StoreReport, m measure) []float64 {
	var out []float64
	for _, s := range stores {
		if v, ok := m.get(s); ok && !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// onceRuns counts the runs that delivered every stage exactly once in every
// mode that checks it, of those that ran any such mode.
func onceRuns(stores []*StoreReport) (once, runs int) {
	for _, s := range stores {
		var checks []bool
		for _, l := range []*LatenessResult{s.Lateness, s.LatenessCycles} {
			if l != nil {
				checks = append(checks, l.ExactlyOnce)
			}
		}
		if s.BulkLateness != nil && s.BulkLateness.Lateness != nil {
			checks = append(checks, s.BulkLateness.Lateness.ExactlyOnce)
		}
		if s.CatchUp != nil {
			checks = append(checks, s.CatchUp.ExactlyOnce)
		}
		if s.Drain != nil {
			checks = append(checks, s.Drain.ExactlyOnce)
		}
		if len(checks) == 0 {
			continue
		}
		runs++
		if !slices.Contains(checks, false) {
			once++
		}
	}
	return once, runs
}

// Worse lists the figures, as "store: name", that moved the wrong way by
// more than Tolerance.
func (c *Comparison) Worse() []string {
	var out []string
	for _, s := range c.Stores {
		for _, f := range s.Figures {
			if f.Verdict == "worse" {
				out = append(out, s.Kind+": "+f.Name)
			}
		}
	}
	return out
}

// WriteMarkdown writes the comparison as one table per store: each side's
// median with its runs, the ratio, and the verdict.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Medians of %d run(s) before and %d after; every run in brackets, in the order given.\n", len(c.Base), len(c.Now))
	fmt.Fprintf(bw, "A figure is \"worse\" when it moved the wrong way by more than %.0f%% of its median before,\n", 100*Tolerance)
	fmt.Fprintf(bw, "\"better\" when it moved the right way by more, \"same\" otherwise.\n\n")
	for _, side := range []struct {
		name string
		runs []*Report
	}{{"before", c.Base}, {"after", c.Now}} {
		for i, r := range side.runs {
			fmt.Fprintf(bw, "- %s, run %d: `%s`, started %s on %d CPUs (%s), load %s → %s\n", side.name, i+1,
				r.Command, r.Started.UTC().Format("2006-01-02 15:04"), r.Machine.CPUs, r.Machine.CPUModel, r.Machine.LoadStart, r.Machine.LoadEnd)
		}
	}
	for _, s := range c.Stores {
		fmt.Fprintf(bw, "\n### %s\n\n| figure | before | after | after ÷ before | |\n|---|---|---|---|---|\n", s.Kind)
		for _, f := range s.Figures {
			ratio := "—"
			if r := f.Ratio(); !math.IsNaN(r) {
				ratio = strconv.FormatFloat(r, 'f', 2, 64)
			}
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s |\n", f.Name, cell(f.Base, f.digits), cell(f.Now, f.digits), ratio, f.Verdict)
		}
		if s.BaseRuns+s.NowRuns > 0 {
			fmt.Fprintf(bw, "| every stage exactly once | %s | %s | | |\n", onceCell(s.BaseOnce, s.BaseRuns), onceCell(s.NowOnce, s.NowRuns))
		}
	}
	if worse := c.Worse(); len(worse) > 0 {
		fmt.Fprintf(bw, "\nWorse by more than %.0f%%: %s.\n", 100*Tolerance, strings.Join(worse, "; "))
	} else {
		fmt.Fprintf(bw, "\nNo figure is worse by more than %.0f%%.\n", 100*Tolerance)
	}
	return bw.Flush()
}

func cell(xs []float64, digits int) string {
	if len(xs) == 0 {
		return "—"
	}
	runs := make([]string, len(xs))
	for i, x := range xs {
		runs[i] = number(x, digits)
	}
	return "**" + number(Median(xs), digits) + "** (" + strings.Join(runs, ", ") + ")"
}

func onceCell(once, runs int) string {
	if runs == 0 {
		return "—"
	}
	return fmt.Sprintf("%d of %d runs", once, runs)
}

// number formats x with digits decimals and thousands separators.
func number(x float64, digits int) string {
	s := strconv.FormatFloat(math.Abs(x), 'f', digits, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if x < 0 && s != strconv.FormatFloat(0, 'f', digits, 64) {
		b.WriteByte('-')
	}
	for i, d := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}
