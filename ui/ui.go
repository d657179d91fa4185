package ui

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/httphost"
)

// Service is what the pages read: *watchdog.Engine has it.
type Service interface {
	Dashboard(ctx context.Context, q watchdog.DashboardQuery) (*watchdog.DashboardPage, error)
	Ticket(ctx context.Context, id string) (*watchdog.TicketView, error)
	Alerts(ctx context.Context, q watchdog.AlertsQuery) ([]watchdog.Alert, error)
	Policy() *watchdog.Policy
}

// RequestObserver records one request, for metrics (as api's).
type RequestObserver interface {
	ObserveRequest(route, method string, code int, d time.Duration)
}

// Config configures the pages. A nil *Config means all defaults: open
// pages, the system clock, no compliance reports.
type Config struct {
	// APIToken, when set, is asked for once by the login page; the
	// session cookie it sets authorises the pages (and, through
	// Handler.Authorized given to api.Config.SessionAuth, the API's GET
	// routes and /ws/alerts). Empty leaves the pages open, as the API is.
	APIToken string
	// Clock tells the time: the countdowns count from its "now", and
	// sessions expire by it. nil means the system clock.
	Clock watchdog.Clock
	// AllowHost decides which Host headers are answered, as
	// api.Config.AllowHost does (421 otherwise); nil answers every host.
	AllowHost func(host string) bool
	// PolicyStatus tells the policy page where the policy in force came
	// from and how its last reload went; nil shows the policy alone.
	PolicyStatus func() PolicyStatus
	// Compliance serves the compliance page; nil shows that reports are
	// not available.
	Compliance ComplianceSource
	// Acks, when set, shows each ticket's acknowledgements with the
	// acknowledge and withdraw forms; nil hides the section.
	Acks Acknowledger
	// PageSize is the queue's default rows per page. Default 50.
	PageSize int
	// CountLimit bounds the queue's count of matching tickets (see
	// watchdog.DashboardQuery.CountLimit). Default 10,000.
	CountLimit int
	// SessionTTL is how long a login lasts. Default 12 hours.
	SessionTTL time.Duration
	// RequestTimeout bounds the store calls a page makes, as the API's
	// (WATCHDOG_REQUEST_TIMEOUT): past it the page is a 503. Default 10s.
	RequestTimeout time.Duration
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Observer records request latencies; nil ignores them.
	Observer RequestObserver
}

// Defaults.
const (
	DefaultPageSize   = 50
	MaxPageSize       = 200
	DefaultCountLimit = 10000
	DefaultSessionTTL = 12 * time.Hour
)

// Handler serves the pages under /ui/. Create it with New.
type Handler struct {
	svc   Service
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	pages map[string]*template.Template
	keys  sessionKeys
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// New returns the pages over svc.
func New(svc Service, cfg *Config) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("ui: New: service is nil")
	}
	c := *cmp.Or(cfg, &Config{})
	if c.Clock == nil {
		c.Clock = watchdog.SystemClock{}
	}
	c.PageSize = cmp.Or(c.PageSize, DefaultPageSize)
	c.CountLimit = cmp.Or(c.CountLimit, DefaultCountLimit)
	c.SessionTTL = cmp.Or(c.SessionTTL, DefaultSessionTTL)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	switch {
	case c.PageSize < 1 || c.PageSize > MaxPageSize:
		return nil, fmt.Errorf("ui: Config.PageSize must be between 1 and %d", MaxPageSize)
	case c.CountLimit < 0:
		return nil, errors.New("ui: Config.CountLimit must not be negative")
	case c.SessionTTL < 0:
		return nil, errors.New("ui: Config.SessionTTL must not be negative")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, cfg: c, log: c.Logger, mux: http.NewServeMux(), pages: pages, keys: newSessionKeys(c.APIToken)}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	h.page("GET /ui/{$}", "/ui/", h.queue)
	h.page("GET /ui/feed", "/ui/feed", h.feed)
	h.page("GET /ui/tickets/{id}", "/ui/tickets/{id}", h.ticket)
	h.page("POST /ui/tickets/{id}/ack", "/ui/tickets/{id}/ack", h.acknowledge)
	h.page("GET /ui/compliance", "/ui/compliance", h.compliance)
	h.page("GET /ui/compliance.csv", "/ui/compliance.csv", h.complianceCSV)
	h.page("GET /ui/policy", "/ui/policy", h.policy)
	h.open("GET /ui/login", "/ui/login", h.loginForm)
	h.open("POST /ui/login", "/ui/login", h.login)
	h.open("POST /ui/logout", "/ui/logout", h.logout)
	assets, _ := fs.Sub(assetFS, "assets")
	files := http.StripPrefix("/ui/assets/", http.FileServerFS(assets))
	h.open("GET /ui/assets/", "/ui/assets/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	h.open("/ui/", "unmatched", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, "No page at "+r.URL.Path+".")
	})
}

