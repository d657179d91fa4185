// Package api is Ticket Watchdog's HTTP API as an http.Handler, so that a
// Go backend can mount it on its own mux and cmd/watchdogd can serve it.
//
// Routes (seed-compatible, JSON everywhere):
//
//	POST /tickets          one event or an array; answers the resulting tickets
//	GET  /tickets/{id}     a ticket with status_history, alerts and sla clocks
//	GET  /dashboard        a page of tickets; X-Total-Count holds the total
//	GET  /alerts           recorded alerts, newest first (after_id, before_id, limit)
//	GET  /reports/sla      SLA outcomes aggregated by tier, priority, clock, calendar, period (JSON or CSV)
//	GET  /reports/sla/outcomes  the outcomes themselves, streamed (JSON or CSV)
//	GET  /ws/alerts        WebSocket stream of alerts (when a hub is configured)
//	GET  /healthz          liveness
//	GET  /readyz           readiness: store reachable, policy loaded
//	GET  /metrics          Prometheus metrics (when configured)
//	GET  /openapi.json     this API's OpenAPI 3.0 document (openapi.yaml)
//
// The routes, their answers and their bodies are described by openapi.yaml,
// which the tests check every handler against (internal/contract).
package api

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/httphost"
)

// Service is what the API needs from the engine: *watchdog.Engine has it.
type Service interface {
	Ingest(ctx context.Context, events []watchdog.Event) ([]*watchdog.Ticket, error)
	Ticket(ctx context.Context, id string) (*watchdog.TicketView, error)
	Dashboard(ctx context.Context, q watchdog.DashboardQuery) (*watchdog.DashboardPage, error)
	Alerts(ctx context.Context, q watchdog.AlertsQuery) ([]watchdog.Alert, error)
	SLAReport(ctx context.Context, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error)
	SLAOutcomes(ctx context.Context, q watchdog.SLAReportQuery, fn func(*watchdog.Outcome) error) error
}

// RequestObserver records one request, for metrics.
type RequestObserver interface {
	ObserveRequest(route, method string, code int, d time.Duration)
}

// Config configures the handler. A nil *Config means all defaults.
type Config struct {
	// MaxBodyBytes bounds a request body. Default 10 MiB.
	MaxBodyBytes int64
	// MaxBatch bounds the events of one POST /tickets. Default 10,000.
	MaxBatch int
	// APIToken, when set, is required as "Authorization: Bearer <token>"
	// on every route but /healthz, /readyz and /metrics. The WebSocket
	// route also takes it as the query parameter access_token.
	APIToken string
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Alerts serves GET /ws/alerts; nil leaves the route out.
	Alerts http.Handler
	// Metrics serves GET /metrics; nil leaves the route out.
	Metrics http.Handler
	// Observer records request latencies; nil ignores them.
	Observer RequestObserver
	// Ready reports readiness for /readyz: details shown in the body either
	// way, and an error (shown too) when not ready. nil means always
	// ready. Neither may hold a secret.
	Ready func(ctx context.Context) (details map[string]any, err error)
	// RequestTimeout bounds the store calls each request makes (the
	// readiness probe's too, within DefaultReadyTimeout): a store that has
	// not answered by then gets the request a 503 with Retry-After. The
	// alert stream is not bounded by it: its writes have deadlines of
	// their own. Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// AllowHost, when set, is asked about the host name of every request's
	// Host header (lower case, without port or brackets; "" when the
	// request has none), and a request for a host it refuses is answered
	// 421 Misdirected Request. It guards against DNS rebinding: a page
	// whose own name an attacker points at this server is same-origin for
	// the browser, but its requests name the attacker's host. nil serves
	// every host. Package server builds it from the listening address and
	// the public URL.
	AllowHost func(host string) bool
	// SessionAuth, when set with APIToken, authorises a GET request that
	// carries no valid bearer token when it returns true: package ui's
	// session cookie, so that the pages' scripts may read the API and
	// open /ws/alerts. Routes that change state always need the token.
	SessionAuth func(r *http.Request) bool
}

// Defaults.
const (
	DefaultMaxBodyBytes   = 10 << 20
	DefaultMaxBatch       = 10000
	DefaultRequestTimeout = 10 * time.Second
	// DefaultReadyTimeout bounds /readyz's store check (less when
	// Config.RequestTimeout is shorter), below the usual 5 s or more a
	// load balancer's health check waits.
	DefaultReadyTimeout = 5 * time.Second
)

// Handler is the API. Create it with New.
type Handler struct {
	svc    Service
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	routes []string
	health storeHealth
}

