package server_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/server"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// A due ticket that another transaction holds when the evaluation runs
// (PostgreSQL claims skip locked rows) fires once the holder commits, on
// a fake clock too: the loop looks again after a short wait in real time,
// and is not idle meanwhile, so a test that settles and reads the alerts
// sees them without moving the clock again.
func TestE2EDueTicketHeldByAnotherTransaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla.yaml")
	if err := os.WriteFile(sla, []byte(policiesSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	cfg := server.Config{SLAConfigPath: sla, Clock: watchdogtest.NewClock(t0), DatabaseURL: dsn}
	srv := &policyServer{running: runServer(t, cfg), clock: cfg.Clock.(*watchdogtest.Clock), sla: sla}
	srv.post(t, ev("h", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"]`))
	watchdogtest.Settle(t, srv.Engine().Hooks())

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(t.Context(), "SELECT id FROM tickets WHERE id = 'h' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		// Long enough for the evaluation to find the ticket held.
		time.Sleep(300 * time.Millisecond)
		tx.Rollback()
	}()
	srv.clock.Set(t0.Add(20 * time.Minute))
	watchdogtest.Settle(t, srv.Engine().Hooks())
	<-released
	as := srv.alerts(t, "h")
	if count(as, "response", "alert") != 1 || count(as, "response", "breach") != 1 {
		t.Fatalf("after the holder let go:%s", describe(as))
	}
}
