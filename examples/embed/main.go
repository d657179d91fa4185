// Command embed shows how to embed Ticket Watchdog in an existing net/http
// backend that already has its own PostgreSQL pool: the engine shares the
// backend's *sqlx.DB, the watchdog API is mounted under /watchdog/ on the
// backend's own mux next to its own routes, the engine runs in the same
// process, and SIGINT/SIGTERM shut everything down in order.
//
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... \
//	go run ./examples/embed
//
//	curl -X POST localhost:8080/watchdog/tickets -H 'Content-Type: application/json' \
//	  -d '{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}'
//	curl localhost:8080/watchdog/tickets/1
//	curl localhost:8080/status      # one of the backend's own routes
//
// The watchdog is the same service watchdogd runs (package server), over a
// store on the backend's pool. SLACK_WEBHOOK_URL is optional: without it
// alerts are recorded and streamed on /watchdog/ws/alerts only.
// SLA_CONFIG_PATH names the SLA file (default sla_config.yaml, hot-reloaded);
// LISTEN_ADDR defaults to :8080.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the backend's PostgreSQL driver

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/websocket"
	"github.com/ticket-watchdog/watchdog/server"
	"github.com/ticket-watchdog/watchdog/store/postgres"
)

// Options are the parts of the backend's configuration the watchdog needs.
type Options struct {
	// DSN is the backend's connection string; the store's alert listener
	// opens one dedicated connection with it (LISTEN cannot use a pool).
	DSN string
	// SlackWebhookURL, when set, sends every alert to Slack.
	SlackWebhookURL string
	// SLAConfigPath is the SLA file, watched and hot-reloaded; "" means
	// sla_config.yaml in the working directory. The seed's default policy
	// is in force while the file is absent.
	SLAConfigPath string
	// Clock is the engine's clock; nil means the system clock. Tests pass
	// a watchdogtest.Clock.
	Clock watchdog.Clock
	// Logger receives the watchdog's logs.
	Logger *slog.Logger
}

// App is the backend with the watchdog wired in.
type App struct {
	// Handler is the backend's mux: its own routes plus /watchdog/.
	Handler http.Handler
	Engine  *watchdog.Engine
	Hub     *websocket.Hub
	server  *server.Server
	store   *postgres.Store
}

// Setup migrates the watchdog's tables into the backend's database (in the
// schema the pool's search_path selects), assembles the watchdog service
// over a store on the backend's pool, and mounts its API under /watchdog/
// next to the backend's own routes. The caller runs the watchdog (see Run)
// and owns db.
func Setup(ctx context.Context, db *sqlx.DB, opts Options) (*App, error) {
	if err := postgres.Migrate(ctx, db.DB); err != nil {
		return nil, fmt.Errorf("migrating the watchdog schema: %w", err)
	}
	st, err := postgres.New(db, &postgres.Config{ListenDSN: opts.DSN, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("watchdog store: %w", err)
	}
	// The server package gives what watchdogd has: Slack, the SLA file
	// with hot reload, /readyz, /metrics and /ws/alerts.
	wd, err := server.New(ctx, &server.Config{
		Store:           st,
		Clock:           opts.Clock,
		SlackWebhookURL: opts.SlackWebhookURL,
		SLAConfigPath:   opts.SLAConfigPath,
		Logger:          opts.Logger,
	})
	if err != nil {
		st.Close()
		// Errors name the setting at fault, never the webhook URL.
		return nil, fmt.Errorf("watchdog: %w", err)
	}

	mux := http.NewServeMux()
	// The backend's own routes, here one that uses the same pool.
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := db.PingContext(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, `{"database":"unreachable"}`)
			return
		}
		fmt.Fprintln(w, `{"database":"ok"}`)
	})
	// The watchdog's routes (/tickets, /dashboard, /ws/alerts, ...) under a
	// prefix: the API sees paths without it. Wrap it in the backend's own
	// authentication middleware here, or set server.Config.APIToken.
	mux.Handle("/watchdog/", http.StripPrefix("/watchdog", wd.Handler()))

	return &App{Handler: mux, Engine: wd.Engine(), Hub: wd.Hub(), server: wd, store: st}, nil
}

// Run runs the engine, the SLA file watcher and the WebSocket stream of
// alerts until ctx is done, then closes the WebSocket clients and the store
// (not the pool). Deliveries in flight finish before it returns.
func (a *App) Run(ctx context.Context) error {
	defer a.store.Close()
	return a.server.RunBackground(ctx)
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("backend stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is not set: give a postgres:// URL")
	}
	addr := os.Getenv("LISTEN_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// The backend's own pool, opened as it always was.
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(20)

	app, err := Setup(ctx, db, Options{
		DSN:             dsn,
		SlackWebhookURL: os.Getenv("SLACK_WEBHOOK_URL"),
		SLAConfigPath:   os.Getenv("SLA_CONFIG_PATH"),
		Logger:          log,
	})
	if err != nil {
		return err
	}
	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engineDone := make(chan error, 1)
	go func() { engineDone <- app.Run(engineCtx) }()

	srv := &http.Server{
		Addr:              addr,
		Handler:           app.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	log.Info("backend listening", "addr", addr, "watchdog", "/watchdog/")

	select {
	case err = <-serveErr:
		err = fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
		log.Info("shutting down")
	}
	// Requests first (they may ingest), then the engine, which finishes
	// the deliveries in flight.
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("HTTP shutdown: %w", serr)
	}
	stopEngine()
	if rerr := <-engineDone; rerr != nil && err == nil {
		err = rerr
	}
	return err
}
