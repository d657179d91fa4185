package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownGrace bounds the HTTP part of a graceful shutdown: requests in
// flight, whose store calls end at their deadline (Config.RequestTimeout),
// get that long and 5s more to be answered; then WebSocket clients are
// closed. (The engine's part is bounded by its own timeouts.)
func (s *Server) shutdownGrace() time.Duration { return s.cfg.RequestTimeout + 5*time.Second }

// Listen opens the API's listener on Config.ListenAddr, so that Addr is
// known before Run serves; Run calls it when the caller has not.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.ListenAddr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the address the API listens on, such as "127.0.0.1:8000" (with
// the port the kernel picked when Config.ListenAddr asks for port 0), or ""
// before Listen.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run serves the API on Config.ListenAddr (and profiles on
// Config.DebugAddr) and runs the engine, the WebSocket hub, the SLA file
// watcher and the start-up recompute of open tickets, until ctx is done.
// When New found the database unreachable, Run first serves the starting
// API while it waits for it (see Config.DBWait). Then it shuts down
// gracefully: requests in flight finish, WebSocket clients are closed, and
// the engine finishes the deliveries in flight. It returns nil after a
// shutdown ctx asked for, an error when the service could not start (the
// database still unreachable after DBWait) or serving failed. Call Run or
// RunBackground once.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	hs := s.httpServer()
	serveErr := make(chan error, 1)
	serving := false
	serve := func() {
		serving = true
		go func() { serveErr <- hs.Serve(s.ln) }()
	}
	if s.waiting != nil {
		serve()
		s.cfg.Logger.Info("listening; waiting for the database", "addr", s.Addr())
		if err := s.awaitStore(ctx); err != nil || s.Engine() == nil {
			s.shutdownHTTP(hs)
			return err
		}
	}
	bg, err := s.startBackground(ctx)
	if err != nil {
		s.shutdownHTTP(hs)
		return err
	}
	if s.cfg.DebugAddr != "" {
		dbg, err := startDebug(s.cfg.DebugAddr, s.cfg.Logger)
		if err != nil {
			s.shutdownHTTP(hs)
			bg.stop()
			return err
		}
		defer dbg.Close()
	}
	if !serving {
		serve()
	}
	s.cfg.Logger.Info("listening", "addr", s.Addr(), "notifiers", s.notifiers, "sla_config", s.cfg.SLAConfigPath, "auth", s.cfg.APIToken != "")
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		bg.stop()
		return fmt.Errorf("http server: %w", err)
	}
	s.cfg.Logger.Info("shutting down: finishing in-flight requests and deliveries")
	shutCtx, cancel := context.WithTimeout(context.Background(), s.shutdownGrace())
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		s.cfg.Logger.Warn("http shutdown incomplete", "err", err)
	}
	s.stop(shutCtx, bg)
	return nil
}

// shutdownHTTP stops serving when Run ends before the service started.
func (s *Server) shutdownHTTP(hs *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), s.shutdownGrace())
	defer cancel()
	_ = hs.Shutdown(ctx)
}

// RunBackground runs what Run runs but the HTTP servers, until ctx is done,
// for a program that serves Handler on a server of its own: stop that
// server first, then cancel ctx; RunBackground then closes the WebSocket
// clients and waits for the engine to finish the deliveries in flight.
// When New found the database unreachable, it first waits for it as Run
// does, while Handler answers as the starting API. It returns nil after a
// shutdown ctx asked for.
func (s *Server) RunBackground(ctx context.Context) error {
	if s.waiting != nil {
		if err := s.awaitStore(ctx); err != nil || s.Engine() == nil {
			return err
		}
	}
	bg, err := s.startBackground(ctx)
	if err != nil {
		return err
	}
	<-ctx.Done()
	shutCtx, cancel := context.WithTimeout(context.Background(), s.shutdownGrace())
	defer cancel()
	s.stop(shutCtx, bg)
	return nil
}

func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           &s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      max(60*time.Second, s.cfg.RequestTimeout+10*time.Second), // room to answer after the store's deadline
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}

// startBackground subscribes the hub to the engine's alerts and starts the
// hub, the start-up recompute, the engine and the SLA file watcher. They
// run detached from ctx's cancellation, so that deliveries go on while the
// HTTP server drains; stop ends them.
func (s *Server) startBackground(ctx context.Context) (*background, error) {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	bg := &background{ctx: runCtx, cancel: cancel, log: s.cfg.Logger}
	alerts, err := s.engine.Subscribe(runCtx)
	if err != nil {
		cancel()
		return nil, err
	}
	bg.start("websocket hub", func(ctx context.Context) error { return s.hub.Run(ctx, alerts) })
	bg.start("startup replan", s.policy.replan(s.engine))
	// Tickets stored before outcomes were recorded gain theirs in the
	// background; /readyz does not wait. A restart resumes (tickets done
	// keep their outcomes and are skipped).
	bg.start("outcome backfill", func(ctx context.Context) error {
		_, err := s.engine.BackfillOutcomes(ctx)
		return err
	})
	bg.start("engine", s.engine.Run)
	bg.start("policy watcher", s.policy.watcher.Run)
	return bg, nil
}

// stop closes the WebSocket clients, then stops the engine (which finishes
// the deliveries in flight) and the rest.
func (s *Server) stop(ctx context.Context, bg *background) {
	_ = s.hub.Shutdown(ctx)
	bg.stop()
	s.cfg.Logger.Info("stopped")
}

// background is the service's goroutines.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
}

// start runs fn until stop, logging an error it ends with.
func (b *background) start(name string, fn func(context.Context) error) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := fn(b.ctx); err != nil && !errors.Is(err, context.Canceled) {
			b.log.Error(name+" stopped", "err", err)
		}
	}()
}

// stop cancels the goroutines and waits for them to return.
func (b *background) stop() {
	b.cancel()
	b.wg.Wait()
}
