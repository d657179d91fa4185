package metrics

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/policywatch"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

func setup(t *testing.T, cfg *Config) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := New(reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// histogram returns the sample count and sum of one histogram series.
func histogram(t *testing.T, o prometheus.Observer) (uint64, float64) {
	t.Helper()
	var d dto.Metric
	if err := o.(prometheus.Metric).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetHistogram().GetSampleCount(), d.GetHistogram().GetSampleSum()
}

// bucket returns the cumulative count of the histogram bucket with upper
// bound le.
func bucket(t *testing.T, o prometheus.Observer, le float64) uint64 {
	t.Helper()
	var d dto.Metric
	if err := o.(prometheus.Metric).Write(&d); err != nil {
		t.Fatal(err)
	}
	for _, b := range d.GetHistogram().GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	t.Fatalf("no bucket le=%v", le)
	return 0
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEventsIngested(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, nil)
	m.EventsIngested(5, 3)
	m.EventsIngested(2, 0)
	if got := testutil.ToFloat64(m.eventsIngested); got != 7 {
		t.Errorf("events_ingested_total %v, want 7", got)
	}
	if got := testutil.ToFloat64(m.ticketsChanged); got != 3 {
		t.Errorf("tickets_changed_total %v, want 3", got)
	}
}

func TestAlertFired(t *testing.T) {
	t.Parallel()
	m, reg := setup(t, nil)
	gold := watchdog.Alert{TicketID: "T-1", SLAClock: watchdog.Response, Stage: watchdog.StageAlert, CustomerTier: "gold"}
	m.AlertFired(gold, 1500*time.Millisecond, false)
	m.AlertFired(gold, -time.Second, false) // clocks may disagree slightly: counts as on time
	breach := gold
	breach.Stage, breach.SLAClock = watchdog.StageBreach, watchdog.Resolution
	m.AlertFired(breach, 20*time.Second, false)
	// A ticket imported a year late: counted, but not as lateness.
	m.AlertFired(breach, 365*24*time.Hour, true)

	if got := testutil.ToFloat64(m.alertsFired.WithLabelValues("alert", "response", "gold")); got != 2 {
		t.Errorf("alerts_fired_total{alert,response,gold} %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.alertsFired.WithLabelValues("breach", "resolution", "gold")); got != 2 {
		t.Errorf("alerts_fired_total{breach,resolution,gold} %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.alertsBackfilled.WithLabelValues("breach", "resolution", "gold")); got != 1 {
		t.Errorf("alerts_backfilled_total{breach,resolution,gold} %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "watchdog_alerts_backfilled_total"); err != nil || n != 1 {
		t.Errorf("alerts_backfilled_total series %d (%v), want 1", n, err)
	}
	n, sum := histogram(t, m.alertLateness)
	if n != 3 || !near(sum, 21.5) {
		t.Errorf("alert_lateness_seconds count %d sum %v, want 3 and 21.5", n, sum)
	}
	if got := bucket(t, m.alertLateness, 0.001); got != 1 {
		t.Errorf("lateness within 1ms: %d, want 1 (the negative one)", got)
	}
	if got := bucket(t, m.alertLateness, 60); got != 3 {
		t.Errorf("lateness within 60s: %d, want 3", got)
	}
	if n, err := testutil.GatherAndCount(reg, "watchdog_alerts_fired_total"); err != nil || n != 2 {
		t.Errorf("alerts_fired_total series %d (%v), want 2", n, err)
	}
}

func TestDeliveryFinished(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, nil)
	m.InitNotifiers("slack", "websocket")
	m.DeliveryFinished("slack", watchdog.DeliveryPending, 200*time.Millisecond)
	m.DeliveryFinished("slack", watchdog.DeliveryPending, 300*time.Millisecond)
	m.DeliveryFinished("slack", watchdog.DeliveryDelivered, 100*time.Millisecond)
	m.DeliveryFinished("websocket", watchdog.DeliveryFailed, time.Millisecond)

	for _, tc := range []struct {
		notifier, outcome string
		want              float64
	}{
		{"slack", "retry", 2}, {"slack", "delivered", 1}, {"slack", "failed", 0},
		{"websocket", "failed", 1}, {"websocket", "delivered", 0},
	} {
		if got := testutil.ToFloat64(m.deliveries.WithLabelValues(tc.notifier, tc.outcome)); got != tc.want {
			t.Errorf("deliveries_total{%s,%s} %v, want %v", tc.notifier, tc.outcome, got, tc.want)
		}
	}
	if n, sum := histogram(t, m.deliveryDuration.WithLabelValues("slack")); n != 3 || !near(sum, 0.6) {
		t.Errorf("delivery_duration_seconds{slack} count %d sum %v, want 3 and 0.6", n, sum)
	}
	if got := testutil.CollectAndCount(m.deliveries); got != 6 {
		t.Errorf("deliveries_total has %d series, want 6 (2 notifiers × 3 outcomes, pre-created)", got)
	}
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	for status, want := range map[watchdog.DeliveryStatus]string{
		watchdog.DeliveryDelivered: "delivered",
		watchdog.DeliveryFailed:    "failed",
		watchdog.DeliveryPending:   "retry",
	} {
		if got := Outcome(status); got != want {
			t.Errorf("Outcome(%s) = %s, want %s", status, got, want)
		}
	}
}

func TestEvaluated(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, nil)
	m.Evaluated(10, 2, 40*time.Millisecond)
	m.Evaluated(0, 0, 10*time.Millisecond)
	if got := testutil.ToFloat64(m.evaluations); got != 2 {
		t.Errorf("evaluations_total %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.evaluatedTickets); got != 10 {
		t.Errorf("evaluated_tickets_total %v, want 10", got)
	}
	if n, sum := histogram(t, m.evaluationDuration); n != 2 || !near(sum, 0.05) {
		t.Errorf("evaluation_duration_seconds count %d sum %v, want 2 and 0.05", n, sum)
	}
}

func TestIngestHeld(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, nil)
	m.IngestHeld(300 * time.Millisecond)
	m.IngestHeld(-time.Millisecond) // a clock moved back counts as no wait
	if n, sum := histogram(t, m.ingestHeld); n != 2 || !near(sum, 0.3) {
		t.Errorf("ingest_held_seconds count %d sum %v, want 2 and 0.3", n, sum)
	}
}

func TestObserveRequest(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, nil)
	m.ObserveRequest("POST /tickets", "POST", 200, 30*time.Millisecond)
	m.ObserveRequest("POST /tickets", "POST", 422, 2*time.Millisecond)
	m.ObserveRequest("POST /tickets", "POST", 200, 10*time.Millisecond)
	m.ObserveRequest("", "BREW", 405, time.Millisecond)

	if n, sum := histogram(t, m.httpDuration.WithLabelValues("POST /tickets", "POST", "200")); n != 2 || !near(sum, 0.04) {
		t.Errorf("POST /tickets 200: count %d sum %v, want 2 and 0.04", n, sum)
	}
	if n, _ := histogram(t, m.httpDuration.WithLabelValues("POST /tickets", "POST", "422")); n != 1 {
		t.Errorf("POST /tickets 422: count %d, want 1", n)
	}
	if n, _ := histogram(t, m.httpDuration.WithLabelValues("", "OTHER", "405")); n != 1 {
		t.Errorf("unknown method not folded into OTHER: count %d", n)
	}
	if got := testutil.CollectAndCount(m.httpDuration); got != 3 {
		t.Errorf("%d request series, want 3", got)
	}
}

func TestPolicyReloaded(t *testing.T) {
	t.Parallel()
	m, reg := setup(t, nil)
	ok := time.Date(2026, 11, 27, 9, 0, 0, 500_000_000, time.UTC)
	m.PolicyReloaded(ok, "")
	m.PolicyReloaded(ok, "line 4: tiers.gold.high.response: bad")

	want := `
# HELP watchdog_policy_reload_failures_total Failed SLA file load attempts.
# TYPE watchdog_policy_reload_failures_total counter
watchdog_policy_reload_failures_total 1
# HELP watchdog_policy_reload_success Whether the last SLA file load attempt succeeded (1) or failed (0).
# TYPE watchdog_policy_reload_success gauge
watchdog_policy_reload_success 0
# HELP watchdog_policy_reload_timestamp_seconds Unix time of the last successful SLA file load.
# TYPE watchdog_policy_reload_timestamp_seconds gauge
watchdog_policy_reload_timestamp_seconds 1.7957700005e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"watchdog_policy_reload_failures_total", "watchdog_policy_reload_success", "watchdog_policy_reload_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// TestPolicyReloadedFromWatcher wires the metrics to a real watcher of a
// real file.
func TestPolicyReloadedFromWatcher(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, nil)
	clock := watchdogtest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "sla.yaml")
	if err := os.WriteFile(path, []byte("tiers:\n  gold:\n    high: {response: 30, resolution: 180}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := policywatch.New(path, func(context.Context, *watchdog.Policy) error { return nil },
		&policywatch.Config{Clock: clock, OnReload: func(s policywatch.Status) { m.PolicyReloaded(s.LastSuccess, s.LastError) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.reloadSuccess); got != 1 {
		t.Errorf("policy_reload_success %v after a good load, want 1", got)
	}
	if got := testutil.ToFloat64(m.reloadTimestamp); got != float64(clock.Now().Unix()) {
		t.Errorf("policy_reload_timestamp_seconds %v, want %d", got, clock.Now().Unix())
	}

	clock.Advance(time.Hour)
	if err := os.WriteFile(path, []byte("tiers:\n  gold:\n    high: {response: soon}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Load(t.Context()); err == nil {
		t.Fatal("broken file loaded")
	}
	if got := testutil.ToFloat64(m.reloadSuccess); got != 0 {
		t.Errorf("policy_reload_success %v after a failed load, want 0", got)
	}
	if got := testutil.ToFloat64(m.reloadFailures); got != 1 {
		t.Errorf("policy_reload_failures_total %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.reloadTimestamp); got != float64(clock.Now().Add(-time.Hour).Unix()) {
		t.Errorf("policy_reload_timestamp_seconds %v moved on a failure", got)
	}
}

func TestWebSocketClients(t *testing.T) {
	t.Parallel()
	m, reg := setup(t, nil)
	want := func(v string) {
		t.Helper()
		exp := "# HELP watchdog_websocket_clients Connected WebSocket alert clients.\n" +
			"# TYPE watchdog_websocket_clients gauge\nwatchdog_websocket_clients " + v + "\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(exp), "watchdog_websocket_clients"); err != nil {
			t.Error(err)
		}
	}
	want("0")
	var n atomic.Int64
	n.Store(3)
	m.SetWebSocketClients(func() int { return int(n.Load()) })
	want("3")
	n.Store(1)
	want("1")
	m.SetWebSocketClients(nil)
	want("0")
}

func TestNew(t *testing.T) {
	t.Parallel()
	t.Run("duplicate registration", func(t *testing.T) {
		t.Parallel()
		reg := prometheus.NewRegistry()
		if _, err := New(reg, nil); err != nil {
			t.Fatal(err)
		}
		var are prometheus.AlreadyRegisteredError
		if _, err := New(reg, nil); !errors.As(err, &are) {
			t.Fatalf("second New on one registry: %v, want AlreadyRegisteredError", err)
		}
	})
	t.Run("own registry has runtime metrics", func(t *testing.T) {
		t.Parallel()
		m, err := New(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := testutil.GatherAndCount(m.Registry(), "go_goroutines", "watchdog_events_ingested_total"); err != nil || n != 2 {
			t.Fatalf("gathered %d (%v), want go_goroutines and watchdog_events_ingested_total", n, err)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		t.Parallel()
		for _, cfg := range []*Config{{OpenTicketsTimeout: -1}, {OpenTicketsTTL: -1}} {
			if _, err := New(prometheus.NewRegistry(), cfg); err == nil {
				t.Errorf("New(%+v) accepted", cfg)
			}
		}
	})
}

// openTicketsText is the exposition of open_tickets with the given lines.
func openTicketsText(lines ...string) string {
	return "# HELP watchdog_open_tickets Open tickets by SLA state, counted at most once per cache period.\n" +
		"# TYPE watchdog_open_tickets gauge\n" + strings.Join(lines, "\n") + "\n"
}

func TestOpenTicketsCache(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	m, reg := setup(t, &Config{Clock: clock, OpenTicketsTTL: 15 * time.Second})

	if n, err := testutil.GatherAndCount(reg, "watchdog_open_tickets"); err != nil || n != 0 {
		t.Fatalf("open_tickets without a callback: %d series (%v), want none", n, err)
	}

	var calls atomic.Int64
	counts := map[string]int{"ok": 900_000, "alert": 70_000, "breach": 30_000}
	m.SetOpenTickets(func(ctx context.Context) (map[string]int, error) {
		calls.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			return nil, errors.New("callback got no deadline")
		}
		return counts, nil
	})
	first := openTicketsText(
		`watchdog_open_tickets{state="alert"} 70000`,
		`watchdog_open_tickets{state="breach"} 30000`,
		`watchdog_open_tickets{state="ok"} 900000`,
		`watchdog_open_tickets{state="untracked"} 0`,
	)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(first), "watchdog_open_tickets"); err != nil {
		t.Fatal(err)
	}
	counts = map[string]int{"ok": 1} // the cache must not alias the callback's map
	clock.Advance(14 * time.Second)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(first), "watchdog_open_tickets"); err != nil {
		t.Fatalf("within the cache period: %v", err)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("callback called %d times within the cache period, want 1", got)
	}
	clock.Advance(time.Second)
	second := openTicketsText(
		`watchdog_open_tickets{state="alert"} 0`,
		`watchdog_open_tickets{state="breach"} 0`,
		`watchdog_open_tickets{state="ok"} 1`,
		`watchdog_open_tickets{state="untracked"} 0`,
	)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(second), "watchdog_open_tickets"); err != nil {
		t.Fatalf("after the cache period: %v", err)
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("callback called %d times, want 2", got)
	}
}

func TestOpenTicketsErrors(t *testing.T) {
	t.Parallel()
	clock := watchdogtest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	m, reg := setup(t, &Config{Clock: clock, OpenTicketsTTL: 15 * time.Second})
	var fail atomic.Bool
	fail.Store(true)
	m.SetOpenTickets(func(context.Context) (map[string]int, error) {
		if fail.Load() {
			return nil, errors.New("database unreachable")
		}
		return map[string]int{"ok": 4}, nil
	})
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "database unreachable") {
		t.Fatalf("gather with a failing count and no cache: %v, want the cause", err)
	}
	fail.Store(false)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	// A failure after a good count serves the last good count.
	fail.Store(true)
	clock.Advance(time.Minute)
	want := openTicketsText(
		`watchdog_open_tickets{state="alert"} 0`,
		`watchdog_open_tickets{state="breach"} 0`,
		`watchdog_open_tickets{state="ok"} 4`,
		`watchdog_open_tickets{state="untracked"} 0`,
	)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "watchdog_open_tickets"); err != nil {
		t.Fatalf("stale count not served: %v", err)
	}
	if got := testutil.ToFloat64(m.openTickets.errors); got != 2 {
		t.Errorf("open_tickets_count_errors_total %v, want 2", got)
	}
}

func TestOpenTicketsPanicIsAnError(t *testing.T) {
	t.Parallel()
	m, reg := setup(t, nil)
	m.SetOpenTickets(func(context.Context) (map[string]int, error) { panic("boom") })
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("gather with a panicking callback: %v", err)
	}
}

func TestOpenTicketsTimeout(t *testing.T) {
	t.Parallel()
	t.Run("callback honours its context", func(t *testing.T) {
		t.Parallel()
		m, reg := setup(t, &Config{OpenTicketsTimeout: 50 * time.Millisecond})
		got := make(chan error, 1)
		m.SetOpenTickets(func(ctx context.Context) (map[string]int, error) {
			<-ctx.Done()
			got <- ctx.Err()
			return nil, ctx.Err()
		})
		if _, err := reg.Gather(); err == nil {
			t.Fatal("gather succeeded although the count timed out")
		}
		select {
		case err := <-got:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("callback context ended with %v, want DeadlineExceeded", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("callback context never ended")
		}
	})
	t.Run("callback ignores its context", func(t *testing.T) {
		t.Parallel()
		m, reg := setup(t, &Config{OpenTicketsTimeout: 50 * time.Millisecond})
		release := make(chan struct{})
		defer close(release)
		var calls atomic.Int64
		m.SetOpenTickets(func(context.Context) (map[string]int, error) {
			calls.Add(1)
			<-release
			return map[string]int{"ok": 1}, nil
		})
		for range 3 {
			done := make(chan error, 1)
			go func() {
				_, err := reg.Gather()
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "took over 50ms") {
					t.Fatalf("gather: %v, want a timeout error", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("gather blocked on a callback that ignores its context")
			}
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("a stuck count was started %d times, want once", got)
		}
	})
}

func TestHandler(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, nil)
	m.EventsIngested(5, 5)
	m.ObserveRequest("GET /dashboard", "GET", 200, time.Millisecond)
	m.SetOpenTickets(func(context.Context) (map[string]int, error) { return nil, errors.New("database unreachable") })
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	scrape := func() string {
		t.Helper()
		res, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200 even with a failing collector:\n%s", res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want the text format", ct)
		}
		return string(body)
	}
	// The first scrape's gathering error is counted after it is encoded.
	scrape()
	body := scrape()
	for _, want := range []string{
		"watchdog_events_ingested_total 5",
		`watchdog_http_request_duration_seconds_count{code="200",method="GET",route="GET /dashboard"} 1`,
		"# TYPE watchdog_alert_lateness_seconds histogram",
		"watchdog_policy_reload_success 0",
		`promhttp_metric_handler_errors_total{cause="gathering"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if strings.Contains(body, "watchdog_open_tickets{") {
		t.Error("a failed count with no cache must not report values")
	}

	// Scraping the live server compares like any other gatherer.
	exp := "# HELP watchdog_events_ingested_total Ticket events accepted in committed batches.\n" +
		"# TYPE watchdog_events_ingested_total counter\nwatchdog_events_ingested_total 5\n"
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(exp), "watchdog_events_ingested_total"); err != nil {
		t.Error(err)
	}
}

func TestOutcomeRecorded(t *testing.T) {
	t.Parallel()
	m, reg := setup(t, nil)
	stopped := time.Date(2026, 11, 2, 9, 10, 0, 0, time.UTC)
	m.OutcomeRecorded(watchdog.Outcome{SLAClock: watchdog.Response, Tier: "gold", StoppedAt: &stopped})
	m.OutcomeRecorded(watchdog.Outcome{SLAClock: watchdog.Response, Tier: "gold", StoppedAt: &stopped, Breached: true})
	m.OutcomeRecorded(watchdog.Outcome{SLAClock: watchdog.Response, Tier: "gold", StoppedAt: &stopped})
	if got := testutil.ToFloat64(m.slaOutcomes.WithLabelValues("response", "gold", "met")); got != 2 {
		t.Errorf("met %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.slaOutcomes.WithLabelValues("response", "gold", "missed")); got != 1 {
		t.Errorf("missed %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "watchdog_sla_outcomes_total"); err != nil || n != 2 {
		t.Errorf("watchdog_sla_outcomes_total series: %d, %v; want 2", n, err)
	}
}
