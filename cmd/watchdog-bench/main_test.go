package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/bench"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// watchdogd is the server binary the tests spawn, built once by TestMain.
var watchdogd string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "watchdog-bench-test-")
	if err != nil {
		panic(err)
	}
	watchdogd = filepath.Join(dir, "watchdogd")
	build := exec.Command("go", "build", "-o", watchdogd, "github.com/ticket-watchdog/watchdog/cmd/watchdogd")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("building watchdogd: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runBench(t *testing.T, args ...string) (*bench.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args = append([]string{"-spawn", "-watchdogd", watchdogd, "-json"}, args...)
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("watchdog-bench %v: exit %d\nstderr:\n%s", args, code, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decoding -json output: %v\n%s", err, stdout.String())
	}
	return &rep, stderr.String()
}

// TestAllOnSQLite runs every mode at a small size against a spawned
// watchdogd and checks the figures say what happened.
func TestAllOnSQLite(t *testing.T) {
	md := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	rep, progress := runBench(t, "-db", "sqlite", "-events", "3000", "-batch", "500", "-conns", "3",
		"-tickets", "3000", "-small", "1000", "-lateness-tickets", "200", "-lead", "4s",
		"-dashboards", "10", "-ticket-reads", "20", "-drain-tickets", "150", "-report-tickets", "1000", "-reports-30d", "3", "-reports-365d", "2",
		"-catchup-tickets", "200", "-catchup-batch", "50", "-markdown", md, "all")
	if len(rep.Stores) != 1 || rep.Stores[0].Kind != "sqlite" {
		t.Fatalf("stores = %+v, want one sqlite", rep.Stores)
	}
	s := rep.Stores[0]
	if s.Ingest == nil || s.Ingest.Events != 3000 || s.Ingest.EventsPerS <= 0 || s.Ingest.Request.N != 6 {
		t.Errorf("ingest = %+v, want 3000 events in 6 requests", s.Ingest)
	}
	if s.Ingest != nil && (s.Ingest.Memory == nil || s.Ingest.Memory.PeakMB <= 0) {
		t.Errorf("ingest server memory = %+v, want the spawned server's peak RSS", s.Ingest.Memory)
	}
	if s.Ceiling != nil {
		t.Errorf("ceiling ran on sqlite: %+v", s.Ceiling)
	}
	if r := s.Reports; r == nil || r.Tickets != 1000 || r.Outcomes != 2000 || r.Week30.N != 3 || r.Month365.N != 2 ||
		r.Export == nil || r.Export.Rows < 1900 || r.Export.Rows > 2000 {
		t.Errorf("reports = %+v, want 1000 tickets, 2000 outcomes, 3 and 2 reports and the export", r)
	}
	if s.Preload == nil || s.Preload.Tickets != 3000 || s.Preload.Due != 30 {
		t.Errorf("preload = %+v, want 3000 tickets, 30 due", s.Preload)
	}
	if s.Scheduler == nil || s.Scheduler.Due != 30 || s.Scheduler.Alerts == 0 {
		t.Errorf("scheduler = %+v, want 30 due tickets evaluated with alerts", s.Scheduler)
	}
	if s.SchedulerSmall == nil || s.SchedulerSmall.Due != 10 {
		t.Errorf("scheduler at the small size = %+v, want 10 due", s.SchedulerSmall)
	}
	if s.Reads == nil || s.Reads.Dashboard.N != 10 || s.Reads.Ticket.N != 20 || s.Reads.Queue.N != 10 || s.Reads.QueueBytes < 1000 {
		t.Errorf("reads = %+v", s.Reads)
	} else if s.Reads.DashboardTotal != 30 {
		// Each due ticket breached both clocks when the scheduler ran.
		t.Errorf("dashboard X-Total-Count = %d, want the 30 breached tickets", s.Reads.DashboardTotal)
	}
	l := s.Lateness
	if l == nil {
		t.Fatal("no lateness result")
	}
	if !l.ExactlyOnce || l.Stages != 400 || l.Slack.Lateness.N != 400 || l.WebSocket.Lateness.N != 400 {
		t.Errorf("lateness = %+v, want 400 stages each received once on both channels", l)
	}
	// An alert cannot arrive before its due instant (allowing for the
	// microsecond truncation of stored times).
	if l.Slack.Lateness.MinMs < -1 || l.WebSocket.Lateness.MinMs < -1 {
		t.Errorf("alerts arrived before they were due: slack min %v ms, websocket min %v ms", l.Slack.Lateness.MinMs, l.WebSocket.Lateness.MinMs)
	}
	// The second lateness run: half the tickets wait for a next reply.
	if lc := s.LatenessCycles; lc == nil || !lc.ExactlyOnce || lc.Stages != 400 || lc.NextReplyStages != 200 ||
		lc.Slack.Lateness.N != 400 || lc.WebSocket.Lateness.N != 400 || lc.Slack.Lateness.MinMs < -1 || lc.WebSocket.Lateness.MinMs < -1 {
		t.Errorf("lateness with cycles = %+v, want 400 stages, 200 of next-reply cycles, each received once on both channels", lc)
	}
	// 150 tickets, every stage past: each clock's highest stage once, in 3
	// messages of 100 at most, at one message a second.
	if d := s.Drain; d == nil || !d.ExactlyOnce || d.Entries != 300 || d.Failed != 0 || d.Messages < 3 || d.MaxPerMsg > 100 || d.DrainS < 2 {
		t.Errorf("drain = %+v, want 300 entries once each, none failed, at most 100 a message", d)
	}
	// The lateness run under a bulk import at half the ingest mode's rate.
	if bl := s.BulkLateness; bl == nil || bl.Lateness == nil || bl.Bulk == nil {
		t.Errorf("bulk lateness = %+v", bl)
	} else if l, b := bl.Lateness, bl.Bulk; !l.ExactlyOnce || l.Stages != 400 || s.Ingest == nil ||
		b.TargetPerS != math.Round(10*s.Ingest.EventsPerS/2)/10 || b.NoAlertsPerS != s.Ingest.EventsPerS || !strings.Contains(b.TargetFrom, "half") ||
		b.DuringEvents == 0 || b.Batch != 500 || b.Connections != 3 {
		t.Errorf("bulk lateness = %+v, bulk %+v: want 400 stages once each under an import at half the ingest rate, batches of 500 over 3 connections", l, b)
	}
	// 200 tickets, 4 stages each, in 4 requests of 50.
	if c := s.CatchUp; c == nil || c.Tickets != 200 || c.Batch != 50 || c.ImportRequest.N != 4 || c.Stages != 800 || c.Recorded != 800 || !c.ExactlyOnce {
		t.Errorf("catch-up = %+v, want 800 stages of 200 tickets recorded, each once on both channels", c)
	}
	if len(rep.Targets) == 0 {
		t.Error("no targets evaluated")
	}
	if !strings.Contains(progress, "[sqlite] ingest") {
		t.Errorf("progress on stderr lacks the ingest step:\n%s", progress)
	}
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Benchmarks", "## Targets", "alert lateness p99", "GET /tickets/{id}", "load average",
		"under a bulk import at half the ingest rate", "catch-up: stages of 200 imported tickets recorded at ≥ 20,000 stages/s",
		"catch-up: every stage delivered ≤ 20 s", "| catch-up: recorded |", "| bulk import beside it |"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
}

