package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ticket-watchdog/watchdog/internal/contract"
)

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newTestServer assembles a server on a SQLite file, with the SLA file
// holding sla ("" for none), without running it.
func newTestServer(t *testing.T, sla string) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "sla_config.yaml")
	if sla != "" {
		writeFile(t, path, sla)
	}
	s, err := New(context.Background(), &Config{DatabaseURL: "sqlite:///" + filepath.Join(dir, "watchdog.db"), SLAConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// readyz answers GET /readyz from s's handler, served on a loopback
// listener and checked against the OpenAPI document.
func readyz(t *testing.T, s *Server) (int, map[string]any) {
	t.Helper()
	srv := contract.Serve(t, s.Handler())
	resp, err := srv.Client().Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("/readyz body %s: %v", raw, err)
	}
	return resp.StatusCode, body
}

func TestReadyzDetails(t *testing.T) {
	t.Parallel()
	t.Run("built-in default", func(t *testing.T) {
		t.Parallel()
		s, path := newTestServer(t, "")
		code, body := readyz(t, s)
		want := map[string]any{"status": "ready", "policy": "built-in default", "policy_file": path, "open_tickets_recompute": "done"}
		if code != http.StatusOK || len(body) != len(want) {
			t.Fatalf("/readyz: %d %v; want 200 %v", code, body, want)
		}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("/readyz %s = %v, want %v", k, body[k], v)
			}
		}
	})
	t.Run("file, recompute running", func(t *testing.T) {
		t.Parallel()
		s, _ := newTestServer(t, "tiers:\n  gold:\n    high: {response: 1h, resolution: 8h}\n")
		s.policy.recomputing.Store(true)
		code, body := readyz(t, s)
		if code != http.StatusOK || body["policy"] != "file" || body["policy_loaded_at"] == nil || body["open_tickets_recompute"] != "running" {
			t.Errorf("/readyz: %d %v; want 200 with the file's policy and the recompute running", code, body)
		}
	})
	t.Run("store unreachable", func(t *testing.T) {
		t.Parallel()
		s, _ := newTestServer(t, "")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		code, body := readyz(t, s)
		if code != http.StatusServiceUnavailable || body["error"] != "store unreachable" || body["policy"] != "built-in default" {
			t.Errorf("/readyz: %d %v; want 503 store unreachable with the details", code, body)
		}
	})
}
