package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/server"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// lockedBuffer collects a server's logs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// keywordDSN rewrites a postgres:// test URL in libpq's key=value form,
// with a password the trust-authenticated server never asks for.
func keywordDSN(t *testing.T, dsn, password string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	kv := []string{"host=" + u.Hostname(), "port=" + u.Port(), "user=" + u.User.Username(),
		"password='" + password + "'", "dbname=" + strings.TrimPrefix(u.Path, "/")}
	for k, vs := range u.Query() {
		kv = append(kv, k+"="+vs[0])
	}
	return strings.Join(kv, " ")
}

// A DATABASE_URL in key=value form opens PostgreSQL: it used to open an
// SQLite file named after the whole string in the working directory and
// log it, password and all.
func TestKeywordDatabaseURLOpensPostgres(t *testing.T) {
	const secret = "s3cret pw"
	dsn := keywordDSN(t, pgtest.DSN(t), secret)
	dir := t.TempDir()
	t.Chdir(dir)
	logs := &lockedBuffer{}
	s, err := server.New(context.Background(), &server.Config{
		DatabaseURL: dsn,
		Logger:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("server.New with a key=value DATABASE_URL: %v", err)
	}
	defer s.Close()
	if _, ok := s.Engine().Store().(*postgres.Store); !ok {
		t.Errorf("store is %T, want *postgres.Store", s.Engine().Store())
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("the working directory gained %v", entries)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the logs hold the password:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "password=xxxxx") {
		t.Errorf("the logs should name the store with its password hidden:\n%s", logs)
	}
}

// running is a server run on a loopback listener by runServer.
type running struct {
	*server.Server
	base string // http://127.0.0.1:port
	logs *lockedBuffer
	stop func() // cancels Run and waits for it, failing after 30s
}

// runServer runs a server configured by cfg (its ListenAddr, logger and,
// when unset, store and SLA file filled in) until the test ends.
func runServer(t *testing.T, cfg server.Config) *running {
	t.Helper()
	dir := t.TempDir()
	if cfg.DatabaseURL == "" && cfg.Store == nil {
		cfg.DatabaseURL = "sqlite:///" + filepath.Join(dir, "watchdog.db")
	}
	if cfg.SLAConfigPath == "" {
		cfg.SLAConfigPath = filepath.Join(dir, "sla_config.yaml")
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	logs := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.New(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	r := &running{Server: s, base: "http://" + s.Addr(), logs: logs}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return within 30s of cancel")
			}
			_ = s.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// eventually polls cond every 20ms for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

const goodSLA = "tiers:\n  gold:\n    high: {response: 1h, resolution: 8h}\n"

// When the SLA file becomes a symlink to another file, /readyz (which
// needs no token) reports the failed reload by path and line only: it used
// to echo the error, which quotes the other file's content.
func TestReadyzKeepsFileContentOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(goodSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		// A value the parser quotes in its message.
		"value.yaml": "tiers:\n  gold:\n    high: {response: hunter2-s3cret, resolution: 8h}\n",
		// A key outside the SLA schema, named in its message.
		"keys.yaml": "api_key_s3cret: x\ntiers:\n  gold:\n    high: {response: 1h, resolution: 8h}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := runServer(t, server.Config{SLAConfigPath: sla})
	reloadError := func() string {
		_, b := get(t, srv.base+"/readyz")
		var ready map[string]any
		if err := json.Unmarshal([]byte(b), &ready); err != nil {
			t.Fatalf("/readyz: %s: %v", b, err)
		}
		msg, _ := ready["policy_reload_error"].(string)
		return msg
	}
	previous := ""
	for _, target := range []string{"value.yaml", "keys.yaml"} {
		link := filepath.Join(dir, "link.tmp")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(link, sla); err != nil {
			t.Fatal(err)
		}
		var body string
		eventually(t, "/readyz to report the failed reload of "+target, func() bool {
			body = reloadError()
			return body != "" && body != previous
		})
		previous = body
		if strings.Contains(body, "s3cret") {
			t.Errorf("symlink to %s: /readyz shows the file's content: %s", target, body)
		}
		if !strings.Contains(body, sla) || !strings.Contains(body, "line ") {
			t.Errorf("symlink to %s: /readyz should name the file and the line: %s", target, body)
		}
		// The log keeps the detail for the operator.
		if !strings.Contains(srv.logs.String(), "s3cret") {
			t.Errorf("symlink to %s: the log lacks the detail", target)
		}
	}
}
