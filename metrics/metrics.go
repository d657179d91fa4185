// Package metrics exposes Ticket Watchdog's Prometheus metrics: HTTP request
// latency, events ingested, alerts fired and their lateness (or, for stages
// already due when the commit that made them due landed, the backfilled
// count instead), deliveries by notifier and outcome, scheduler passes,
// ingest calls held back while the evaluation is behind, SLA file reloads,
// open tickets by state and WebSocket clients. All names are under the
// "watchdog" namespace.
//
// A *Metrics is a watchdog.Observer (give it to watchdog.Config.Observer),
// records API requests (ObserveRequest) and SLA file reloads
// (PolicyReloaded), and serves its registry (Handler):
//
//	m, err := metrics.New(nil, nil)
//	if err != nil { ... }
//	engine, err := watchdog.New(store, &watchdog.Config{Observer: m})
//	m.SetOpenTickets(countOpenTicketsByState)
//	mux.Handle("GET /metrics", m.Handler())
package metrics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ticket-watchdog/watchdog"
)

// Namespace prefixes every metric name.
const Namespace = "watchdog"

// Defaults of Config.
const (
	DefaultOpenTicketsTimeout = 2 * time.Second
	DefaultOpenTicketsTTL     = 15 * time.Second
)

// Delivery outcomes, the "outcome" label of deliveries_total.
const (
	OutcomeDelivered = "delivered"
	OutcomeFailed    = "failed"
	OutcomeRetry     = "retry"
)

// Config configures Metrics. A nil *Config means all defaults.
type Config struct {
	// Clock times the open-tickets cache; nil means the system clock.
	Clock watchdog.Clock
	// OpenTicketsTimeout bounds one call of the open-tickets callback, so
	// that a slow database cannot stall a scrape. Default 2s.
	OpenTicketsTimeout time.Duration
	// OpenTicketsTTL is how long open-ticket counts are reused between
	// scrapes, so that frequent scrapes of a large store stay cheap.
	// Default 15s.
	OpenTicketsTTL time.Duration
	// Logger receives scrape errors; nil discards them.
	Logger *slog.Logger
}

// WithDefaults returns a copy of c with every unset field defaulted.
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.Clock = cmp.Or[watchdog.Clock](out.Clock, watchdog.SystemClock{})
	out.OpenTicketsTimeout = cmp.Or(out.OpenTicketsTimeout, DefaultOpenTicketsTimeout)
	out.OpenTicketsTTL = cmp.Or(out.OpenTicketsTTL, DefaultOpenTicketsTTL)
	out.Logger = cmp.Or(out.Logger, slog.New(slog.DiscardHandler))
	return &out
}

func (c *Config) validate() error {
	switch {
	case c.OpenTicketsTimeout < 0:
		return errors.New("metrics: Config.OpenTicketsTimeout must not be negative")
	case c.OpenTicketsTTL < 0:
		return errors.New("metrics: Config.OpenTicketsTTL must not be negative")
	}
	return nil
}

// OpenTicketsFunc counts open tickets by state ("ok", "alert", "breach",
// "untracked", ...). It is called at scrape time, at most once per
// Config.OpenTicketsTTL, with a context bounded by Config.OpenTicketsTimeout.
type OpenTicketsFunc func(ctx context.Context) (map[string]int, error)

// Metrics holds the service's Prometheus metrics. It is safe for concurrent
// use. Create it with New.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	httpDuration       *prometheus.HistogramVec
	eventsIngested     prometheus.Counter
	ticketsChanged     prometheus.Counter
	alertsFired        *prometheus.CounterVec
	alertLateness      prometheus.Histogram
	alertsBackfilled   *prometheus.CounterVec
	slaOutcomes        *prometheus.CounterVec
	deliveries         *prometheus.CounterVec
	deliveryDuration   *prometheus.HistogramVec
	evaluations        prometheus.Counter
	evaluatedTickets   prometheus.Counter
	evaluationDuration prometheus.Histogram
	ingestHeld         prometheus.Histogram
	reloadSuccess      prometheus.Gauge
	reloadTimestamp    prometheus.Gauge
	reloadFailures     prometheus.Counter
	openTickets        *openTicketsCollector
	wsClients          atomic.Pointer[func() int]
}

var (
	_ watchdog.Observer           = (*Metrics)(nil)
	_ watchdog.IngestHeldObserver = (*Metrics)(nil)
)

// New creates the metrics and registers them with reg. A nil reg means a new
// registry that also holds the Go runtime and process collectors. It fails
// when a metric of the same name is already registered.
func New(reg *prometheus.Registry, cfg *Config) (*Metrics, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
		if err := registerAll(reg,
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		); err != nil {
			return nil, err
		}
	}
	m := newMetrics(reg, cfg)
	if err := registerAll(reg, m.collectors()...); err != nil {
		return nil, err
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slogPrintln{cfg.Logger},
		// A failing collector (the open-tickets count when the database is
		// down) must not hide every other metric.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	})
	return m, nil
}

