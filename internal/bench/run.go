package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

// Plan says which modes to run against one store kind, with spawned
// servers on scratch databases.
type Plan struct {
	// Kind is "sqlite" or "postgres".
	Kind string
	// PostgresURL is the server scratch schemas are made on (postgres).
	PostgresURL string
	// Binary is the watchdogd to spawn.
	Binary string
	// WorkDir holds SQLite files, the SLA file and server logs.
	WorkDir string

	Ingest   bool
	Ceiling  bool
	Lateness bool
	Scale    bool
	// Drain runs the notification backlog mode with DrainTickets tickets.
	Drain        bool
	DrainTickets int
	// Reports runs the reports mode.
	Reports bool
	// BulkLateness runs the lateness mode again while another client
	// imports tickets: at half the ingest mode's rate when Ingest runs
	// too, else at BulkRate events/s.
	BulkLateness bool
	BulkRate     float64
	// CatchUp runs the catch-up mode: CatchUpTickets tickets with every
	// stage past, imported CatchUpBatch per request.
	CatchUp        bool
	CatchUpTickets int
	CatchUpBatch   int

	Workload Workload
	// ScaleTickets and SmallTickets are the stored tickets of the scale
	// mode and of its comparison point.
	ScaleTickets int
	SmallTickets int
	// LatenessTickets and Lead configure the lateness mode;
	// LatenessStored, when the scale mode does not run, is how many
	// tickets it preloads first.
	LatenessTickets int
	LatenessStored  int
	Lead            time.Duration
	// Dashboards and TicketReads are how many reads the scale mode times.
	Dashboards  int
	TicketReads int
	// ReportTickets is the reports mode's stored tickets (two outcomes
	// each); Reports30 and Reports365 how many reports of each kind it
	// times.
	ReportTickets int
	Reports30     int
	Reports365    int

	Progress io.Writer
}

// StoreReport is every figure measured on one store kind.
type StoreReport struct {
	Kind           string           `json:"store"`
	Ingest         *IngestResult    `json:"ingest,omitempty"`
	Ceiling        *CeilingResult   `json:"ceiling,omitempty"`
	IngestRatio    float64          `json:"ingest_to_copy_ratio,omitempty"`
	PreloadSmall   *PreloadResult   `json:"preload_small,omitempty"`
	SchedulerSmall *SchedulerResult `json:"scheduler_small,omitempty"`
	Preload        *PreloadResult   `json:"preload,omitempty"`
	Scheduler      *SchedulerResult `json:"scheduler,omitempty"`
	// ServerReadyS is how long watchdogd took to start on the preloaded
	// store (it recomputes every open ticket when it loads the policy).
	ServerReadyS float64         `json:"server_ready_s,omitempty"`
	Reads        *ReadsResult    `json:"reads,omitempty"`
	Lateness     *LatenessResult `json:"lateness,omitempty"`
	// LatenessCycles is the lateness run with half the stages those of
	// next-reply cycles.
	LatenessCycles *LatenessResult `json:"lateness_cycles,omitempty"`
	// ScaleMemory is the server's memory at the end of the scale and
	// lateness modes.
	ScaleMemory *Memory `json:"scale_server_memory,omitempty"`
	// Drain is the notification backlog mode's result.
	Drain *DrainResult `json:"drain,omitempty"`
	// Reports are the reports mode's figures.
	Reports *ReportsResult `json:"reports,omitempty"`
	// BulkLateness is the lateness run under a bulk import.
	BulkLateness *BulkLatenessResult `json:"bulk_lateness,omitempty"`
	// CatchUp is the catch-up mode's result.
	CatchUp *CatchupResult `json:"catchup,omitempty"`
}

type database struct {
	url  string
	drop func()
}

func (p *Plan) newDatabase(ctx context.Context, label string) (*database, error) {
	switch p.Kind {
	case "sqlite":
		path := filepath.Join(p.WorkDir, label+".db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(path + suffix)
		}
		return &database{url: path, drop: func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + suffix)
			}
		}}, nil
	case "postgres":
		s, err := NewScratch(ctx, p.PostgresURL, label)
		if err != nil {
			return nil, err
		}
		return &database{url: s.DSN, drop: func() {
			dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if err := s.Drop(dropCtx); err != nil {
				p.logf("warning: %v", err)
			}
		}}, nil
	}
	return nil, fmt.Errorf("unknown store kind %q: use sqlite or postgres", p.Kind)
}

