package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/migrations"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// open opens a store on path, closed when the test ends.
func open(t testing.TB, path string, cfg *sqlite.Config) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t testing.TB) (watchdog.Store, func(testing.TB) watchdog.Store) {
			path := filepath.Join(t.TempDir(), "watchdog.db")
			s := open(t, path, nil)
			t.Cleanup(func() { checkRollup(t, path) })
			return s, func(t testing.TB) watchdog.Store { return open(t, path, &sqlite.Config{SkipMigrate: true}) }
		},
		SharedFeed: false,
	})
}

// checkRollup fails t when the roll-up of stopped outcomes by day
// (sla_outcome_days, which the store keeps beside the rows it writes)
// differs from the same counts aggregated from the outcome rows in the
// database at path: run after every conformance case, whatever its
// writes (late events, reopens, stale cycles, re-plans, backfills).
func checkRollup(t testing.TB, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckRollup(t, db, "SELECT day, policy, tier, priority, sla_type, calendar, bin, stopped, met, overrun_seconds"+
		" FROM sla_outcome_days WHERE stopped <> 0 OR met <> 0 OR overrun_seconds <> 0",
		`SELECT (stopped_at - CASE WHEN stopped_at < 0 THEN 86399999999 ELSE 0 END) / 86400000000,
		policy, tier, priority, sla_type, calendar,
		CASE WHEN business_seconds < 3600 THEN business_seconds / 300
			WHEN business_seconds < 360000 THEN 12 + (business_seconds - 3600) / 3600
			ELSE 111 + (business_seconds - 360000) / 86400 END,
		count(*), sum(CASE WHEN breached THEN 0 ELSE 1 END), sum(CASE WHEN breached THEN overrun_seconds ELSE 0 END)
		FROM sla_outcomes WHERE stopped_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7`)
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "dir with ? and #", "watchdog.db")
	if err := mkdirAll(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	due := storetest.At(time.Minute)
	if _, err := s.Ingest(ctx, []watchdog.Event{storetest.NewEvent("a", 0)}, storetest.OpenPlan(&due)); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	alerts, err := s.EvaluateDue(ctx, due, 10, storetest.FirePlan(due, nil, []string{"n"}, "alert"))
	if err != nil || len(alerts) != 1 {
		t.Fatalf("EvaluateDue = %v, %v", alerts, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s2 := open(t, path, nil)
	tk, err := s2.Ticket(ctx, "a")
	if err != nil {
		t.Fatalf("Ticket after reopen: %v", err)
	}
	if len(tk.Events) != 1 || len(tk.Alerts) != 1 || tk.EscalationLevel != 1 || len(tk.Alerts[0].Deliveries) != 1 || tk.Alerts[0].ID != alerts[0].ID {
		t.Errorf("after reopen: %+v", tk)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "watchdog.db")
	s := open(t, path, nil)
	if _, err := s.Ingest(ctx, []watchdog.Event{storetest.NewEvent("a", 0)}, storetest.OpenPlan(nil)); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Exec("PRAGMA busy_timeout = 10000")
	for range 2 {
		if err := sqlite.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	var versions int
	if err := db.QueryRow("SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&versions); err != nil {
		t.Fatalf("read goose versions: %v", err)
	}
	files, err := fs.Glob(migrations.SQLite, "sqlite/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v (%d files)", err, len(files))
	}
	if versions != len(files) {
		t.Errorf("goose recorded %d applied versions, want one per migration (%d)", versions, len(files))
	}
	// Reopening migrates again: still fine, data kept.
	s2 := open(t, path, nil)
	if _, err := s2.Ticket(ctx, "a"); err != nil {
		t.Errorf("Ticket after re-migrating: %v", err)
	}
}

func TestSkipMigrateOnEmptyFile(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "empty.db"), &sqlite.Config{SkipMigrate: true})
	_, err := s.Ticket(t.Context(), "a")
	if err == nil || errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("Ticket without a schema: %v, want a driver error", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []*sqlite.Config{{BusyTimeout: -time.Second}, {ReadConns: -1}, {CacheKiB: -5}} {
		if s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), cfg); err == nil {
			s.Close()
			t.Errorf("Open with %+v succeeded", cfg)
		}
	}
	if _, err := sqlite.Open(t.Context(), "", nil); err == nil {
		t.Error("Open with an empty path succeeded")
	}
}

// A database migrated by a newer version of the store (a downgraded
// binary) is refused with a clear error, rather than served with
// statements its schema no longer answers.
func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "watchdog.db")
	open(t, path, nil).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(migrations.SQLite, "sqlite/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	latest := 0
	for _, f := range files {
		var v int
		if _, err := fmt.Sscanf(filepath.Base(f), "%d_", &v); err != nil {
			t.Fatalf("migration %s: %v", f, err)
		}
		latest = max(latest, v)
	}
	newer := latest + 1
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, true)`, newer); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := sqlite.Open(t.Context(), path, nil)
	if err == nil {
		st.Close()
		t.Fatalf("Open succeeded on a database at migration %d, newer than this store's %d", newer, latest)
	}
	if want := fmt.Sprintf("migration %d", newer); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "newer") ||
		!strings.Contains(err.Error(), fmt.Sprintf("(%d)", latest)) {
		t.Errorf("Open: %v; want an error naming %q as newer than this store's %d", err, want, latest)
	}
}
