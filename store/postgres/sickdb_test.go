package postgres_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/pgcluster"
	"github.com/ticket-watchdog/watchdog/store/postgres"
)

// within runs call with a context of timeout and checks that it fails
// with context.DeadlineExceeded no later than timeout plus slack.
func within(t *testing.T, name string, timeout time.Duration, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- call(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a frozen server: %v; want context.DeadlineExceeded", name, err)
		}
		if took := time.Since(start); took > timeout+time.Second {
			t.Errorf("%s on a frozen server returned after %s; want its %s deadline", name, took, timeout)
		}
	case <-time.After(timeout + 10*time.Second):
		t.Errorf("%s on a frozen server did not return %s after its %s deadline", name, 10*time.Second, timeout)
	}
}

// A frozen server (SIGSTOP: its connections stay open, nothing answers)
// holds no call past its context's deadline: not a query on an open
// connection, not BEGIN (which lib/pq sends before it watches the
// context), not the handshake of a new connection. lib/pq's cancel request
// cannot reach a frozen server, so these used to wait until it thawed.
func TestFrozenServerCallsEndAtTheirDeadline(t *testing.T) {
	t.Parallel()
	c := pgcluster.Start(t)
	st := open(t, c.URL("postgres"))
	ctx := context.Background()
	// Open connections for the calls below to find idle, so that each
	// meets the freeze on an established connection.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := st.DB().ExecContext(ctx, "SELECT pg_sleep(0.2)"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c.Freeze(t)
	defer c.Thaw(t)
	const d = 500 * time.Millisecond
	within(t, "Ping", d, st.Ping)
	within(t, "Ticket", d, func(ctx context.Context) error { _, err := st.Ticket(ctx, "t"); return err })
	within(t, "Dashboard", d, func(ctx context.Context) error {
		_, _, err := st.Dashboard(ctx, watchdog.DashboardQuery{Limit: 10})
		return err
	})
	within(t, "Ingest", d, func(ctx context.Context) error {
		now := time.Now().UTC()
		_, err := st.Ingest(ctx, []watchdog.Event{{ID: "t", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: now, UpdatedAt: now}},
			func(*watchdog.Ticket) watchdog.Plan { return watchdog.Plan{State: watchdog.TicketOK, Open: true} })
		return err
	})
	within(t, "NextDue", d, func(ctx context.Context) error { _, _, err := st.NextDue(ctx); return err })
	within(t, "Open", d, func(ctx context.Context) error {
		s, err := postgres.Open(ctx, c.URL("postgres"), nil)
		if err == nil {
			s.Close()
		}
		return err
	})
	c.Thaw(t)
	// The connections the deadlines cut are discarded: the store works
	// again at once.
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := st.Ticket(tctx, "t"); !errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("Ticket after the thaw: %v; want ErrNotFound", err)
	}
}

// A server that refuses connections, or that stopped, is
// watchdog.ErrUnavailable, which the API answers with 503.
func TestUnreachableServerIsUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = postgres.Open(ctx, "postgres://postgres@127.0.0.1:"+strconv.Itoa(port)+"/test?sslmode=disable", nil)
	if !errors.Is(err, watchdog.ErrUnavailable) {
		t.Errorf("Open with nothing listening: %v; want watchdog.ErrUnavailable", err)
	}

	c := pgcluster.Start(t)
	st := open(t, c.URL("postgres"))
	c.Stop(t, "immediate")
	if err := st.Ping(ctx); !errors.Is(err, watchdog.ErrUnavailable) {
		t.Errorf("Ping after the server stopped: %v; want watchdog.ErrUnavailable", err)
	}
	if _, err := st.Ticket(ctx, "t"); !errors.Is(err, watchdog.ErrUnavailable) {
		t.Errorf("Ticket after the server stopped: %v; want watchdog.ErrUnavailable", err)
	}
}