func (p *Plan) logf(format string, args ...any) {
	if p.Progress != nil {
		fmt.Fprintf(p.Progress, format+"\n", args...)
	}
}

func (p *Plan) spawn(ctx context.Context, dbURL, label, webhook string) (*Server, error) {
	sla := filepath.Join(p.WorkDir, "bench_sla.yaml")
	if err := os.WriteFile(sla, []byte(PolicyYAML), 0o644); err != nil {
		return nil, fmt.Errorf("writing the SLA file: %w", err)
	}
	logPath := filepath.Join(p.WorkDir, p.Kind+"-"+label+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	srv, err := Spawn(ctx, SpawnConfig{Binary: p.Binary, DatabaseURL: dbURL, SLAFile: sla, SlackWebhookURL: webhook, Log: logFile})
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%w (server log: %s)", err, logPath)
	}
	p.logf("  watchdogd pid %d at %s ready after %v (log %s)", srv.PID, srv.URL, srv.ReadyAfter.Round(time.Millisecond), logPath)
	return srv, nil
}

// Run runs the plan's modes and returns their figures. Every scratch
// database is removed before it returns.
func (p *Plan) Run(ctx context.Context) (*StoreReport, error) {
	rep := &StoreReport{Kind: p.Kind}
	if p.BulkLateness && !p.Ingest && p.BulkRate <= 0 {
		return rep, errNoBulkRate
	}
	if p.Ingest || p.Ceiling {
		if err := p.runIngest(ctx, rep); err != nil {
			return rep, err
		}
	}
	if p.Scale || p.Lateness || p.BulkLateness {
		if err := p.runScale(ctx, rep); err != nil {
			return rep, err
		}
	}
	if p.Drain {
		db, err := p.newDatabase(ctx, "drain")
		if err != nil {
			return rep, err
		}
		defer db.drop()
		p.logf("[%s] drain: %d tickets, every stage past, through a notifications route to a 1 message/s Slack", p.Kind, p.DrainTickets)
		rep.Drain, err = Drain(ctx, DrainConfig{Binary: p.Binary, DatabaseURL: db.url, WorkDir: p.WorkDir, Label: p.Kind,
			Tickets: p.DrainTickets, Timeout: 30 * time.Minute, Progress: p.Progress})
		if err != nil {
			return rep, err
		}
		p.logf("  drained in %.0fs (floor %.0fs): %d messages, %d refused, exactly once %v, failed %.0f",
			rep.Drain.DrainS, rep.Drain.FloorS, rep.Drain.Messages, rep.Drain.Refused, rep.Drain.ExactlyOnce, rep.Drain.Failed)
	}
	if p.CatchUp {
		if err := p.runCatchup(ctx, rep); err != nil {
			return rep, err
		}
	}
	if p.Reports {
		if err := p.runReports(ctx, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// runReports preloads resolved tickets over a year, backfills their
// outcomes, then times reports and a CSV export through watchdogd.
func (p *Plan) runReports(ctx context.Context, rep *StoreReport) error {
	db, err := p.newDatabase(ctx, "reports")
	if err != nil {
		return err
	}
	defer db.drop()
	res := &ReportsResult{}
	rep.Reports = res
	p.logf("[%s] reports: preload %d resolved tickets over a year, then backfill their outcomes", p.Kind, p.ReportTickets)
	if err := PreloadOutcomes(ctx, db.url, p.ReportTickets, p.Progress, res); err != nil {
		return err
	}
	res.Outcomes = 2 * res.Tickets
	p.logf("  preloaded in %.1fs; backfilled %d outcomes in %.1fs", res.PreloadS, res.Outcomes, res.BackfillS)
	srv, err := p.spawn(ctx, db.url, "reports", "")
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	if err := TimeReports(ctx, srv, p.Reports30, p.Reports365, res); err != nil {
		return err
	}
	p.logf("  30-day tier x week p99 %.0f ms; 365-day tier x month p99 %.0f ms", res.Week30.P99Ms, res.Month365.P99Ms)
	if res.Export, err = TimeExport(ctx, srv); err != nil {
		return err
	}
	p.logf("  CSV export %d rows at %.0f rows/s, RSS %.0f MB before, at most %.0f MB during", res.Export.Rows, res.Export.RowsPerS, res.Export.RSSBeforeMB, res.Export.RSSMaxMB)
	return srv.Stop()
}

func (p *Plan) runIngest(ctx context.Context, rep *StoreReport) error {
	db, err := p.newDatabase(ctx, "ingest")
	if err != nil {
		return err
	}
	defer db.drop()
	if p.Ingest {
		p.logf("[%s] ingest: %d events, batch %d, %d connections, %.0f%% updates", p.Kind, p.Workload.Events, p.Workload.Batch, p.Workload.Streams, 100*p.Workload.UpdateFraction)
		srv, err := p.spawn(ctx, db.url, "ingest", "")
		if err != nil {
			return err
		}
		rep.Ingest, err = Ingest(ctx, IngestConfig{Workload: p.Workload, Server: srv, Progress: p.Progress})
		if stopErr := srv.Stop(); err == nil && stopErr != nil {
			err = stopErr
		}
		if err != nil {
			return err
		}
		p.logf("  %.0f events/s, request p50 %.1f ms p99 %.1f ms", rep.Ingest.EventsPerS, rep.Ingest.Request.P50Ms, rep.Ingest.Request.P99Ms)
	}
	if p.Ceiling && p.Kind == "postgres" {
		p.logf("[%s] ceiling: COPY of the same %d rows", p.Kind, p.Workload.Events)
		if !p.Ingest {
			// The scratch table copies the store's tickets table:
			// migrate the schema first.
			if _, err := Preload(ctx, PreloadConfig{DatabaseURL: db.url, Tickets: 0}); err != nil {
				return err
			}
		}
		rep.Ceiling, err = Ceiling(ctx, CeilingConfig{Workload: p.Workload, DSN: db.url, Progress: p.Progress})
		if err != nil {
			return err
		}
		p.logf("  COPY %.0f rows/s", rep.Ceiling.RowsPerS)
		if rep.Ingest != nil && rep.Ceiling.RowsPerS > 0 {
			rep.IngestRatio = round2(rep.Ingest.EventsPerS / rep.Ceiling.RowsPerS)
		}
	}
	return nil
}

func (p *Plan) runScale(ctx context.Context, rep *StoreReport) error {
	stored := 0
	if p.Scale {
		// A pass at the small size is one sample: take the median of three
		// fresh stores so one cold cache does not decide the comparison.
		var runs []*SchedulerResult
		for i := range 3 {
			small, err := p.newDatabase(ctx, fmt.Sprintf("scale_small%d", i))
			if err != nil {
				return err
			}
			p.logf("[%s] scale: preload %d tickets (1%% due), run %d of 3", p.Kind, p.SmallTickets, i+1)
			rep.PreloadSmall, err = Preload(ctx, PreloadConfig{DatabaseURL: small.url, Tickets: p.SmallTickets, DueEvery: 100})
			var sr *SchedulerResult
			if err == nil {
				sr, err = SchedulerCost(ctx, small.url, p.SmallTickets, 100)
			}
			small.drop()
			if err != nil {
				return err
			}
			runs = append(runs, sr)
		}
		slices.SortFunc(runs, func(a, b *SchedulerResult) int { return cmp.Compare(a.PerTicketUs, b.PerTicketUs) })
		rep.SchedulerSmall = runs[1]
		p.logf("  scheduler pass p50 %.2f ms, %.1f µs per due ticket (median of 3)", rep.SchedulerSmall.Pass.P50Ms, rep.SchedulerSmall.PerTicketUs)
		stored = p.ScaleTickets
	} else {
		// A lateness run on a preloaded store takes the scale mode's
		// steps too: its scheduler pass fires the preload's due tickets
		// before the server starts, so the lateness is measured on the
		// same store as in the all mode (and the reads cost seconds).
		stored = p.LatenessStored
	}
	db, err := p.newDatabase(ctx, "scale")
	if err != nil {
		return err
	}
	defer db.drop()
	if stored > 0 {
		p.logf("[%s] scale: preload %d tickets (1%% due)", p.Kind, stored)
		rep.Preload, err = Preload(ctx, PreloadConfig{DatabaseURL: db.url, Tickets: stored, DueEvery: 100, Progress: p.Progress})
		if err != nil {
			return err
		}
		p.logf("  preloaded in %.1fs (%.0f tickets/s)", rep.Preload.Seconds, rep.Preload.RowsPerS)
		rep.Scheduler, err = SchedulerCost(ctx, db.url, stored, 100)
		if err != nil {
			return err
		}
		p.logf("  scheduler pass p50 %.2f ms, %.1f µs per due ticket", rep.Scheduler.Pass.P50Ms, rep.Scheduler.PerTicketUs)
	}

	mock, err := mockslack.New(nil)
	if err != nil {
		return err
	}
	slackSrv := httptest.NewServer(mock)
	defer slackSrv.Close()
	srv, err := p.spawn(ctx, db.url, "scale", slackSrv.URL+mockslack.WebhookPath)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	rep.ServerReadyS = round2(srv.ReadyAfter.Seconds())

	if stored > 0 {
		p.logf("[%s] scale: reads on %d stored tickets", p.Kind, stored)
		rep.Reads, err = Reads(ctx, srv, stored, PreloadID, p.Dashboards, p.TicketReads)
		if err != nil {
			return err
		}
		p.logf("  dashboard p99 %.1f ms, ticket p99 %.1f ms, queue page p99 %.1f ms", rep.Reads.Dashboard.P99Ms, rep.Reads.Ticket.P99Ms, rep.Reads.Queue.P99Ms)
	}
	if p.Lateness {
		if err := p.runLateness(ctx, rep, srv, mock, stored); err != nil {
			return err
		}
	}
	// The scale figure is the server's peak with the stored tickets, the
	// reads and the lateness runs, read before the bulk import adds its
	// own tickets (its lateness result has the peak after it).
	if m, ok := ReadMemory(srv.PID); ok {
		rep.ScaleMemory = &m
	}
	if p.BulkLateness {
		if err := p.runBulkLateness(ctx, rep, srv, mock); err != nil {
			return err
		}
	}
	return srv.Stop()
}

// runLateness runs the lateness mode twice on the scale mode's server:
// response stages alone, then half of them next-reply cycles.
func (p *Plan) runLateness(ctx context.Context, rep *StoreReport, srv *Server, mock *mockslack.Server, stored int) error {
	p.logf("[%s] lateness: %d tickets due within 1s, %d stored", p.Kind, p.LatenessTickets, stored)
	passes := evalPasses(ctx, srv.URL)
	var err error
	rep.Lateness, err = Lateness(ctx, LatenessConfig{Server: srv, Slack: mock, Tickets: p.LatenessTickets, Lead: p.Lead, RunID: randomHex(3), Progress: p.Progress})
	if err != nil {
		return err
	}
	passes(rep.Lateness)
	p.logf("  slack p99 %.0f ms, websocket p99 %.0f ms, exactly once: %v", rep.Lateness.Slack.Lateness.P99Ms, rep.Lateness.WebSocket.Lateness.P99Ms, rep.Lateness.ExactlyOnce)
	p.logf("[%s] lateness, half the stages next-reply cycles: %d tickets due within 1s", p.Kind, p.LatenessTickets)
	rep.LatenessCycles, err = Lateness(ctx, LatenessConfig{Server: srv, Slack: mock, Tickets: p.LatenessTickets, Lead: p.Lead,
		RunID: randomHex(3), Progress: p.Progress, Cycles: true})
	if err != nil {
		return err
	}
	p.logf("  slack p99 %.0f ms, websocket p99 %.0f ms, exactly once: %v", rep.LatenessCycles.Slack.Lateness.P99Ms,
		rep.LatenessCycles.WebSocket.Lateness.P99Ms, rep.LatenessCycles.ExactlyOnce)
	return nil
}

// evalPasses starts counting the server's scheduler passes (its /metrics);
// the func it returns writes their number and mean duration since into l.
func evalPasses(ctx context.Context, url string) func(l *LatenessResult) {
	sum0, n0, _ := MetricSum(ctx, url, "watchdog_evaluation_duration_seconds")
	return func(l *LatenessResult) {
		if sum1, n1, err := MetricSum(ctx, url, "watchdog_evaluation_duration_seconds"); err == nil && n1 > n0 {
			l.EvalPasses = n1 - n0
			l.EvalMeanMs = round2(1000 * (sum1 - sum0) / (n1 - n0))
		}
	}
}

// errNoBulkRate is Run's answer to a bulk-lateness plan that can measure
// no rate for its import and was given none.
var errNoBulkRate = errors.New("bulk-lateness: no rate for the bulk import: run it with the ingest mode (all), whose events/s it halves, or give one (-bulk-rate N events/s)")

// bulkRate is the bulk import's rate: half the ingest mode's events/s when
// this run measured it on this store, else BulkRate.
func (p *Plan) bulkRate(rep *StoreReport) (rate float64, from string, err error) {
	if rep.Ingest != nil && rep.Ingest.EventsPerS > 0 {
		return rep.Ingest.EventsPerS / 2, fmt.Sprintf("half the ingest mode's %.0f events/s", rep.Ingest.EventsPerS), nil
	}
	if p.BulkRate > 0 {
		return p.BulkRate, "given (-bulk-rate)", nil
	}
	return 0, "", errNoBulkRate
}

// runBulkLateness runs the lateness mode on the scale mode's server while
// another client imports tickets at half the store's ingest rate.
func (p *Plan) runBulkLateness(ctx context.Context, rep *StoreReport, srv *Server, mock *mockslack.Server) error {
	rate, from, err := p.bulkRate(rep)
	if err != nil {
		return err
	}
	c := BulkLatenessConfig{
		Lateness:   LatenessConfig{Server: srv, Slack: mock, Tickets: p.LatenessTickets, Lead: p.Lead, RunID: randomHex(3), Progress: p.Progress},
		Bulk:       BulkConfig{Workload: p.Workload, Rate: rate, Progress: p.Progress},
		TargetFrom: from,
	}
	c.Bulk.RunID = "bulk" + randomHex(3)
	if rep.Ingest != nil {
		c.NoAlertsPerS = rep.Ingest.EventsPerS
	}
	p.logf("[%s] lateness under a bulk import: %d tickets due within 1s while another client posts %.0f events/s (%s)", p.Kind, p.LatenessTickets, rate, from)
	passes := evalPasses(ctx, srv.URL)
	res, err := BulkLateness(ctx, c)
	if err != nil {
		return err
	}
	passes(res.Lateness)
	rep.BulkLateness = res
	l, b := res.Lateness, res.Bulk
	p.logf("  slack p99 %.0f ms, websocket p99 %.0f ms, exactly once: %v; bulk import %.0f events/s during the run (%.0f overall, target %.0f)",
		l.Slack.Lateness.P99Ms, l.WebSocket.Lateness.P99Ms, l.ExactlyOnce, b.DuringPerS, b.EventsPerS, b.TargetPerS)
	return nil
}

// runCatchup imports tickets whose every stage is past into a fresh store
// and times their recording and delivery.
func (p *Plan) runCatchup(ctx context.Context, rep *StoreReport) error {
	db, err := p.newDatabase(ctx, "catchup")
	if err != nil {
		return err
	}
	defer db.drop()
	mock, err := mockslack.New(nil)
	if err != nil {
		return err
	}
	slackSrv := httptest.NewServer(mock)
	defer slackSrv.Close()
	srv, err := p.spawn(ctx, db.url, "catchup", slackSrv.URL+mockslack.WebhookPath)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	p.logf("[%s] catch-up: %d tickets with every stage past, imported %d per request", p.Kind, p.CatchUpTickets, p.CatchUpBatch)
	rep.CatchUp, err = Catchup(ctx, CatchupConfig{Server: srv, Slack: mock, Tickets: p.CatchUpTickets, Batch: p.CatchUpBatch,
		RunID: randomHex(3), Progress: p.Progress})
	if err != nil {
		return err
	}
	c := rep.CatchUp
	p.logf("  %d of %d stages recorded in %.1fs from the first batch (%.0f stages/s); every stage on Slack %.1fs and on the WebSocket %.1fs after the last batch's answer; exactly once: %v",
		c.Recorded, c.Stages, c.RecordedS, c.StagesPerS, c.Slack.Lateness.MaxMs/1000, c.WebSocket.Lateness.MaxMs/1000, c.ExactlyOnce)
	return srv.Stop()
}
