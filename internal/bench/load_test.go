package bench

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// watchdogd is the server binary the plan tests spawn, built once by
// TestMain.
var watchdogd string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "watchdog-bench-internal-test-")
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

// smallPlan is a plan at test scale on kind, spawning the test's
// watchdogd; it skips a postgres plan when no server answers.
func smallPlan(t *testing.T, kind string) *Plan {
	t.Helper()
	p := &Plan{Kind: kind, Binary: watchdogd, WorkDir: t.TempDir(),
		Workload:        Workload{Batch: 100, Streams: 2, UpdateFraction: 0.2, Seed: 7},
		LatenessTickets: 50, LatenessStored: 300, Lead: 4 * time.Second, Dashboards: 3, TicketReads: 3}
	if kind == "postgres" {
		_ = pgtest.DSN(t) // skips (or fails under CI) when no server answers
		p.PostgresURL = pgtest.BaseURL()
	}
	return p
}

func runPlan(t *testing.T, p *Plan) *StoreReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("%s: %v", p.Kind, err)
	}
	return rep
}

// The lateness run under a bulk import: every stage once on both channels,
// none of the imported tickets' alerts among them, and the import ran from
// before the first lateness ticket to the end of the wait, at its pace.
func TestBulkLatenessOnPreloadedStore(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			p := smallPlan(t, kind)
			p.BulkLateness, p.BulkRate = true, 1500
			rep := runPlan(t, p)
			if rep.Lateness != nil || rep.LatenessCycles != nil {
				t.Errorf("the plain lateness runs ran too: %+v, %+v", rep.Lateness, rep.LatenessCycles)
			}
			if rep.Preload == nil || rep.Preload.Tickets != 300 {
				t.Errorf("preload = %+v, want 300 tickets", rep.Preload)
			}
			res := rep.BulkLateness
			if res == nil || res.Lateness == nil || res.Bulk == nil {
				t.Fatalf("bulk lateness = %+v", res)
			}
			l, b := res.Lateness, res.Bulk
			if !l.ExactlyOnce || l.Stages != 100 || l.Slack.Lateness.N != 100 || l.WebSocket.Lateness.N != 100 ||
				l.Slack.Unexpected+l.WebSocket.Unexpected != 0 {
				t.Errorf("lateness = %+v, want 100 stages once each on both channels and nothing else", l)
			}
			if b.TargetPerS != 1500 || !strings.Contains(b.TargetFrom, "-bulk-rate") || b.NoAlertsPerS != 0 {
				t.Errorf("bulk target = %.0f from %q (no-alerts %v), want the given 1500", b.TargetPerS, b.TargetFrom, b.NoAlertsPerS)
			}
			// It started the 2 s warm-up before the first lateness ticket
			// and posted all through the lateness run (5 s at least: the
			// lead and the spread).
			if b.StartedBeforeS < 1.9 || b.DuringS < 4 || b.DuringEvents == 0 || b.Events < b.DuringEvents {
				t.Errorf("bulk = %+v: want a start 2 s ahead and events answered during the lateness run", b)
			}
			if b.Request.N*b.Batch < b.Events || b.Batch != 100 || b.Connections != 2 {
				t.Errorf("bulk = %+v: %d requests cannot carry %d events of batches of 100", b, b.Request.N, b.Events)
			}
			// Paced: never more than the rate (plus one batch per
			// connection in flight), and near it on an idle server.
			if most := 1500*b.Seconds + 200; float64(b.Events) > most || b.EventsPerS < 0.5*1500 {
				t.Errorf("bulk posted %d events in %.1fs (%.0f/s), want about 1500/s", b.Events, b.Seconds, b.EventsPerS)
			}
		})
	}
}