// newMetrics defines every metric, unregistered.
func newMetrics(reg *prometheus.Registry, cfg *Config) *Metrics {
	return &Metrics{
		reg: reg,
		httpDuration: newHistogramVec("http_request_duration_seconds",
			"Latency of HTTP API requests by route pattern, method and status code.",
			[]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
			"route", "method", "code"),
		eventsIngested: newCounter("events_ingested_total", "Ticket events accepted in committed batches."),
		ticketsChanged: newCounter("tickets_changed_total", "Tickets changed by ingested events."),
		alertsFired: newCounterVec("alerts_fired_total",
			"Alerts recorded, by stage, SLA clock and customer tier.", "stage", "sla_type", "tier"),
		alertLateness: newHistogram("alert_lateness_seconds",
			"How long after its due instant each alert was recorded, for stages reached while the service ran (backfilled ones are counted in alerts_backfilled_total instead).",
			[]float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
		alertsBackfilled: newCounterVec("alerts_backfilled_total",
			"Alerts whose stage was already due when the ingest or policy change that made it due committed (such as a ticket imported after its deadlines), by stage, SLA clock and customer tier; left out of alert_lateness_seconds.",
			"stage", "sla_type", "tier"),
		slaOutcomes: newCounterVec("sla_outcomes_total",
			"SLA clocks stopped, by SLA clock, customer tier and result (met, missed); each clock cycle counts once, when first recorded stopped.",
			"sla_type", "tier", "result"),
		deliveries: newCounterVec("deliveries_total",
			"Alert delivery attempts by notifier and outcome (delivered, failed for good, retry).", "notifier", "outcome"),
		deliveryDuration: newHistogramVec("delivery_duration_seconds",
			"Duration of alert delivery attempts by notifier.",
			[]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, "notifier"),
		evaluations:      newCounter("evaluations_total", "Scheduler evaluation passes over due tickets."),
		evaluatedTickets: newCounter("evaluated_tickets_total", "Due tickets evaluated by the scheduler."),
		evaluationDuration: newHistogram("evaluation_duration_seconds",
			"Duration of scheduler evaluation passes.",
			[]float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
		ingestHeld: newHistogram("ingest_held_seconds",
			"How long ingest calls waited for their turn while the evaluation was behind on alerts due on time (the engine's IngestWhileBehind).",
			[]float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
		reloadSuccess:   newGauge("policy_reload_success", "Whether the last SLA file load attempt succeeded (1) or failed (0)."),
		reloadTimestamp: newGauge("policy_reload_timestamp_seconds", "Unix time of the last successful SLA file load."),
		reloadFailures:  newCounter("policy_reload_failures_total", "Failed SLA file load attempts."),
		openTickets:     newOpenTicketsCollector(cfg),
	}
}

// collectors lists what New registers: every metric, the open-tickets
// collector and its error counter, and the WebSocket clients gauge.
func (m *Metrics) collectors() []prometheus.Collector {
	wsClients := prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("websocket_clients", "Connected WebSocket alert clients.")),
		func() float64 {
			if fn := m.wsClients.Load(); fn != nil {
				return float64((*fn)())
			}
			return 0
		})
	return []prometheus.Collector{
		m.httpDuration, m.eventsIngested, m.ticketsChanged, m.alertsFired, m.alertLateness, m.alertsBackfilled, m.slaOutcomes,
		m.deliveries, m.deliveryDuration, m.evaluations, m.evaluatedTickets, m.evaluationDuration, m.ingestHeld,
		m.reloadSuccess, m.reloadTimestamp, m.reloadFailures, m.openTickets, wsClients,
		m.openTickets.errors,
	}
}

// opts names a metric under Namespace.
func opts(name, help string) prometheus.Opts {
	return prometheus.Opts{Namespace: Namespace, Name: name, Help: help}
}

func newCounter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts(opts(name, help)))
}

func newCounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts(opts(name, help)), labels)
}

func newGauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts(opts(name, help)))
}

func histogramOpts(name, help string, buckets []float64) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}
}

func newHistogram(name, help string, buckets []float64) prometheus.Histogram {
	return prometheus.NewHistogram(histogramOpts(name, help, buckets))
}

func newHistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(histogramOpts(name, help, buckets), labels)
}

func registerAll(reg *prometheus.Registry, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: register: %w", err)
		}
	}
	return nil
}

// Registry returns the registry the metrics are registered with.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler { return m.handler }

