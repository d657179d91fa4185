package server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/server"
)

// The request deadline does not apply to the alert stream: a client
// connected for longer than RequestTimeout still gets alerts (its writes
// have deadlines of their own, the hub's WriteTimeout).
func TestAlertStreamOutlivesTheRequestTimeout(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{RequestTimeout: time.Second})
	conn, resp := wsDial(t, srv.base, "", nil)
	if resp != nil {
		t.Fatalf("/ws/alerts refused: %d", resp.StatusCode)
	}
	time.Sleep(1500 * time.Millisecond)
	long := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	body := `{"id":"ws-1","priority":"high","customer_tier":"gold","status":"open","created_at":"` + long + `","updated_at":"` + long + `"}`
	if code, _ := send(t, srv, http.MethodPost, "/tickets", "", body, http.Header{"Content-Type": {"application/json"}}); code != http.StatusOK {
		t.Fatalf("POST /tickets: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, msg, err := conn.Read(ctx); err != nil || !strings.Contains(string(msg), "ws-1") {
		t.Fatalf("alert stream after %s connected: %q %v", 1500*time.Millisecond, msg, err)
	}
}

// unreachableURL is a PostgreSQL URL where nothing listens.
func unreachableURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/test?sslmode=disable"
}

// New with the database unreachable returns a server that serves liveness
// and answers 503 elsewhere (the alert stream too) while Run retries; Run
// gives up after DBWait. With a negative DBWait, New fails at once.
func TestServerWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := server.New(context.Background(), &server.Config{DatabaseURL: unreachableURL(t), DBWait: -1, SLAConfigPath: dir + "/sla.yaml"}); !errors.Is(err, watchdog.ErrUnavailable) {
		t.Errorf("New with DBWait -1: %v; want watchdog.ErrUnavailable at once", err)
	}
	s, err := server.New(context.Background(), &server.Config{DatabaseURL: unreachableURL(t), DBWait: 2 * time.Second, SLAConfigPath: dir + "/sla.yaml", ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("New with the database unreachable: %v", err)
	}
	defer s.Close()
	if s.Engine() != nil {
		t.Error("an engine before the store is open")
	}
	for _, rq := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/readyz", http.StatusServiceUnavailable},
		{http.MethodGet, "/dashboard", http.StatusServiceUnavailable},
		{http.MethodGet, "/ws/alerts", http.StatusServiceUnavailable},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(rq.method, rq.path, nil)
		req.Host = "localhost"
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != rq.code || (rq.code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "") ||
			!strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s %s while waiting: %d %v %s; want %d (503s with Retry-After), JSON", rq.method, rq.path, rec.Code, rec.Header(), rec.Body, rq.code)
		}
	}
	start := time.Now()
	if err := s.Run(context.Background()); err == nil || !errors.Is(err, watchdog.ErrUnavailable) {
		t.Errorf("Run with the database still unreachable after DBWait: %v; want an error matching watchdog.ErrUnavailable", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run gave up after %s for a 2s DBWait", took)
	}
}
