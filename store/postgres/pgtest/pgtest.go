// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server named by TEST_DATABASE_URL, dropped when the test
// ends. Engine, server and store tests share it.
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.DSN(t) // skips when no server answers, fails under CI
//		st, err := postgres.Open(ctx, dsn, nil)
//		...
//	}
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // registers the "postgres" driver
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL returns TEST_DATABASE_URL or DefaultURL.
func BaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// DSN creates a new empty schema wd_test_<random> and returns a connection
// string whose search_path selects it, so that every connection opened with
// it (pools, listeners, migrations) works inside that schema. The schema is
// dropped in t.Cleanup.
//
// When no server answers, DSN skips the test with a loud message, unless the
// CI environment variable is set: then it fails the test, so that a CI job
// cannot pass by skipping every database test.
func DSN(t testing.TB) string {
	t.Helper()
	base := BaseURL()
	db, err := sql.Open("postgres", base)
	if err != nil {
		unavailable(t, err)
		return ""
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		unavailable(t, err)
		return ""
	}
	schema := "wd_test_" + randomHex(8)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", base)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := WithSearchPath(base, schema)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// WithSearchPath returns dsn (a postgres:// URL or a key=value string) with
// its search_path run-time parameter set to schema. lib/pq sends parameters
// it does not know itself to the server as run-time parameters.
func WithSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("TEST_DATABASE_URL is not a valid URL")
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("pgtest: NO POSTGRESQL SERVER at TEST_DATABASE_URL (%s): %v", redacted(BaseURL()), err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is a failure, not a skip)")
	}
	t.Skip("!!! SKIPPED: " + msg)
}

// redacted hides a URL's password.
func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	if strings.Contains(dsn, "password") {
		return "(connection string hidden: it contains a password)"
	}
	return dsn
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