// ObserveRequest records one HTTP API request. route should be the mux
// pattern (such as "GET /tickets/{id}"), never the raw path, to keep the
// number of series bounded.
func (m *Metrics) ObserveRequest(route, method string, code int, d time.Duration) {
	m.httpDuration.WithLabelValues(route, normMethod(method), strconv.Itoa(code)).Observe(d.Seconds())
}

// normMethod maps client-chosen method names outside the standard set to
// "OTHER", so that a client cannot create series at will.
func normMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// EventsIngested counts a committed batch; see watchdog.Observer.
func (m *Metrics) EventsIngested(events, changed int) {
	m.eventsIngested.Add(float64(max(events, 0)))
	m.ticketsChanged.Add(float64(max(changed, 0)))
}

// IngestHeld records how long an ingest call waited for its turn while the
// evaluation was behind; see watchdog.IngestHeldObserver.
func (m *Metrics) IngestHeld(waited time.Duration) {
	m.ingestHeld.Observe(max(waited, 0).Seconds())
}

// AlertFired counts an alert and records its lateness, or counts it as
// backfilled; see watchdog.Observer.
func (m *Metrics) AlertFired(a watchdog.Alert, lateness time.Duration, backfilled bool) {
	m.alertsFired.WithLabelValues(a.Stage, string(a.SLAClock), a.CustomerTier).Inc()
	if backfilled {
		m.alertsBackfilled.WithLabelValues(a.Stage, string(a.SLAClock), a.CustomerTier).Inc()
		return
	}
	m.alertLateness.Observe(max(lateness, 0).Seconds())
}

// OutcomeRecorded counts an SLA clock's outcome recorded stopped for the
// first time; see watchdog.Observer.
func (m *Metrics) OutcomeRecorded(o watchdog.Outcome) {
	m.slaOutcomes.WithLabelValues(string(o.SLAClock), o.Tier, o.Result()).Inc()
}

// DeliveryFinished counts a delivery attempt by outcome (a pending status
// means the attempt failed and will be retried) and records its duration;
// see watchdog.Observer.
func (m *Metrics) DeliveryFinished(notifier string, status watchdog.DeliveryStatus, took time.Duration) {
	m.deliveries.WithLabelValues(notifier, Outcome(status)).Inc()
	m.deliveryDuration.WithLabelValues(notifier).Observe(max(took, 0).Seconds())
}

// Outcome is the deliveries_total "outcome" label of a delivery status.
func Outcome(s watchdog.DeliveryStatus) string {
	switch s {
	case watchdog.DeliveryDelivered:
		return OutcomeDelivered
	case watchdog.DeliveryFailed:
		return OutcomeFailed
	default:
		return OutcomeRetry
	}
}

// Evaluated counts a scheduler pass; see watchdog.Observer.
func (m *Metrics) Evaluated(tickets, _ int, took time.Duration) {
	m.evaluations.Inc()
	m.evaluatedTickets.Add(float64(max(tickets, 0)))
	m.evaluationDuration.Observe(max(took, 0).Seconds())
}

// InitNotifiers creates the delivery series of the named notifiers at zero,
// so that rates over them are defined before the first delivery.
func (m *Metrics) InitNotifiers(names ...string) {
	for _, n := range names {
		for _, o := range []string{OutcomeDelivered, OutcomeFailed, OutcomeRetry} {
			m.deliveries.WithLabelValues(n, o)
		}
		m.deliveryDuration.WithLabelValues(n)
	}
}

// PolicyReloaded records an SLA file load attempt: when a policy from the
// file was last put in force (zero if never) and why the attempt failed
// ("" when it succeeded).
func (m *Metrics) PolicyReloaded(lastSuccess time.Time, lastError string) {
	if lastError == "" {
		m.reloadSuccess.Set(1)
	} else {
		m.reloadSuccess.Set(0)
		m.reloadFailures.Inc()
	}
	if !lastSuccess.IsZero() {
		m.reloadTimestamp.Set(float64(lastSuccess.UnixNano()) / 1e9)
	}
}

// SetOpenTickets sets the function counting open tickets by state for the
// open_tickets gauge; nil stops reporting it.
func (m *Metrics) SetOpenTickets(fn OpenTicketsFunc) { m.openTickets.set(fn) }

// SetWebSocketClients sets the function reporting connected WebSocket
// clients for the websocket_clients gauge; nil reports 0. It is called at
// every scrape and must be cheap.
func (m *Metrics) SetWebSocketClients(fn func() int) {
	if fn == nil {
		m.wsClients.Store(nil)
		return
	}
	m.wsClients.Store(&fn)
}

// slogPrintln adapts a slog.Logger to promhttp.Logger.
type slogPrintln struct{ log *slog.Logger }

func (l slogPrintln) Println(v ...any) {
	l.log.Error("serving metrics", "err", fmt.Sprint(v...))
}