// New returns the API over svc.
func New(svc Service, cfg *Config) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("api: New: service is nil")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, DefaultMaxBodyBytes)
	c.MaxBatch = cmp.Or(c.MaxBatch, DefaultMaxBatch)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, DefaultRequestTimeout)
	if c.MaxBodyBytes < 0 || c.MaxBatch < 0 || c.RequestTimeout < 0 {
		return nil, errors.New("api: Config.MaxBodyBytes, Config.MaxBatch and Config.RequestTimeout must not be negative")
	}
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	if _, err := openAPIJSON(); err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, cfg: c, log: c.Logger, mux: http.NewServeMux(), health: storeHealth{log: c.Logger}}
	h.route("POST /tickets", true, h.postTickets)
	h.route("GET /tickets/{id}", true, h.getTicket)
	h.route("GET /dashboard", true, h.dashboard)
	h.route("GET /alerts", true, h.alerts)
	if _, ok := svc.(Acknowledger); ok {
		h.route("POST /tickets/{id}/ack", true, h.postAck)
		h.route("DELETE /tickets/{id}/ack", true, h.deleteAck)
	}
	h.route("GET /reports/sla", true, h.slaReport)
	h.route("GET /reports/sla/outcomes", true, h.slaOutcomes)
	h.route("GET /healthz", false, h.healthz)
	h.route("GET /readyz", false, h.readyz)
	h.route("GET /openapi.json", false, h.openAPI)
	if c.Alerts != nil {
		h.route("GET /ws/alerts", true, func(w http.ResponseWriter, r *http.Request) {
			// A WebSocket outlives the server's read and write timeouts,
			// which would otherwise stay on the hijacked connection.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
			c.Alerts.ServeHTTP(w, r)
		})
	}
	if c.Metrics != nil {
		h.route("GET /metrics", false, c.Metrics.ServeHTTP)
	}
	// Everything else, logged like the routes: 405 naming the allowed
	// methods when the path exists, 404 otherwise.
	h.route("/", false, h.unmatched)
	return h, nil
}

// ServeHTTP serves the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// Routes lists the patterns the handler serves, such as "GET
// /tickets/{id}", in registration order; the catch-all that answers 404
// and 405 is left out. The contract tests compare them with openapi.yaml.
func (h *Handler) Routes() []string {
	return append([]string(nil), h.routes...)
}

type ctxKey struct{}

// CorrelationID returns the request's correlation id (from X-Request-ID or
// generated) inside API handlers.
func CorrelationID(ctx context.Context) string {
	s, _ := ctx.Value(ctxKey{}).(string)
	return s
}

// route registers a handler with logging, metrics, auth and recovery.
func (h *Handler) route(pattern string, auth bool, fn http.HandlerFunc) {
	method, name, ok := strings.Cut(pattern, " ")
	if !ok {
		// The catch-all: one route label for every unmatched path, so
		// that clients cannot create metric series at will.
		method, name = "", "unmatched"
	} else {
		h.routes = append(h.routes, pattern)
	}
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cid := requestID(r.Header.Get("X-Request-ID"))
		w.Header().Set("X-Request-ID", cid)
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, cid))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.log.Error("handler panicked", "correlation_id", cid, "route", name, "panic", fmt.Sprint(p))
				if !rec.wrote {
					writeError(rec, http.StatusInternalServerError, "internal error", nil)
				}
			}
			d := time.Since(start)
			if h.cfg.Observer != nil {
				m := method
				m = cmp.Or(m, r.Method)
				h.cfg.Observer.ObserveRequest(name, m, rec.code, d)
			}
			h.log.Info("request", "correlation_id", cid, "method", r.Method, "route", name, "path", r.URL.Path,
				"status", rec.code, "latency_ms", float64(d.Microseconds())/1000, "bytes", rec.bytes)
		}()
		if h.cfg.AllowHost != nil && !h.cfg.AllowHost(httphost.Name(r.Host)) {
			writeError(rec, http.StatusMisdirectedRequest, "this server does not answer to host "+strconv.Quote(httphost.Name(r.Host))+
				" (a guard against DNS rebinding): use an address it is configured for", nil)
			return
		}
		if auth && h.cfg.APIToken != "" && !h.authorized(r, name == "/ws/alerts") && !h.session(r, method) {
			rec.Header().Set("WWW-Authenticate", `Bearer realm="watchdog"`)
			writeError(rec, http.StatusUnauthorized, "missing or wrong API token: send Authorization: Bearer <token>", nil)
			return
		}
		fn(rec, r)
	})
}

func (h *Handler) authorized(r *http.Request, ws bool) bool {
	got := ""
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		got = strings.TrimSpace(a[7:])
	} else if ws {
		// Browsers cannot set headers on a WebSocket; only the documented
		// parameter is read.
		got = r.URL.Query().Get("access_token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.APIToken)) == 1
}

// session reports whether the request is a read authorised by
// Config.SessionAuth.
func (h *Handler) session(r *http.Request, method string) bool {
	return method == http.MethodGet && r.Method == http.MethodGet && h.cfg.SessionAuth != nil && h.cfg.SessionAuth(r)
}

// requestID keeps a caller's X-Request-ID when it is short and printable,
// and makes one otherwise.
func requestID(in string) string {
	if in != "" && len(in) <= 128 {
		ok := true
		for _, c := range in {
			if c < 0x21 || c > 0x7e {
				ok = false
				break
			}
		}
		if ok {
			return in
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type recorder struct {
	http.ResponseWriter
	code  int
	bytes int
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code = code
		r.wrote = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// errorBody is every error's JSON shape.
type errorBody struct {
	Error   string                `json:"error"`
	Details []watchdog.FieldError `json:"details,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg string, details []watchdog.FieldError) {
	writeJSON(w, code, errorBody{Error: msg, Details: details})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"internal error: encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// unmatched answers requests no route takes.
func (h *Handler) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := h.mux.Handler(probe); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, " or "), nil)
		return
	}
	writeError(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path, nil)
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
