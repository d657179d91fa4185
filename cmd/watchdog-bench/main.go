// Command watchdog-bench is Ticket Watchdog's load harness. It drives a
// watchdogd over HTTP, as a helpdesk would, and reports throughput,
// latency, alert lateness and memory as a table or as JSON.
//
//	watchdog-bench [flags] ingest|ceiling|lateness|scale|drain|reports|bulk-lateness|catchup|all
//	watchdog-bench policy          print the SLA file the harness expects
//	watchdog-bench compare -base A.json[,B.json...] C.json [D.json...]
//	                               medians of -json runs, before beside after
//
// With -spawn it starts watchdogd itself (from -watchdogd, built with
// `make build`) on scratch databases: a SQLite file in a temporary
// directory, or a schema of its own on -postgres, dropped afterwards. With
// -url it drives a server already running there (ingest only, or lateness
// when that server uses `watchdog-bench policy` as its SLA file and posts to
// the -slack-addr mock). -markdown writes BENCHMARKS.md from the figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/bench"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	mode        string
	url         string
	pid         int
	spawn       bool
	binary      string
	stores      []string
	postgres    string
	workdir     string
	workload    bench.Workload
	tickets     int
	small       int
	lateTickets int
	drainN      int
	lead        time.Duration
	dashboards  int
	ticketReads int
	jsonOut     bool
	markdown    string
	notes       string
	slackAddr   string
	cpuprofile  string

	reportTickets, reports30, reports365 int
	lateStored                           int
	bulkRate                             bulkRates
	catchupTickets, catchupBatch         int
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("watchdog-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `watchdog-bench — load harness for watchdogd

Usage:
  watchdog-bench [flags] MODE
  watchdog-bench policy            print the SLA file the harness expects
  watchdog-bench compare -base BEFORE.json[,...] AFTER.json...
                                   medians of -json runs, before beside after, as markdown;
                                   exit 3 when a figure is worse by more than 10%

Modes:
  ingest     POST N events in batches over C connections: events/s, request p50/p99, server RSS
  ceiling    PostgreSQL only: raw COPY of the same rows into a scratch copy of the tickets table
  lateness   T tickets due within one second: receipt − due instant on Slack (mock) and WebSocket
  scale      preload -tickets straight into the store; scheduler pass cost vs -small stored,
             dashboard and ticket read p50/p99, server RSS; lateness too in "all"
  drain      import -drain-tickets tickets with every stage past through a notifications route
             to a Slack stand-in at 1 message/s (429 beyond): drain time, messages, exactly once
  reports    preload -report-tickets resolved tickets over a year, time the outcome
             backfill, GET /reports/sla (30 days by tier and week, 365 days by tier
             and month) and the CSV export of every outcome (rows/s, server RSS)
  bulk-lateness
             the lateness run on a store of -lateness-stored tickets while another client
             imports the ingest workload at -bulk-rate events/s (in "all": half the ingest
             mode's rate): lateness p99 and exactly once, and the rate the import achieved
  catchup    import -catchup-tickets tickets with every stage past, -catchup-batch per
             request: stages recorded per second, and when Slack (mock) and WebSocket had
             every stage after the last batch's answer, exactly once
  all        everything, per store (reports, bulk-lateness and catchup included)

Flags:
`)
		fs.PrintDefaults()
	}
	var stores string
	fs.StringVar(&o.url, "url", "", "drive the watchdogd running at this URL (instead of -spawn)")
	fs.IntVar(&o.pid, "pid", 0, "with -url: the server's local process id, to read its RSS from /proc")
	fs.BoolVar(&o.spawn, "spawn", false, "start watchdogd (-watchdogd) on scratch databases")
	fs.StringVar(&o.binary, "watchdogd", "bin/watchdogd", "watchdogd binary for -spawn (make build)")
	fs.StringVar(&stores, "db", "sqlite", "with -spawn: stores to run on, comma-separated: sqlite, postgres")
	fs.StringVar(&o.postgres, "postgres", envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server for -db postgres (a scratch schema is made and dropped)")
	fs.StringVar(&o.workdir, "workdir", "", "directory for SQLite files, the SLA file and server logs (default: a new temporary directory, removed after)")
	fs.IntVar(&o.workload.Events, "events", 200000, "ingest: events to send")
	fs.IntVar(&o.workload.Batch, "batch", 1000, "ingest and the bulk-lateness import: events per request")
	fs.IntVar(&o.workload.Streams, "conns", 4, "ingest and the bulk-lateness import: concurrent connections")
	fs.Float64Var(&o.workload.UpdateFraction, "updates", 0.2, "ingest and the bulk-lateness import: share of events that update an existing ticket")
	fs.IntVar(&o.tickets, "tickets", 1000000, "scale: tickets to preload")
	fs.IntVar(&o.reportTickets, "report-tickets", 1000000, "reports: resolved tickets to preload (two outcomes each)")
	fs.IntVar(&o.reports30, "reports-30d", 50, "reports: 30-day reports to time")
	fs.IntVar(&o.reports365, "reports-365d", 20, "reports: 365-day reports to time")
	fs.IntVar(&o.small, "small", 10000, "scale: stored tickets of the scheduler comparison point")
	fs.IntVar(&o.lateTickets, "lateness-tickets", 10000, "lateness: tickets due within one second")
	fs.IntVar(&o.lateStored, "lateness-stored", 0, "lateness and bulk-lateness modes: tickets to preload first (the all mode measures lateness on the scale mode's -tickets)")
	fs.Var(&o.bulkRate, "bulk-rate", "bulk-lateness mode: events/s the bulk import posts, half the store's ingest rate: N for every store, or per store as sqlite=N,postgres=M (the all mode halves its own ingest figure)")
	fs.IntVar(&o.catchupTickets, "catchup-tickets", 100000, "catchup: tickets imported with every stage past")
	fs.IntVar(&o.catchupBatch, "catchup-batch", 1000, "catchup: tickets per import request")
	fs.IntVar(&o.drainN, "drain-tickets", 10000, "drain: tickets imported with every stage past")
	fs.DurationVar(&o.lead, "lead", 4*time.Second, "lateness: time from sending the tickets to the first breach instant (tickets are created 5s before their breach)")
	fs.IntVar(&o.dashboards, "dashboards", 300, "scale: dashboard requests to time")
	fs.IntVar(&o.ticketReads, "ticket-reads", 2000, "scale: ticket requests to time")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&o.markdown, "markdown", "", "also write the results as markdown to this file (BENCHMARKS.md)")
	fs.StringVar(&o.notes, "notes", "", "with -markdown: a markdown file appended to the report (analysis, profiles)")
	fs.StringVar(&o.slackAddr, "slack-addr", "127.0.0.1:0", "with -url and lateness: where the mock Slack listens")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "ingest: serve the API in-process (no watchdogd child) on a scratch -db store and write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errors.New("name one mode")
	}
	o.mode = fs.Arg(0)
	switch o.mode {
	case "ingest", "ceiling", "lateness", "scale", "drain", "reports", "bulk-lateness", "catchup", "all", "policy":
	default:
		return nil, fmt.Errorf("unknown mode %q", o.mode)
	}
	for _, s := range strings.Split(stores, ",") {
		switch s = strings.TrimSpace(s); s {
		case "sqlite", "postgres":
			o.stores = append(o.stores, s)
		case "":
		default:
			return nil, fmt.Errorf("-db: unknown store %q: use sqlite or postgres", s)
		}
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// check rejects flags that contradict each other or the mode.
func (o *options) check() error {
	switch {
	case o.mode == "policy":
	case o.cpuprofile != "" && (o.mode != "ingest" || o.url != "" || len(o.stores) != 1):
		return errors.New("-cpuprofile profiles the ingest mode on one -db store, without -url")
	case o.cpuprofile == "" && o.spawn == (o.url != ""):
		return errors.New("use either -spawn or -url")
	case o.url != "" && o.mode != "ingest" && o.mode != "lateness":
		return fmt.Errorf("%s needs the database: use -spawn", o.mode)
	case o.workload.Events < 1 || o.workload.Batch < 1 || o.workload.Streams < 1:
		return errors.New("-events, -batch and -conns must be positive")
	case o.workload.UpdateFraction < 0 || o.workload.UpdateFraction >= 1:
		return errors.New("-updates must be in [0, 1)")
	case o.tickets < 1 || o.small < 1 || o.lateTickets < 1 || o.dashboards < 1 || o.ticketReads < 1 || o.drainN < 1:
		return errors.New("-tickets, -small, -lateness-tickets, -drain-tickets, -dashboards and -ticket-reads must be positive")
	case o.reportTickets < 1 || o.reports30 < 1 || o.reports365 < 1:
		return errors.New("-report-tickets, -reports-30d and -reports-365d must be positive")
	case o.lateStored < 0 || (o.lateStored > 0 && o.mode != "lateness" && o.mode != "bulk-lateness"):
		return errors.New("-lateness-stored is a count of tickets for the lateness and bulk-lateness modes")
	case o.catchupTickets < 1 || o.catchupBatch < 1:
		return errors.New("-catchup-tickets and -catchup-batch must be positive")
	case len(o.bulkRate) > 0 && o.mode != "bulk-lateness":
		return errors.New("-bulk-rate is the bulk-lateness mode's import rate in events/s (the all mode uses half its ingest figure)")
	}
	if o.mode == "bulk-lateness" {
		for _, kind := range o.stores {
			if o.bulkRate.of(kind) <= 0 {
				return fmt.Errorf("bulk-lateness needs -bulk-rate N (or %s=N): the bulk import's events/s on %s, half the store's ingest rate (the all mode measures that itself)", kind, kind)
			}
		}
	}
	return nil
}

// bulkRates is -bulk-rate: events/s for every store (key ""), or per
// store kind ("sqlite=13000,postgres=16000"), as their ingest rates differ.
type bulkRates map[string]float64

func (r *bulkRates) String() string {
	if r == nil || len(*r) == 0 {
		return ""
	}
	var parts []string
	for k, v := range *r {
		if k == "" {
			parts = append(parts, strconv.FormatFloat(v, 'f', -1, 64))
		} else {
			parts = append(parts, k+"="+strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (r *bulkRates) Set(v string) error {
	if *r == nil {
		*r = bulkRates{}
	}
	for _, part := range strings.Split(v, ",") {
		kind, num, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			kind, num = "", kind
		} else if kind != "sqlite" && kind != "postgres" {
			return fmt.Errorf("unknown store %q: use sqlite or postgres", kind)
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a positive number of events/s", num)
		}
		(*r)[kind] = f
	}
	return nil
}

// of is the rate for store kind: its own, else the one for every store.
func (r bulkRates) of(kind string) float64 {
	if v, ok := r[kind]; ok {
		return v
	}
	return r[""]
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compare" {
		return compare(args[1:], stdout, stderr)
	}
	o, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "watchdog-bench:", err)
		return 2
	}
	if o.mode == "policy" {
		fmt.Fprint(stdout, bench.PolicyYAML)
		return 0
	}
	rep, err := execute(ctx, o, stderr)
	if rep != nil {
		if werr := output(o, rep, stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "watchdog-bench:", err)
		return 1
	}
	return 0
}

func execute(ctx context.Context, o *options, progress io.Writer) (*bench.Report, error) {
	started := time.Now()
	rep := &bench.Report{Command: "watchdog-bench " + strings.Join(os.Args[1:], " "), Started: started, Machine: bench.DescribeMachine()}
	o.workload.RunID = fmt.Sprintf("%x", started.UnixNano()&0xffffff)
	o.workload.Seed = 7
	o.workload.Base = started

	var err error
	if o.cpuprofile != "" {
		err = executeProfile(ctx, o, rep, progress)
	} else if o.url != "" {
		err = executeRemote(ctx, o, rep, progress)
	} else {
		err = executeSpawn(ctx, o, rep, progress)
	}
	rep.Machine.LoadEnd = bench.LoadAvg()
	rep.Duration = time.Since(started).Round(time.Second).String()
	rep.Evaluate()
	return rep, err
}

func executeRemote(ctx context.Context, o *options, rep *bench.Report, progress io.Writer) error {
	srv := bench.Remote(o.url, o.pid)
	s := &bench.StoreReport{Kind: "remote"}
	rep.Stores = append(rep.Stores, s)
	var err error
	switch o.mode {
	case "ingest":
		s.Ingest, err = bench.Ingest(ctx, bench.IngestConfig{Workload: o.workload, Server: srv, Progress: progress})
	case "lateness":
		mock, merr := mockslack.New(nil)
		if merr != nil {
			return merr
		}
		ln, lerr := net.Listen("tcp", o.slackAddr)
		if lerr != nil {
			return fmt.Errorf("mock Slack: %w", lerr)
		}
		hs := &http.Server{Handler: mock, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		fmt.Fprintf(progress, "mock Slack listening: the server's SLACK_WEBHOOK_URL must be http://%s%s and its SLA file `watchdog-bench policy`\n", ln.Addr(), mockslack.WebhookPath)
		s.Lateness, err = bench.Lateness(ctx, bench.LatenessConfig{Server: srv, Slack: mock, Tickets: o.lateTickets, Lead: o.lead, RunID: o.workload.RunID, Progress: progress})
	}
	return err
}

// executeProfile runs the ingest mode against an in-process server with
// the CPU profiler on, so the profile shows the server's side.
func executeProfile(ctx context.Context, o *options, rep *bench.Report, progress io.Writer) error {
	kind := o.stores[0]
	dbURL := ""
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "watchdog-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "profile.db")
	case "postgres":
		sc, err := bench.NewScratch(ctx, o.postgres, "profile")
		if err != nil {
			return err
		}
		defer func() { _ = sc.Drop(context.WithoutCancel(ctx)) }()
		dbURL = sc.DSN
	}
	srv, stop, err := bench.StartInProcess(ctx, dbURL)
	if err != nil {
		return err
	}
	defer func() { _ = stop() }()
	f, err := os.Create(o.cpuprofile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return fmt.Errorf("-cpuprofile: %w", err)
	}
	fmt.Fprintf(progress, "[%s] ingest in-process with CPU profile %s\n", kind, o.cpuprofile)
	s := &bench.StoreReport{Kind: kind + " (in-process)"}
	rep.Stores = append(rep.Stores, s)
	s.Ingest, err = bench.Ingest(ctx, bench.IngestConfig{Workload: o.workload, Server: srv, Progress: progress})
	pprof.StopCPUProfile()
	return err
}

func executeSpawn(ctx context.Context, o *options, rep *bench.Report, progress io.Writer) error {
	if _, err := os.Stat(o.binary); err != nil {
		return fmt.Errorf("-watchdogd %s: %w (build it with `make build`)", o.binary, err)
	}
	binary, err := filepath.Abs(o.binary)
	if err != nil {
		return err
	}
	workdir := o.workdir
	if workdir == "" {
		if workdir, err = os.MkdirTemp("", "watchdog-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(workdir)
	} else if workdir, err = filepath.Abs(workdir); err != nil {
		return err
	} else if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	for _, kind := range o.stores {
		if kind == "postgres" {
			if v, err := bench.PostgresVersion(ctx, o.postgres); err == nil {
				rep.Machine.Postgres = v
			} else {
				return err
			}
		}
		p := &bench.Plan{
			Kind: kind, PostgresURL: o.postgres, Binary: binary, WorkDir: workdir,
			Ingest:        o.mode == "ingest" || o.mode == "all",
			Ceiling:       (o.mode == "ceiling" || o.mode == "all") && kind == "postgres",
			Lateness:      o.mode == "lateness" || o.mode == "all",
			Scale:         o.mode == "scale" || o.mode == "all",
			Reports:       o.mode == "reports" || o.mode == "all",
			ReportTickets: o.reportTickets, Reports30: o.reports30, Reports365: o.reports365,
			Drain: o.mode == "drain" || o.mode == "all", DrainTickets: o.drainN,
			BulkLateness: o.mode == "bulk-lateness" || o.mode == "all", BulkRate: o.bulkRate.of(kind),
			CatchUp: o.mode == "catchup" || o.mode == "all", CatchUpTickets: o.catchupTickets, CatchUpBatch: o.catchupBatch,
			Workload: o.workload, ScaleTickets: o.tickets, SmallTickets: o.small,
			LatenessTickets: o.lateTickets, LatenessStored: o.lateStored, Lead: o.lead, Dashboards: o.dashboards, TicketReads: o.ticketReads,
			Progress: progress,
		}
		if o.mode == "ceiling" && kind != "postgres" {
			fmt.Fprintf(progress, "[%s] ceiling: PostgreSQL only; skipped\n", kind)
			continue
		}
		s, err := p.Run(ctx)
		rep.Stores = append(rep.Stores, s)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	return nil
}

func output(o *options, rep *bench.Report, stdout io.Writer) error {
	if o.markdown != "" {
		notes := ""
		if o.notes != "" {
			data, err := os.ReadFile(o.notes)
			if err != nil {
				return fmt.Errorf("-notes: %w", err)
			}
			notes = string(data)
		}
		f, err := os.Create(o.markdown)
		if err != nil {
			return err
		}
		if err := rep.WriteMarkdown(f, notes); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteTable(stdout)
}

// compare prints the medians of the -json runs named by -base beside those
// of the runs named by its arguments. It exits 3 when a figure is worse by
// more than bench.Tolerance, so that a script can hold a change to it.
func compare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("watchdog-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base", "", "comma-separated -json outputs of the runs before (the baseline)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: watchdog-bench compare -base BEFORE.json[,BEFORE2.json...] AFTER.json [AFTER2.json...]

Reads runs saved with -json and prints, per store, each figure's median before and after
with every run, the ratio, and whether it is better, the same (within 10%) or worse.
Exit status 3 when some figure is worse.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *base == "" || fs.NArg() == 0 {
		fs.Usage()
		fmt.Fprintln(stderr, "watchdog-bench compare: name the runs before with -base and the runs after as arguments")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "watchdog-bench compare:", err)
		return 1
	}
	before, err := readReports(strings.Split(*base, ","))
	if err != nil {
		return fail(err)
	}
	after, err := readReports(fs.Args())
	if err != nil {
		return fail(err)
	}
	c := bench.Compare(before, after)
	if err := c.WriteMarkdown(stdout); err != nil {
		return fail(err)
	}
	if len(c.Worse()) > 0 {
		return 3
	}
	return 0
}

// readReports decodes -json outputs.
func readReports(paths []string) ([]*bench.Report, error) {
	var out []*bench.Report
	for _, p := range paths {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r bench.Report
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s: not a watchdog-bench -json output: %w", p, err)
		}
		if len(r.Stores) == 0 {
			return nil, fmt.Errorf("%s: no store figures in it", p)
		}
		out = append(out, &r)
	}
	if len(out) == 0 {
		return nil, errors.New("no runs named")
	}
	return out, nil
}
