package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
)

// Waiting for the database at start-up.
//
// A compose file or an orchestrator may start the service before its
// database accepts connections. Rather than exit (and be restarted in a
// loop, or killed by a health check), the service serves at once: /healthz
// answers 200, /readyz and every route that needs the store 503 with
// Retry-After. Meanwhile Run keeps trying to open the store, with backoff,
// for Config.DBWait since New's first try; once it opens, the service runs
// as if it had been there all along (migrations, engine, start-up
// recompute). After DBWait, Run gives up with an error.

// dbWaitBackoff spaces the tries to open the store.
var dbWaitBackoff = watchdog.ExponentialBackoff{Base: 500 * time.Millisecond, Max: 5 * time.Second}

// dbWait is the state of the wait for the database.
type dbWait struct {
	since    time.Time // the first try
	attempts int
	lastErr  error
}

// retryableOpen reports whether opening the store failed because the
// database cannot be reached yet, which waiting may cure (rather than,
// say, a bad URL or wrong credentials).
func retryableOpen(err error) bool {
	return errors.Is(err, watchdog.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// logFailure logs the last try; store errors hold no password.
func (w *dbWait) logFailure(cfg *Config) {
	cfg.Logger.Warn("database unreachable: serving /healthz and answering 503 elsewhere while retrying",
		"attempt", w.attempts, "waited", time.Since(w.since).Round(time.Millisecond).String(),
		"gives_up_in", (cfg.DBWait - time.Since(w.since)).Round(time.Second).String(), "err", w.lastErr)
}

// errWaiting is what the starting API answers while the database is
// awaited.
var errWaiting = fmt.Errorf("%w: waiting for the database", watchdog.ErrUnavailable)

// startingService stands in for the engine while the database is awaited:
// every call is refused as unavailable.
type startingService struct{}

func (startingService) Ingest(context.Context, []watchdog.Event) ([]*watchdog.Ticket, error) {
	return nil, errWaiting
}

func (startingService) Ticket(context.Context, string) (*watchdog.TicketView, error) {
	return nil, errWaiting
}

func (startingService) Dashboard(context.Context, watchdog.DashboardQuery) (*watchdog.DashboardPage, error) {
	return nil, errWaiting
}

func (startingService) Alerts(context.Context, watchdog.AlertsQuery) ([]watchdog.Alert, error) {
	return nil, errWaiting
}

func (startingService) SLAReport(context.Context, watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	return nil, errWaiting
}

func (startingService) SLAOutcomes(context.Context, watchdog.SLAReportQuery, func(*watchdog.Outcome) error) error {
	return errWaiting
}

// startingAPI is the API served while the database is awaited.
func (s *Server) startingAPI() (http.Handler, error) {
	ready := func(context.Context) (map[string]any, error) {
		return map[string]any{"database": "waiting"}, &notReady{msg: "waiting for the database", cause: errWaiting}
	}
	alerts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.Itoa(int(dbWaitBackoff.Max/time.Second)))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"the service is starting: waiting for the database; try again later"}` + "\n"))
	})
	return api.New(startingService{}, s.apiConfig(ready, alerts))
}

// awaitStore keeps trying to open the store, with backoff, until it opens
// or Config.DBWait has passed since the first try, then builds the engine
// and its API in place of the starting one. It returns nil with no engine
// when ctx ends first.
func (s *Server) awaitStore(ctx context.Context) error {
	w := s.waiting
	for {
		remaining := s.cfg.DBWait - time.Since(w.since)
		if remaining <= 0 {
			return fmt.Errorf("database still unreachable after %s (%d attempts): %w", s.cfg.DBWait, w.attempts, w.lastErr)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(dbWaitBackoff.RetryDelay(w.attempts), remaining)):
		}
		remaining = s.cfg.DBWait - time.Since(w.since)
		if remaining <= 0 {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, remaining)
		err := s.openStore(actx)
		cancel()
		w.attempts++
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if !retryableOpen(err) {
			return err
		}
		w.lastErr = err
		w.logFailure(s.cfg)
	}
	s.cfg.Logger.Info("database reachable: starting", "attempts", w.attempts, "waited", time.Since(w.since).Round(time.Millisecond).String())
	if err := s.assemble(ctx); err != nil {
		return err
	}
	s.waiting = nil
	return nil
}