// TestIngestAndCeilingOnPostgres checks the COPY ceiling copies as many rows
// as the ingest sent events, into a scratch schema that is dropped after.
func TestIngestAndCeilingOnPostgres(t *testing.T) {
	base := pgtest.BaseURL()
	_ = pgtest.DSN(t) // skips (or fails under CI) when no server answers
	rep, _ := runBench(t, "-db", "postgres", "-postgres", base, "-events", "2000", "-batch", "500", "-conns", "2", "ingest")
	if rep.Machine.Postgres == "" {
		t.Error("postgres version not reported")
	}
	s := rep.Stores[0]
	if s.Ingest == nil || s.Ingest.Events != 2000 {
		t.Fatalf("ingest = %+v", s.Ingest)
	}
	rep, _ = runBench(t, "-db", "postgres", "-postgres", base, "-events", "2000", "-batch", "500", "-conns", "2", "ceiling")
	s = rep.Stores[0]
	if s.Ceiling == nil || s.Ceiling.Rows != 2000 || s.Ceiling.RowsPerS <= 0 {
		t.Fatalf("ceiling = %+v, want 2000 rows", s.Ceiling)
	}
	// The ceiling is copied into the table the ingest target was set
	// against: the tickets table's primary key and three indexes, without
	// the due index it has since gained.
	if !strings.Contains(s.Ceiling.Table, "primary key and 3 indexes") {
		t.Errorf("ceiling table = %q, want the primary key and 3 indexes", s.Ceiling.Table)
	}
}

