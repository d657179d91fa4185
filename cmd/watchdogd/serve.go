package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/metrics"
	"github.com/ticket-watchdog/watchdog/notify/slack"
	"github.com/ticket-watchdog/watchdog/notify/websocket"
	"github.com/ticket-watchdog/watchdog/policywatch"
	"github.com/ticket-watchdog/watchdog/store"
)

// serve runs the service until ctx is done, then shuts down gracefully:
// in-flight requests and deliveries finish first.
func serve(ctx context.Context, s *settings, logOut io.Writer) error {
	return serveWith(ctx, s, logOut, nil)
}

// serveWith is serve with a hook told the listening address, for tests.
func serveWith(ctx context.Context, s *settings, logOut io.Writer, listening func(addr string)) error {
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: s.LogLevel}))

	target, err := store.ParseURL(s.DatabaseURL)
	if err != nil {
		return err
	}
	st, err := store.OpenTarget(ctx, target)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store opened", "store", target.String())

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := metrics.New(reg, &metrics.Config{Logger: log})
	if err != nil {
		return err
	}

	notifiers, err := buildNotifiers(s)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(notifiers))
	for name := range notifiers {
		names = append(names, name)
	}
	m.InitNotifiers(names...)
	if len(notifiers) == 0 {
		log.Warn("no Slack destination configured (SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN with SLACK_CHANNEL): alerts are recorded and streamed on /ws/alerts only")
	}

	transform := func(p *watchdog.Policy) (*watchdog.Policy, error) {
		if s.AlertThreshold == nil && s.BreachThreshold == nil {
			return p, nil
		}
		alert, breach := p.Thresholds.Alert, p.Thresholds.Breach
		if s.AlertThreshold != nil {
			alert = *s.AlertThreshold
		}
		if s.BreachThreshold != nil {
			breach = *s.BreachThreshold
		}
		return p.WithThresholds(alert, breach)
	}
	initial, err := transform(watchdog.DefaultPolicy())
	if err != nil {
		return fmt.Errorf("ALERT_THRESHOLD/BREACH_THRESHOLD: %w", err)
	}
	eng, err := watchdog.New(st, &watchdog.Config{Policy: initial, Notifiers: notifiers, Logger: log, Observer: m, SweepInterval: s.SchedulerInterval})
	if err != nil {
		return err
	}
	// The first policy is put in force at once and open tickets are
	// recomputed in the background (they were stored under whatever policy
	// the previous run had), so a large store does not delay serving.
	// Later reloads recompute before they count as applied.
	started := false
	// recomputing is set while the startup replan runs; /readyz shows it.
	var recomputing atomic.Bool
	apply := func(ctx context.Context, p *watchdog.Policy) error {
		if started {
			return eng.SetPolicyAndReplan(ctx, p)
		}
		return eng.SetPolicy(p)
	}
	watcher, err := policywatch.New(s.SLAConfigPath, apply, &policywatch.Config{Logger: log, Transform: transform, OnReload: func(st policywatch.Status) { m.PolicyReloaded(st.LastSuccess, st.LastError) }})
	if err != nil {
		return err
	}
	usingDefault := false
	if err := watcher.Load(ctx); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("SLA file: %w", err)
		}
		usingDefault = true
		log.Warn("SLA file not found: using the built-in default policy (gold high/medium/low); creating the file loads it", "path", s.SLAConfigPath)
	}
	started = true

	hub := websocket.NewHub(&websocket.Config{AllowedOrigins: s.AllowedOrigins, Logger: log})
	m.SetWebSocketClients(hub.Clients)
	m.SetOpenTickets(func(ctx context.Context) (map[string]int, error) {
		open := true
		counts := map[string]int{}
		for _, state := range []string{"ok", "alert", "breach", "untracked"} {
			q := watchdog.DashboardQuery{State: state, Open: &open, Limit: 1}
			if state == "alert" {
				// The dashboard's alert filter includes breaches.
				q.State = "alert"
			}
			page, err := eng.Dashboard(ctx, q)
			if err != nil {
				return nil, err
			}
			counts[state] = page.Total
		}
		counts["alert"] -= counts["breach"]
		return counts, nil
	})

	handler, err := api.New(eng, &api.Config{
		MaxBodyBytes: s.MaxBodyBytes,
		MaxBatch:     s.MaxBatch,
		APIToken:     s.APIToken,
		Logger:       log,
		Alerts:       hub,
		Metrics:      m.Handler(),
		Observer:     m,
		Ready: func(ctx context.Context) (map[string]any, error) {
			ws := watcher.Status()
			details := map[string]any{"policy_file": ws.Path}
			switch {
			case ws.Loaded():
				details["policy"] = "file"
				details["policy_loaded_at"] = ws.LastSuccess.UTC().Format(time.RFC3339)
			case usingDefault:
				details["policy"] = "built-in default"
			}
			details["open_tickets_recompute"] = "done"
			if recomputing.Load() {
				// Serving meanwhile is fine: evaluations already use the
				// policy; only stored due instants may still be stale.
				details["open_tickets_recompute"] = "running"
			}
			if ws.LastError != "" && !(usingDefault && !ws.Loaded()) {
				// The last good policy stays in force: still ready.
				details["policy_reload_error"] = ws.LastError
			}
			if err := st.Ping(ctx); err != nil {
				return details, errors.New("store unreachable")
			}
			if !ws.Loaded() && !usingDefault {
				return details, errors.New("no SLA policy loaded")
			}
			return details, nil
		},
	})
	if err != nil {
		return err
	}

	addr := net.JoinHostPort(s.APIHost, strconv.Itoa(s.APIPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	var wg sync.WaitGroup
	start := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error(name+" stopped", "err", err)
			}
		}()
	}
	alerts, err := eng.Subscribe(runCtx)
	if err != nil {
		return err
	}
	start("websocket hub", func(ctx context.Context) error { return hub.Run(ctx, alerts) })
	recomputing.Store(true)
	start("startup replan", func(ctx context.Context) error {
		defer recomputing.Store(false)
		return eng.Replan(ctx)
	})
	start("engine", eng.Run)
	start("policy watcher", watcher.Run)

	if s.DebugAddr != "" {
		dbg, err := startDebug(s.DebugAddr, log)
		if err != nil {
			stopRun()
			wg.Wait()
			return err
		}
		defer dbg.Close()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "notifiers", names, "sla_config", s.SLAConfigPath, "auth", s.APIToken != "")
	if listening != nil {
		listening(ln.Addr().String())
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopRun()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("shutting down: finishing in-flight requests and deliveries")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown incomplete", "err", err)
	}
	_ = hub.Shutdown(shutCtx)
	stopRun()
	wg.Wait()
	log.Info("stopped")
	return nil
}

func buildNotifiers(s *settings) (map[string]watchdog.Notifier, error) {
	out := map[string]watchdog.Notifier{}
	cfg := &slack.Config{DashboardURL: s.DashboardURL, MaxAlertsPerMessage: s.SlackMaxPerMsg}
	if s.SlackWebhookURL != "" {
		n, err := slack.NewWebhook(s.SlackWebhookURL, cfg)
		if err != nil {
			return nil, fmt.Errorf("SLACK_WEBHOOK_URL: %w", err)
		}
		out["slack"] = n
	}
	if s.SlackBotToken != "" {
		n, err := slack.NewBot(s.SlackBotToken, s.SlackChannel, cfg)
		if err != nil {
			return nil, fmt.Errorf("SLACK_BOT_TOKEN/SLACK_CHANNEL: %w", err)
		}
		out["slack-bot"] = n
	}
	return out, nil
}

// startDebug serves Go's profiles on their own listener, apart from the API
// (and its auth), so that they are reachable only where the operator says.
func startDebug(addr string, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("WATCHDOG_DEBUG_ADDR: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving profiles", "addr", ln.Addr().String())
	return srv, nil
}
