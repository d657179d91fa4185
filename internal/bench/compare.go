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

// from reads a figure from one part of a store's report, when the run has
// that part.
func from[T any](part func(*StoreReport) *T, value func(*T) float64) func(*StoreReport) (float64, bool) {
	return func(s *StoreReport) (float64, bool) {
		p := part(s)
		if p == nil {
			return 0, false
		}
		return value(p), true
	}
}

// The parts of a store's report the measures read.
var (
	ingestPart  = func(s *StoreReport) *IngestResult { return s.Ingest }
	ceilingPart = func(s *StoreReport) *CeilingResult { return s.Ceiling }
	readsPart   = func(s *StoreReport) *ReadsResult { return s.Reads }
	catchUpPart = func(s *StoreReport) *CatchupResult { return s.CatchUp }
	reportsPart = func(s *StoreReport) *ReportsResult { return s.Reports }
	exportPart  = func(s *StoreReport) *ExportResult {
		return ifNotNil(s.Reports, func(r *ReportsResult) *ExportResult { return r.Export })
	}
	bulkInPart = func(s *StoreReport) *BulkIngestResult {
		return ifNotNil(s.BulkLateness, func(b *BulkLatenessResult) *BulkIngestResult { return b.Bulk })
	}
	bulkLatePart = func(s *StoreReport) *LatenessResult {
		return ifNotNil(s.BulkLateness, func(b *BulkLatenessResult) *LatenessResult { return b.Lateness })
	}
	ingestMemPart = func(s *StoreReport) *Memory {
		return ifNotNil(s.Ingest, func(i *IngestResult) *Memory { return i.Memory })
	}
)

// ifNotNil is f(p), or nil when p is.
func ifNotNil[T, U any](p *T, f func(*T) *U) *U {
	if p == nil {
		return nil
	}
	return f(p)
}

