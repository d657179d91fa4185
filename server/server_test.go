package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/contract"
	"github.com/ticket-watchdog/watchdog/server"
	"github.com/ticket-watchdog/watchdog/store"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	chk := contract.New(t)
	t.Cleanup(func() { chk.Report(t) })
	s, err := server.New(context.Background(), &server.Config{
		DatabaseURL:   "sqlite:///" + filepath.Join(dir, "watchdog.db"),
		SLAConfigPath: filepath.Join(dir, "sla_config.yaml"),
		ListenAddr:    "127.0.0.1:0",
		Middleware:    chk.Wrap,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Addr() != "" {
		t.Errorf("Addr before Listen = %q", s.Addr())
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	now := time.Now().UTC().Format(time.RFC3339)
	resp, err := http.Post(base+"/tickets", "application/json", strings.NewReader(fmt.Sprintf(
		`{"id":"1","priority":"high","created_at":%q,"updated_at":%q,"status":"open","customer_tier":"gold"}`, now, now)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /tickets: %d", resp.StatusCode)
	}
	if code, body := get(t, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "\nwatchdog_open_tickets{state=\"ok\"} 1\n") {
		t.Errorf("/metrics: %d, want watchdog_open_tickets{state=\"ok\"} 1 in:\n%s", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body := get(t, base+"/readyz")
		if code == http.StatusOK && strings.Contains(body, `"open_tickets_recompute":"done"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never showed the start-up recompute done: %d %s", code, body)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of cancel")
	}
}

func TestRunBackgroundLeavesTheGivenStoreOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "sqlite:///"+filepath.Join(dir, "watchdog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := server.New(context.Background(), &server.Config{Store: st, SLAConfigPath: filepath.Join(dir, "sla_config.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunBackground(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunBackground after cancel: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Errorf("the caller's store was closed: %v", err)
	}
}
