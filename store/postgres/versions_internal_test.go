package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// TestFiredVersionsLeaveTheQueueScan: after a burst of firings that leave
// the tickets' queue keys as they were (tickets already in breach, fired
// again), a scan of the queue's index visits each old version once, marks
// it dead and skips it from then on. With deduplication, the old and the
// new entry of a ticket merged into one posting list that no scan could
// mark, and the queue page's count read twice the tickets it counted in
// every request until VACUUM (19,520 heap fetches for 10,000 tickets after
// the scale benchmark's firings).
func TestFiredVersionsLeaveTheQueueScan(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	const n = 4000
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `COPY tickets (id, priority, customer_tier, status, created_at, updated_at,
		sla_state, open, breach_at, next_due_at) FROM STDIN`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		breach := now.Add(-time.Duration(n-i) * time.Minute)
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("Q-%06d", i), "high", "gold", "open",
			breach.Add(-time.Hour), breach.Add(-time.Hour), "breach", true, breach, breach); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := stmt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// As after a bulk load: every page all-visible, so that the scans
	// below visit the table only for what the firings wrote.
	if _, err := st.db.ExecContext(ctx, `VACUUM (ANALYZE) tickets`); err != nil {
		t.Fatal(err)
	}

	// The tickets stay in breach with the same breach instant: only
	// the escalation and the due instant move.
	next := now.Add(time.Hour)
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		return watchdog.Plan{State: watchdog.TicketBreach, Open: true, BreachAt: tk.BreachAt, NextDueAt: &next,
			Alerts: []watchdog.Alert{storetest.NewAlert(tk, watchdog.StageBreach, *tk.NextDueAt, now)}}
	}
	fired := 0
	for {
		alerts, err := st.EvaluateDue(ctx, now, 1000, plan)
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) == 0 {
			break
		}
		fired += len(alerts)
	}
	if fired != n {
		t.Fatalf("fired %d tickets, want %d", fired, n)
	}

	// The queue's count (see Dashboard), through the queue's index.
	heapFetches := func() int {
		t.Helper()
		tx, err := st.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, set := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_bitmapscan = off"} {
			if _, err := tx.ExecContext(ctx, set); err != nil {
				t.Fatal(err)
			}
		}
		var out []byte
		if err := tx.QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON)
			SELECT count(*) FROM (SELECT 1 FROM tickets WHERE open = true LIMIT 10001) AS matching`).Scan(&out); err != nil {
			t.Fatal(err)
		}
		var plans []struct{ Plan planNode }
		if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
			t.Fatalf("EXPLAIN output %s: %v", out, err)
		}
		var scan *planNode
		plans[0].Plan.walk(func(p planNode) {
			if p.Type == "Index Only Scan" && p.Index == "tickets_open_breach_idx" {
				scan = &p
			}
		})
		if scan == nil {
			t.Fatalf("the count does not read the queue's index:\n%s", out)
		}
		if scan.Rows != n {
			t.Fatalf("the count read %v tickets, want %d", scan.Rows, n)
		}
		return int(scan.HeapFetches)
	}
	first := heapFetches()
	again := heapFetches()
	t.Logf("heap fetches: %d, then %d, for %d tickets", first, again, n)
	// Each live ticket's page is no longer all-visible after its firing,
	// so n fetches remain; the old versions must not add to them.
	if again > n+n/10 {
		t.Errorf("a second scan fetched %d rows for %d tickets: the firings' old versions are still read", again, n)
	}
}

// TestMigrationTurnsDeduplicationOff: 00016 turns deduplication off on the
// tickets' indexes keyed by id, and migrating down turns it back on.
func TestMigrationTurnsDeduplicationOff(t *testing.T) {
	ctx, dsn := context.Background(), pgtest.DSN(t)
	st, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, p := migrator(t, dsn)
	off := func() []string {
		t.Helper()
		var names []string
		if err := sqlx.SelectContext(ctx, sqlx.NewDb(db, "postgres"), &names, `SELECT c.relname::text FROM pg_class c
			JOIN pg_index i ON i.indexrelid = c.oid
			WHERE i.indrelid = to_regclass('tickets') AND 'deduplicate_items=off' = ANY(c.reloptions)
			ORDER BY 1`); err != nil {
			t.Fatal(err)
		}
		return names
	}
	want := []string{"tickets_created_idx", "tickets_open_breach_idx", "tickets_pkey", "tickets_state_created_idx"}
	if d := cmp.Diff(want, off()); d != "" {
		t.Errorf("indexes without deduplication (-want +got):\n%s", d)
	}
	if _, err := p.DownTo(ctx, 15); err != nil {
		t.Fatal(err)
	}
	if got := off(); len(got) != 0 {
		t.Errorf("after migrating down, %v still without deduplication", got)
	}
}