// measures are the figures of BENCHMARKS.md, in the order of its table.
var measures = slices.Concat([]measure{
	{"ingest events/s", +1, 0, from(ingestPart, func(i *IngestResult) float64 { return i.EventsPerS })},
	{"ingest request p99 ms", -1, 1, from(ingestPart, func(i *IngestResult) float64 { return i.Request.P99Ms })},
	{"ingest server RSS peak MB", -1, 0, from(ingestMemPart, func(m *Memory) float64 { return m.PeakMB })},
	{"raw COPY rows/s (the machine)", 0, 0, from(ceilingPart, func(c *CeilingResult) float64 { return c.RowsPerS })},
	// Computed rather than read from IngestRatio, which is rounded to two
	// digits.
	{"ingest ÷ raw COPY", +1, 3, func(s *StoreReport) (float64, bool) {
		if s.Ingest == nil || s.Ceiling == nil || s.Ceiling.RowsPerS <= 0 {
			return 0, false
		}
		return s.Ingest.EventsPerS / s.Ceiling.RowsPerS, true
	}},
	{"scheduler µs per due ticket, small store", -1, 1,
		from(func(s *StoreReport) *SchedulerResult { return s.SchedulerSmall }, func(r *SchedulerResult) float64 { return r.PerTicketUs })},
	{"preload tickets/s", +1, 0, from(func(s *StoreReport) *PreloadResult { return s.Preload }, func(p *PreloadResult) float64 { return p.RowsPerS })},
	{"scheduler µs per due ticket, full store", -1, 1,
		from(func(s *StoreReport) *SchedulerResult { return s.Scheduler }, func(r *SchedulerResult) float64 { return r.PerTicketUs })},
	{"watchdogd start on the preloaded store s", -1, 1, func(s *StoreReport) (float64, bool) {
		return s.ServerReadyS, s.ServerReadyS > 0 && s.Preload != nil
	}},
	{"dashboard p99 ms", -1, 2, from(readsPart, func(r *ReadsResult) float64 { return r.Dashboard.P99Ms })},
	{"ticket p99 ms", -1, 2, from(readsPart, func(r *ReadsResult) float64 { return r.Ticket.P99Ms })},
	{"queue page p99 ms", -1, 2, from(readsPart, func(r *ReadsResult) float64 { return r.Queue.P99Ms })},
}, latenessMeasures("lateness", func(s *StoreReport) *LatenessResult { return s.Lateness }),
	cpuMeasures("lateness", func(s *StoreReport) *LatenessResult { return s.Lateness }),
	latenessMeasures("lateness, half next-reply", func(s *StoreReport) *LatenessResult { return s.LatenessCycles }),
	cpuMeasures("lateness, half next-reply", func(s *StoreReport) *LatenessResult { return s.LatenessCycles }),
	[]measure{
		{"evaluation pass mean ms (lateness)", -1, 1, func(s *StoreReport) (float64, bool) {
			if s.Lateness == nil || s.Lateness.EvalPasses == 0 {
				return 0, false
			}
			return s.Lateness.EvalMeanMs, true
		}},
	}, latenessMeasures("lateness under a bulk import", bulkLatePart),
	[]measure{
		{"bulk import events/s during that run", +1, 0, from(bulkInPart, func(b *BulkIngestResult) float64 { return b.DuringPerS })},
		{"— of its target", +1, 2, func(s *StoreReport) (float64, bool) {
			b := bulkInPart(s)
			if b == nil || b.TargetPerS <= 0 {
				return 0, false
			}
			return b.DuringPerS / b.TargetPerS, true
		}},
		{"catch-up: stages recorded/s", +1, 0, from(catchUpPart, func(c *CatchupResult) float64 { return c.StagesPerS })},
		{"catch-up: import s", -1, 1, from(catchUpPart, func(c *CatchupResult) float64 { return c.ImportS })},
		{"catch-up: every stage on Slack, s after the last batch", -1, 1, from(catchUpPart, func(c *CatchupResult) float64 { return c.Slack.Lateness.MaxMs / 1000 })},
		{"catch-up: every stage on the WebSocket, s after the last batch", -1, 1, from(catchUpPart, func(c *CatchupResult) float64 { return c.WebSocket.Lateness.MaxMs / 1000 })},
		{"drain s", -1, 0, from(func(s *StoreReport) *DrainResult { return s.Drain }, func(d *DrainResult) float64 { return d.DrainS })},
		{"outcome backfill s", -1, 1, from(reportsPart, func(r *ReportsResult) float64 { return r.BackfillS })},
		{"report 30 d p99 ms", -1, 0, from(reportsPart, func(r *ReportsResult) float64 { return r.Week30.P99Ms })},
		{"report 365 d p99 ms", -1, 0, from(reportsPart, func(r *ReportsResult) float64 { return r.Month365.P99Ms })},
		{"CSV export rows/s", +1, 0, from(exportPart, func(e *ExportResult) float64 { return e.RowsPerS })},
		{"CSV export RSS at most MB", -1, 0, from(exportPart, func(e *ExportResult) float64 { return e.RSSMaxMB })},
		{"scale + lateness RSS peak MB", -1, 0, from(func(s *StoreReport) *Memory { return s.ScaleMemory }, func(m *Memory) float64 { return m.PeakMB })},
	})

// latenessMeasures are a lateness run's Slack and WebSocket p99.
func latenessMeasures(name string, of func(*StoreReport) *LatenessResult) []measure {
	return []measure{
		{name + ": Slack p99 ms", -1, 0, from(of, func(l *LatenessResult) float64 { return l.Slack.Lateness.P99Ms })},
		{name + ": WebSocket p99 ms", -1, 0, from(of, func(l *LatenessResult) float64 { return l.WebSocket.Lateness.P99Ms })},
	}
}

// cpuMeasures are a lateness run's CPU per 1,000 stages: the server's and
// every other process's but the harness (the database server's, for
// PostgreSQL).
func cpuMeasures(name string, of func(*StoreReport) *LatenessResult) []measure {
	cpu := func(s *StoreReport) *SpanCPU {
		return ifNotNil(of(s), func(l *LatenessResult) *SpanCPU { return l.CPU })
	}
	return []measure{
		{name + ": server CPU ms per 1,000 stages", -1, 1, from(cpu, func(c *SpanCPU) float64 { return c.ServerMs })},
		{name + ": other processes (database) CPU ms per 1,000 stages", -1, 1, from(cpu, func(c *SpanCPU) float64 { return c.OtherMs })},
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
