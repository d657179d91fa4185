// Package server assembles Ticket Watchdog's HTTP service (store, engine,
// Slack notifiers, SLA file watcher, WebSocket hub, metrics and API) so
// that cmd/watchdogd, tests and programs embedding the service run it the
// same way.
package server

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/metrics"
	"github.com/ticket-watchdog/watchdog/notify/websocket"
	"github.com/ticket-watchdog/watchdog/store"
	"github.com/ticket-watchdog/watchdog/ui"
)

// Server is the assembled service. Create it with New, run it with Run (or
// RunBackground when the caller serves Handler itself), then Close it.
type Server struct {
	cfg       *Config
	store     watchdog.Store
	ownStore  bool // opened by New, so closed by Close
	metrics   *metrics.Metrics
	ns        map[string]watchdog.Notifier
	notifiers []string
	// notifications is the SLA file's notifications section at start-up
	// (nil: none), whose receivers are ns.
	notifications *watchdog.Notifications
	initial       *watchdog.Policy
	hosts         hostPolicy
	engine        *watchdog.Engine
	policy        *policyStartup
	hub           *websocket.Hub
	// handler serves the API: the starting one while the database is
	// awaited (see Config.DBWait), then the engine's.
	handler switchHandler
	// waiting is set while the store is still to be opened: New found the
	// database unreachable, and Run keeps trying.
	waiting *dbWait

	closeStore sync.Once
	mu         sync.Mutex
	ln         net.Listener
}

