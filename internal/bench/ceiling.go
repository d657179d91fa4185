package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq" // also registers the "postgres" driver

	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// CeilingConfig configures the ceiling mode.
type CeilingConfig struct {
	Workload
	// DSN is a PostgreSQL connection string whose search_path selects the
	// schema holding the store's tickets table (as the ingest mode's
	// server used); the scratch table is created there and dropped after.
	DSN string
	// Progress receives progress lines; nil is silent.
	Progress io.Writer
}

// CeilingResult is the database's raw COPY rate for the ingest rows.
type CeilingResult struct {
	Rows     int     `json:"rows"`
	Seconds  float64 `json:"seconds"`
	RowsPerS float64 `json:"rows_per_s"`
	// Table says what was copied into.
	Table string `json:"table"`
}

// copyColumns are the tickets table's columns, as the store writes them.
var copyColumns = []string{"id", "priority", "customer_tier", "status", "created_at", "updated_at", "first_response_at", "escalation_level", "sla_state", "untracked_reason", "open", "next_due_at", "breach_at"}

// Ceiling copies one row per workload event into a scratch table LIKE the
// store's tickets table (same columns, defaults, constraints and indexes,
// but for the due index), in one transaction with COPY FROM STDIN, and
// times it. An update event becomes a row with its id suffixed, so the
// table's primary key holds: the database writes as many rows as the ingest
// mode sent events.
func Ceiling(ctx context.Context, c CeilingConfig) (*CeilingResult, error) {
	db, err := sql.Open("postgres", c.DSN)
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	defer db.Close()
	table := "bench_copy_" + randomHex(4)
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (LIKE tickets INCLUDING ALL)"); err != nil {
		return nil, fmt.Errorf("ceiling: creating the scratch table (is the store migrated in this schema?): %w", err)
	}
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = db.ExecContext(dropCtx, "DROP TABLE IF EXISTS "+table)
	}()
	// The ceiling stays the measure the ingest target was set against: the
	// tickets table with its primary key and three indexes. The due index
	// tickets gained when the store's schedule table went (migration 00014)
	// is dropped from the copy: it took the place of two tables' writes at
	// ingest, and charging it to COPY would lower the ceiling, and flatter
	// the ratio, for no change in ingest.
	var dueIndex string
	if err := db.QueryRowContext(ctx, `SELECT indexname FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = $1 AND indexdef LIKE '%(next_due_at)%'`, table).Scan(&dueIndex); err == nil {
		if _, err := db.ExecContext(ctx, "DROP INDEX "+pq.QuoteIdentifier(dueIndex)); err != nil {
			return nil, fmt.Errorf("ceiling: %w", err)
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	var indexes int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = $1`, table).Scan(&indexes); err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}

	type row []any
	var rows []row
	for s := range c.Streams {
		seen := map[string]int{}
		for _, batch := range c.Stream(s) {
			for _, ev := range batch {
				id := ev.ID
				if n := seen[ev.ID]; n > 0 {
					id += "#" + strconv.Itoa(n)
				}
				seen[ev.ID]++
				var fr any
				if ev.FirstResponseAt != nil {
					fr = *ev.FirstResponseAt
				}
				due := ev.CreatedAt.Add(4 * time.Hour)
				rows = append(rows, row{id, ev.Priority, ev.CustomerTier, ev.Status, ev.CreatedAt, ev.UpdatedAt, fr, 0, "ok", "", true, due, due})
			}
		}
	}

	stop := progress(ctx, c.Progress, "ceiling", func() string { return "copying" })
	defer stop()
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, "COPY "+table+" ("+strings.Join(copyColumns, ", ")+") FROM STDIN")
	if err != nil {
		return nil, fmt.Errorf("ceiling: preparing COPY: %w", err)
	}
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			return nil, fmt.Errorf("ceiling: COPY row: %w", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return nil, fmt.Errorf("ceiling: finishing COPY: %w", err)
	}
	if err := stmt.Close(); err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ceiling: commit: %w", err)
	}
	elapsed := time.Since(start)
	return &CeilingResult{
		Rows:     len(rows),
		Seconds:  round2(elapsed.Seconds()),
		RowsPerS: float64(int(float64(len(rows)) / elapsed.Seconds())),
		Table:    fmt.Sprintf("LIKE tickets INCLUDING ALL but the due index (primary key and %d indexes), one transaction", indexes-1),
	}, nil
}

// Scratch is a PostgreSQL schema of the harness's own, dropped by Drop.
type Scratch struct {
	// DSN selects the schema through its search_path.
	DSN    string
	Schema string
	base   string
}

// NewScratch creates schema wd_bench_<label>_<random> on the server base
// names.
func NewScratch(ctx context.Context, base, label string) (*Scratch, error) {
	db, err := sql.Open("postgres", base)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer db.Close()
	schema := "wd_bench_" + label + "_" + randomHex(4)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	dsn, err := pgtest.WithSearchPath(base, schema)
	if err != nil {
		return nil, err
	}
	return &Scratch{DSN: dsn, Schema: schema, base: base}, nil
}

// Drop removes the schema and everything in it.
func (s *Scratch) Drop(ctx context.Context) error {
	db, err := sql.Open("postgres", s.base)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DROP SCHEMA "+s.Schema+" CASCADE"); err != nil {
		return fmt.Errorf("dropping schema %s: %w", s.Schema, err)
	}
	return nil
}

// PostgresVersion asks the server its version.
func PostgresVersion(ctx context.Context, dsn string) (string, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", fmt.Errorf("postgres version: %w", err)
	}
	return v, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on Linux; crashes the program if it does
	return hex.EncodeToString(b)
}