// The bulk client's tickets are stored: one it created can be read back.
func TestBulkImportStoresItsTickets(t *testing.T) {
	ctx := context.Background()
	srv, stop, err := StartInProcess(ctx, filepath.Join(t.TempDir(), "bulk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop() }()
	b, err := StartBulk(ctx, BulkConfig{Workload: Workload{Batch: 50, Streams: 2, UpdateFraction: 0.2, RunID: "t", Seed: 1}, Server: srv, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for b.Acked() < 300 && waitCtx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	res, err := b.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if res.Events < 300 || res.Events%50 != 0 || res.Request.N != res.Events/50 {
		t.Fatalf("bulk = %+v, want at least 300 events in batches of 50", res)
	}
	api, err := newAPIClient(srv.URL, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ZD-t-0-0-0000000", "ZD-t-0-1-0000000"} {
		if _, err := api.Ticket(ctx, id); err != nil {
			t.Errorf("GET /tickets/%s: %v", id, err)
		}
	}
	if n := b.between(time.Time{}, time.Now()); n != res.Events {
		t.Errorf("between(all time) = %d, want the %d events answered", n, res.Events)
	}
}

// A bulk-lateness plan with no ingest mode and no rate fails at once,
// before it preloads anything.
func TestBulkLatenessNeedsARate(t *testing.T) {
	p := &Plan{Kind: "sqlite", WorkDir: t.TempDir(), BulkLateness: true, LatenessStored: 1000000}
	start := time.Now()
	if _, err := p.Run(context.Background()); !errors.Is(err, errNoBulkRate) {
		t.Fatalf("Run = %v, want errNoBulkRate", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the plan preloaded before failing")
	}
	if _, _, err := p.bulkRate(&StoreReport{Ingest: &IngestResult{EventsPerS: 20000}}); err != nil {
		t.Error(err)
	}
	if rate, from, _ := p.bulkRate(&StoreReport{Ingest: &IngestResult{EventsPerS: 20000}}); rate != 10000 || !strings.Contains(from, "half") {
		t.Errorf("bulkRate with an ingest figure = %v (%s), want half of it", rate, from)
	}
}

// Catch-up: every stage of every imported ticket recorded and delivered
// once on each channel, counted by the server too.
func TestCatchupRecordsEveryStageOnce(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			p := smallPlan(t, kind)
			p.CatchUp, p.CatchUpTickets, p.CatchUpBatch = true, 300, 70
			c := runPlan(t, p).CatchUp
			if c == nil {
				t.Fatal("no catch-up result")
			}
			if c.Tickets != 300 || c.Batch != 70 || c.ImportRequest.N != 5 {
				t.Errorf("catch-up = %+v, want 300 tickets in 5 requests", c)
			}
			if c.StagesPerTicket != 4 || c.Stages != 1200 || c.Recorded != 1200 || !c.ExactlyOnce ||
				c.Slack.Lateness.N != 1200 || c.WebSocket.Lateness.N != 1200 {
				t.Errorf("catch-up = %+v, want 1200 stages (4 a ticket) recorded and once on each channel", c)
			}
			// FiredS is 0 (no figure) when every stage was fired by a pass
			// whose instant came before the import started: a pass takes its
			// instant, then claims, and on a loaded machine a pass woken
			// just before the import can claim all of its 300 tickets.
			if c.StagesPerS <= 0 || c.RecordedS <= 0 || c.FiredS < 0 || c.FiredS > c.RecordedS+0.01 {
				t.Errorf("catch-up rate %.0f stages/s over %.2fs (fired by %.2fs): want the fired instants before the receipts", c.StagesPerS, c.RecordedS, c.FiredS)
			}
			// Nothing arrives before the first batch was sent.
			if c.WebSocket.Lateness.MinMs < -1000*c.ImportS-10 || c.Slack.Lateness.MinMs < -1000*c.ImportS-10 {
				t.Errorf("catch-up arrivals: slack %+v, websocket %+v (import %.2fs)", c.Slack.Lateness, c.WebSocket.Lateness, c.ImportS)
			}
			v := c.Server
			if v.AlertsRecorded != 1200 || v.Backfilled != 1200 || v.EvaluatedTickets < 300 || v.EvalPasses < 1 || v.SlackDelivered < 1 || v.CPUS <= 0 {
				t.Errorf("server side = %+v, want 1200 alerts recorded, all backfilled, over 300 tickets evaluated", v)
			}
		})
	}
}

// The expected stages come from the policy: its stages, for each clock an
// open ticket with no response runs.
func TestCatchupStagesComeFromThePolicy(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	created := now.Add(-catchupAge)
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		t.Fatal(err)
	}
	got, err := catchupStages(p, created, now)
	want := []stageKey{{"", "response", "alert"}, {"", "response", "breach"}, {"", "resolution", "alert"}, {"", "resolution", "breach"}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("catchupStages(PolicyYAML) = %v, %v; want %v", got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stage %d = %v, want %v", i, got[i], want[i])
		}
	}
	esc, err := watchdog.ParsePolicy([]byte("escalation: [1.5, 2.0]\ntiers:\n  gold:\n    high: {response: 4h, resolution: 24h}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := catchupStages(esc, created, now); err != nil || len(got) != 8 {
		t.Errorf("with two escalation steps: %d stages, %v; want 8", len(got), err)
	}
	if _, err := catchupStages(esc, now.Add(-30*time.Hour), now); err == nil {
		t.Error("a resolution escalation at 48h, 30h after creation, was taken as past")
	}
	if _, err := catchupStages(watchdog.DefaultPolicy(), created, now); err != nil {
		t.Errorf("the seed policy (gold/high 30 min and 3 h): %v", err)
	}
	none, err := watchdog.ParsePolicy([]byte("tiers:\n  silver:\n    high: {response: 4h, resolution: 24h}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catchupStages(none, created, now); err == nil {
		t.Error("a policy without the catch-up tier was accepted")
	}
}

func TestProcCPUOfThisProcess(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn a little CPU
	}
	if cpu, ok := ProcCPU(os.Getpid()); !ok || cpu <= 0 {
		t.Errorf("ProcCPU(self) = %v, %v", cpu, ok)
	}
	if _, ok := ProcCPU(0); ok {
		t.Error("pid 0 reported CPU")
	}
}
