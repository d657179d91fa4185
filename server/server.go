// Package server assembles Ticket Watchdog's HTTP service (store, engine,
// Slack notifiers, SLA file watcher, WebSocket hub, metrics and API) so
// that cmd/watchdogd, tests and programs embedding the service run it the
// same way.
package server

import (
	"context"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/metrics"
	"github.com/ticket-watchdog/watchdog/notify/websocket"
	"github.com/ticket-watchdog/watchdog/store"
)

// Server is the assembled service. Create it with New, run it with Run (or
// RunBackground when the caller serves Handler itself), then Close it.
type Server struct {
	cfg       *Config
	store     watchdog.Store
	ownStore  bool // opened by New, so closed by Close
	metrics   *metrics.Metrics
	notifiers []string
	engine    *watchdog.Engine
	policy    *policyStartup
	hub       *websocket.Hub
	handler   http.Handler

	closeStore sync.Once
	mu         sync.Mutex
	ln         net.Listener
}

// New opens the store (unless Config.Store is set), loads the SLA file and
// builds the engine, notifiers, metrics, WebSocket hub and API handler. It
// neither listens nor starts the engine: Run does. Errors about a Config
// field are *ConfigError.
func New(ctx context.Context, cfg *Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: cfg.Store}
	if s.store == nil {
		if err := s.openStore(ctx); err != nil {
			return nil, err
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

// assemble builds the parts over the open store.
func (s *Server) assemble(ctx context.Context) error {
	log := s.cfg.Logger
	m, err := metrics.New(nil, &metrics.Config{Logger: log})
	if err != nil {
		return err
	}
	s.metrics = m
	ns, err := notifiers(s.cfg)
	if err != nil {
		return err
	}
	s.notifiers = slices.Sorted(maps.Keys(ns))
	m.InitNotifiers(s.notifiers...)
	if len(ns) == 0 {
		log.Warn("no Slack destination configured (SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with SLACK_CHANNEL): alerts are recorded and streamed on /ws/alerts only")
	}
	initial, err := initialPolicy(s.cfg)
	if err != nil {
		return err
	}
	s.engine, err = watchdog.New(s.store, &watchdog.Config{
		Policy: initial, Clock: s.cfg.Clock, Notifiers: ns, Logger: log, Observer: m, SweepInterval: s.cfg.SweepInterval,
		ClaimTTL: s.cfg.ClaimTTL, DeliveryTimeout: s.cfg.DeliveryTimeout,
	})
	if err != nil {
		return err
	}
	if s.policy, err = startPolicy(ctx, s.cfg, s.engine, m); err != nil {
		return err
	}
	hosts := newHostPolicy(s.cfg.ListenAddr, s.cfg.PublicURL)
	if hosts.any {
		log.Warn("the Host header is not checked: on a non-loopback address without a public URL (WATCHDOG_PUBLIC_URL) any host is answered; set it to the address clients use, to guard against DNS rebinding",
			"listen", s.cfg.ListenAddr)
	}
	s.hub = websocket.NewHub(&websocket.Config{
		AllowedOrigins: s.cfg.AllowedOrigins, TrustedHosts: trustedOrigins(s.cfg.PublicURL),
		Logger: log, MaxClients: s.cfg.MaxWebSocketClients,
	})
	m.SetWebSocketClients(s.hub.Clients)
	m.SetOpenTickets(openTickets(s.engine))
	pages, err := s.newUI(hosts.allow)
	if err != nil {
		return err
	}
	apiHandler, err := api.New(s.engine, &api.Config{
		MaxBodyBytes: s.cfg.MaxBodyBytes,
		MaxBatch:     s.cfg.MaxBatch,
		APIToken:     s.cfg.APIToken,
		Logger:       log,
		Alerts:       s.hub,
		Metrics:      m.Handler(),
		Observer:     m,
		Ready:        readiness(s.store, s.policy),
		AllowHost:    hosts.allow,
		SessionAuth:  sessionAuth(pages),
	})
	if err != nil {
		return err
	}
	s.handler = apiHandler
	if s.cfg.Middleware != nil {
		s.handler = s.cfg.Middleware(apiHandler)
	}
	s.handler = withUI(s.handler, pages)
	return nil
}

// Handler is the API and the web UI: every route of watchdogd, /readyz,
// /metrics, /ws/alerts and the pages under /ui/ included. Mount it on a
// mux of your own with RunBackground.
func (s *Server) Handler() http.Handler { return s.handler }

// Engine is the server's engine.
func (s *Server) Engine() *watchdog.Engine { return s.engine }

// Hub is the WebSocket hub behind /ws/alerts.
func (s *Server) Hub() *websocket.Hub { return s.hub }

// Close releases what New opened: the listener, if Run has not served on
// it, and the store, unless Config.Store was given. Call it after Run.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.ln != nil {
		_ = s.ln.Close() // already closed if Run served on it
	}
	s.mu.Unlock()
	var err error
	if s.ownStore {
		s.closeStore.Do(func() { err = s.store.Close() })
	}
	return err
}