// New opens the store (unless Config.Store is set), loads the SLA file and
// builds the engine, notifiers, metrics, WebSocket hub and API handler. It
// neither listens nor starts the engine: Run does. When the database is
// unreachable, New does not fail unless Config.DBWait is negative: it
// returns a server whose Run serves the API (liveness yes, readiness and
// everything else 503) while it keeps trying to open the store for
// DBWait, and then builds the rest. Errors about a Config field are
// *ConfigError.
func New(ctx context.Context, cfg *Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: cfg.Store}
	if err := s.prepare(); err != nil {
		return nil, err
	}
	if s.store == nil {
		start := time.Now()
		if err := s.openStore(ctx); err != nil {
			if !retryableOpen(err) || cfg.DBWait < 0 {
				return nil, err
			}
			s.waiting = &dbWait{since: start, attempts: 1, lastErr: err}
			s.waiting.logFailure(cfg)
			h, err := s.startingAPI()
			if err != nil {
				return nil, err
			}
			s.setHandler(h, nil)
			return s, nil
		}
	}
	if err := s.assemble(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) openStore(ctx context.Context) error {
	target, err := store.ParseURL(s.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if s.store, err = store.OpenTarget(ctx, target); err != nil {
		return err
	}
	s.ownStore = true
	s.cfg.Logger.Info("store opened", "store", target.String())
	return nil
}

// prepare builds the parts that need no store: metrics, notifiers, the
// initial policy, the Host policy and the WebSocket hub.
func (s *Server) prepare() error {
	log := s.cfg.Logger
	m, err := metrics.New(nil, &metrics.Config{Logger: log})
	if err != nil {
		return err
	}
	s.metrics = m
	if s.notifications, err = startNotifications(s.cfg); err != nil {
		return err
	}
	if s.notifications != nil {
		s.ns, err = receiverNotifiers(s.cfg, s.notifications)
	} else {
		s.ns, err = notifiers(s.cfg)
	}
	if err != nil {
		return err
	}
	s.notifiers = slices.Sorted(maps.Keys(s.ns))
	m.InitNotifiers(s.notifiers...)
	if len(s.ns) == 0 && s.notifications == nil {
		log.Warn("no Slack destination configured (SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with SLACK_CHANNEL): alerts are recorded and streamed on /ws/alerts only")
	}
	if s.initial, err = initialPolicy(s.cfg); err != nil {
		return err
	}
	s.hosts = newHostPolicy(s.cfg.ListenAddr, s.cfg.PublicURL)
	if s.hosts.any {
		log.Warn("the Host header is not checked: on a non-loopback address without a public URL (WATCHDOG_PUBLIC_URL) any host is answered; set it to the address clients use, to guard against DNS rebinding",
			"listen", s.cfg.ListenAddr)
	}
	s.hub = websocket.NewHub(&websocket.Config{
		AllowedOrigins: s.cfg.AllowedOrigins, TrustedHosts: trustedOrigins(s.cfg.PublicURL),
		Logger: log, MaxClients: s.cfg.MaxWebSocketClients,
	})
	m.SetWebSocketClients(s.hub.Clients)
	return nil
}

// assemble builds the engine and its API over the open store.
func (s *Server) assemble(ctx context.Context) error {
	initial, ns, m, log := s.initial, s.ns, s.metrics, s.cfg.Logger
	eng, err := watchdog.New(s.store, &watchdog.Config{
		Policy: initial, Clock: s.cfg.Clock, Notifiers: ns, Logger: log, Observer: m, SweepInterval: s.cfg.SweepInterval,
		ClaimTTL: s.cfg.ClaimTTL, DeliveryTimeout: s.cfg.DeliveryTimeout,
	})
	if err != nil {
		return err
	}
	if s.policy, err = startPolicy(ctx, s.cfg, eng, m, newReceiverSet(s.cfg, m, s.notifications, ns)); err != nil {
		return err
	}
	m.SetOpenTickets(openTickets(eng))
	pages, err := s.newUI(eng)
	if err != nil {
		return err
	}
	apiCfg := s.apiConfig(readiness(s.store, s.policy), s.hub)
	apiCfg.SessionAuth = sessionAuth(pages)
	h, err := api.New(eng, apiCfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.engine = eng
	s.mu.Unlock()
	s.setHandler(h, pages)
	return nil
}

// apiConfig is the API's configuration with ready as its readiness check
// and alerts serving /ws/alerts.
func (s *Server) apiConfig(ready func(context.Context) (map[string]any, error), alerts http.Handler) *api.Config {
	return &api.Config{
		MaxBodyBytes:   s.cfg.MaxBodyBytes,
		MaxBatch:       s.cfg.MaxBatch,
		APIToken:       s.cfg.APIToken,
		Logger:         s.cfg.Logger,
		Alerts:         alerts,
		Metrics:        s.metrics.Handler(),
		Observer:       s.metrics,
		Ready:          ready,
		AllowHost:      s.hosts.allow,
		RequestTimeout: s.cfg.RequestTimeout,
	}
}

// Handler is the API: every route of watchdogd, /readyz, /metrics and
// /ws/alerts included. Mount it on a mux of your own with RunBackground.
func (s *Server) Handler() http.Handler { return &s.handler }

// Engine is the server's engine; nil while Run waits for the database.
func (s *Server) Engine() *watchdog.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine
}

// Hub is the WebSocket hub behind /ws/alerts.
func (s *Server) Hub() *websocket.Hub { return s.hub }

// storeCloseTimeout bounds Close's wait for the store to close.
const storeCloseTimeout = 10 * time.Second

// Close releases what New opened: the listener, if Run has not served on
// it, and the store, unless Config.Store was given. Call it after Run. A
// store that takes more than 10s to close (its database frozen in the
// middle of a handshake, say) is left closing, so that Close returns in
// bounded time whatever the database does.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close() // already closed if Run served on it
	}
	s.mu.Unlock()
	if !s.ownStore {
		return nil
	}
	var done chan error
	s.closeStore.Do(func() {
		done = make(chan error, 1)
		go func() { done <- s.store.Close() }()
	})
	if done == nil {
		return nil // closed by an earlier call
	}
	select {
	case err := <-done:
		return err
	case <-time.After(storeCloseTimeout):
		return fmt.Errorf("server: the store did not close within %s", storeCloseTimeout)
	}
}

// setHandler serves the API h from now on, wrapped in Config.Middleware if
// set, with the web UI's pages beside it (nil: none).
func (s *Server) setHandler(h http.Handler, pages *ui.Handler) {
	if s.cfg.Middleware != nil {
		h = s.cfg.Middleware(h)
	}
	s.handler.set(withUI(h, pages))
}

// switchHandler serves the handler set last.
type switchHandler struct {
	h atomic.Pointer[http.Handler]
}

func (sh *switchHandler) set(h http.Handler) { sh.h.Store(&h) }

func (sh *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*sh.h.Load()).ServeHTTP(w, r)
}
