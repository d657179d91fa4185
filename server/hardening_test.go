package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

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