// ServeHTTP serves the pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// page registers a page that needs a session when a token is set.
func (h *Handler) page(pattern, route string, fn http.HandlerFunc) {
	h.handle(pattern, route, true, fn)
}

// open registers a route served without a session: login, logout, assets.
func (h *Handler) open(pattern, route string, fn http.HandlerFunc) {
	h.handle(pattern, route, false, fn)
}

func (h *Handler) handle(pattern, route string, auth bool, fn http.HandlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			d := time.Since(start)
			if h.cfg.Observer != nil {
				h.cfg.Observer.ObserveRequest("ui "+route, r.Method, rec.code, d)
			}
			h.log.Info("request", "method", r.Method, "route", "ui "+route, "path", r.URL.Path, "status", rec.code,
				"latency_ms", float64(d.Microseconds())/1000)
		}()
		securityHeaders(rec.Header())
		if h.cfg.AllowHost != nil && !h.cfg.AllowHost(httphost.Name(r.Host)) {
			http.Error(rec, "this server does not answer to this host (a guard against DNS rebinding)", http.StatusMisdirectedRequest)
			return
		}
		if auth && !h.Authorized(r) {
			if r.Method != http.MethodGet {
				h.fail(rec, r, http.StatusUnauthorized, "Sign in first.")
				return
			}
			http.Redirect(rec, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), cmp.Or(h.cfg.RequestTimeout, 10*time.Second))
		defer cancel()
		fn(rec, r.WithContext(ctx))
	})
}

// securityHeaders keeps the pages to their own scripts, styles and
// connections, out of frames, and their URLs out of other sites' logs.
func securityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
}

type recorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// layout is what every page's frame shows.
type layout struct {
	Title string
	// Nav is the current section, for aria-current.
	Nav string
	// ServerNow is the server's clock at render, in Unix milliseconds:
	// the scripts count from it, not from the browser's clock.
	ServerNow int64
	// Auth is set when sign-in is required; CSRF is the form token.
	Auth bool
	CSRF string
	// Live loads the live script.
	Live bool
	Page any
}

// render writes a page; a template failure is a 500 with nothing written
// before it.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name string, l layout) {
	t := h.pages[name]
	l.ServerNow = h.cfg.Clock.Now().UnixMilli()
	l.Auth = h.cfg.APIToken != ""
	l.CSRF = h.csrfToken(w, r)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", l); err != nil {
		h.log.Error("rendering a page failed", "page", name, "err", err)
		http.Error(w, "internal error rendering the page; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the error page's content.
type errorPage struct {
	Code    int
	Message string
}

// fail renders the error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	h.render(w, r, code, "error", layout{Title: http.StatusText(code), Page: errorPage{Code: code, Message: msg}})
}

// serviceError renders a failed read: the store being unavailable is a
// 503 the reader may retry; the rest is logged.
func (h *Handler) serviceError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *watchdog.ValidationError
	switch {
	case errors.As(err, &ve):
		h.fail(w, r, http.StatusBadRequest, "Invalid request: "+ve.Error())
	case errors.Is(err, watchdog.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "Not found.")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		w.WriteHeader(499)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, watchdog.ErrClosed), errors.Is(err, watchdog.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, "The store is unavailable; reload in a moment.")
	default:
		h.log.Error("page failed", "path", r.URL.Path, "err", err)
		h.fail(w, r, http.StatusInternalServerError, "Internal error; see the server log.")
	}
}