// The lateness mode measures on a store holding -lateness-stored tickets
// (preloaded first), in a work directory given relative to the current one.
func TestLatenessOnPreloadedStore(t *testing.T) {
	dir, err := filepath.Rel(mustGetwd(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := runBench(t, "-db", "sqlite", "-workdir", dir, "-lateness-stored", "400", "-lateness-tickets", "50", "-lead", "4s",
		"-dashboards", "5", "-ticket-reads", "5", "lateness")
	s := rep.Stores[0]
	if s.Preload == nil || s.Preload.Tickets != 400 {
		t.Errorf("preload = %+v, want 400 tickets", s.Preload)
	}
	if s.Lateness == nil || s.Lateness.Tickets != 50 || !s.Lateness.ExactlyOnce {
		t.Errorf("lateness = %+v, want 50 tickets, every stage exactly once", s.Lateness)
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-spawn", "bogus"},
		{"ingest"},
		{"-spawn", "-url", "http://x", "ingest"},
		{"-url", "http://127.0.0.1:1", "scale"},
		{"-spawn", "-db", "mysql", "ingest"},
		{"-spawn", "-updates", "1.5", "ingest"},
		{"-spawn", "-events", "0", "ingest"},
		{"-spawn", "-lateness-stored", "10", "ingest"},
		{"-spawn", "-lateness-stored", "-1", "lateness"},
		{"-spawn", "-lateness-stored", "10", "catchup"},
		{"-spawn", "-bulk-rate", "1000", "lateness"},
		{"-spawn", "-bulk-rate", "1000", "all"},
		{"-spawn", "-bulk-rate", "-5", "bulk-lateness"},
		{"-spawn", "-bulk-rate", "mysql=5", "bulk-lateness"},
		{"-spawn", "-db", "sqlite,postgres", "-bulk-rate", "sqlite=1000", "bulk-lateness"},
		{"-spawn", "-catchup-tickets", "0", "catchup"},
		{"-spawn", "-catchup-batch", "0", "catchup"},
		{"-url", "http://127.0.0.1:1", "catchup"},
		{"-url", "http://127.0.0.1:1", "-bulk-rate", "1000", "bulk-lateness"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
	}
	// Without the ingest mode, the bulk import's rate must be given.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-spawn", "bulk-lateness"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "-bulk-rate N") {
		t.Errorf("bulk-lateness without -bulk-rate: exit %d, stderr %q; want 2 naming -bulk-rate", code, stderr.String())
	}
}

// -bulk-rate takes one rate for every store or one per store, as their
// ingest rates differ.
func TestBulkRatePerStore(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parse([]string{"-spawn", "-db", "sqlite,postgres", "-bulk-rate", "2000,postgres=3000.5", "bulk-lateness"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.bulkRate.of("sqlite") != 2000 || o.bulkRate.of("postgres") != 3000.5 {
		t.Errorf("-bulk-rate = %v: sqlite %v, postgres %v", o.bulkRate, o.bulkRate.of("sqlite"), o.bulkRate.of("postgres"))
	}
	if got := o.bulkRate.String(); got != "2000,postgres=3000.5" {
		t.Errorf("String() = %q", got)
	}
}

// The bulk-lateness mode on its own: a preloaded store, the import at the
// given rate, its figures in the JSON.
func TestBulkLatenessModeAtAGivenRate(t *testing.T) {
	rep, progress := runBench(t, "-db", "sqlite", "-lateness-stored", "400", "-lateness-tickets", "50", "-bulk-rate", "1200",
		"-batch", "100", "-conns", "2", "-dashboards", "5", "-ticket-reads", "5", "bulk-lateness")
	s := rep.Stores[0]
	if s.Preload == nil || s.Preload.Tickets != 400 || s.Lateness != nil || s.Ingest != nil {
		t.Errorf("store report = %+v: want the 400-ticket preload and neither the ingest nor the plain lateness run", s)
	}
	bl := s.BulkLateness
	if bl == nil || bl.Lateness == nil || bl.Bulk == nil {
		t.Fatalf("bulk lateness = %+v", bl)
	}
	if l, b := bl.Lateness, bl.Bulk; !l.ExactlyOnce || l.Tickets != 50 || b.TargetPerS != 1200 || b.Batch != 100 || b.Connections != 2 || b.DuringEvents == 0 {
		t.Errorf("lateness %+v, bulk %+v: want 50 tickets' stages once each beside an import at 1200 events/s", l, b)
	}
	if !strings.Contains(progress, "lateness under a bulk import") {
		t.Errorf("progress lacks the bulk-lateness step:\n%s", progress)
	}
	var met int
	for _, tg := range rep.Targets {
		if strings.Contains(tg.Name, "bulk import") {
			met++
		}
	}
	if met != 3 {
		t.Errorf("targets = %+v, want three about the bulk import", rep.Targets)
	}
}

func TestMissingBinary(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-spawn", "-watchdogd", filepath.Join(t.TempDir(), "nope"), "ingest"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "make build") {
		t.Errorf("exit %d, stderr %q: want 1 with a hint to build", code, stderr.String())
	}
}

func TestPolicyModePrintsALoadableSLAFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"policy"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	path := filepath.Join(t.TempDir(), "sla.yaml")
	if err := os.WriteFile(path, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(watchdogd, "check-config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("watchdogd check-config: %v\n%s", err, out)
	}
}

func TestCPUProfileOfInProcessIngest(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"-cpuprofile", prof, "-db", "sqlite", "-events", "2000", "-batch", "500", "-json", "ingest"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Stores[0].Ingest == nil || rep.Stores[0].Ingest.Events != 2000 {
		t.Errorf("ingest = %+v", rep.Stores[0].Ingest)
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("profile %s: %v, %v", prof, fi, err)
	}
}

// TestCompareCommand runs `watchdog-bench compare` on saved -json runs: the
// medians side by side, and exit status 3 when a figure got worse.
func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, eventsPerS float64) string {
		t.Helper()
		rep := bench.Report{Command: "watchdog-bench -json ingest", Stores: []*bench.StoreReport{{
			Kind: "postgres", Ingest: &bench.IngestResult{EventsPerS: eventsPerS},
			Ceiling: &bench.CeilingResult{RowsPerS: 100000},
		}}}
		data, err := json.Marshal(&rep)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b1, b2, b3 := save("b1.json", 30000), save("b2.json", 32000), save("b3.json", 34000)
	base := strings.Join([]string{b1, b2, b3}, ",")
	compare := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"compare"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := compare("-base", base, save("a1.json", 40000), save("a2.json", 36000))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"| ingest events/s | **32,000** (30,000, 32,000, 34,000) | **38,000** (40,000, 36,000) | 1.19 | better |",
		"| ingest ÷ raw COPY | **0.320** (0.300, 0.320, 0.340) | **0.380** (0.400, 0.360) | 1.19 | better |",
		"| raw COPY rows/s (the machine) |",
		"No figure is worse",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = compare("-base", base, save("slow.json", 28000))
	if code != 3 || !strings.Contains(out, "Worse by more than 10%: postgres: ingest events/s; postgres: ingest ÷ raw COPY.") {
		t.Errorf("a run 12.5%% below the baseline: exit %d\n%s", code, out)
	}

	if code, _, errOut = compare(b1); code != 2 || !strings.Contains(errOut, "-base") {
		t.Errorf("without -base: exit %d, %s", code, errOut)
	}
	notJSON := filepath.Join(dir, "notes.md")
	if err := os.WriteFile(notJSON, []byte("# notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = compare("-base", base, notJSON); code != 1 || !strings.Contains(errOut, "not a watchdog-bench -json output") {
		t.Errorf("a file that is not a run: exit %d, %s", code, errOut)
	}
}
