package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// planNode is the part of EXPLAIN (FORMAT JSON) a claim's plan is judged by.
type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// TestClaimReadsOnlyWhatItTakes: a claim of 100 due tickets out of a
// backlog of 5,000 reads the due index in order and stops, even when the
// statistics, taken before the backlog came due, say hardly any are due
// (as in a burst, between two runs of autovacuum's analyze). The planner
// otherwise read and sorted the whole backlog in every pass.
func TestClaimReadsOnlyWhatItTakes(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	clk := watchdogtest.NewClock(now)
	e, err := watchdog.New(st, &watchdog.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(prefix string, n int, created time.Time) {
		t.Helper()
		for b := 0; b < n; b += 1000 {
			events := make([]watchdog.Event, 0, 1000)
			for i := b; i < min(b+1000, n); i++ {
				events = append(events, watchdog.Event{ID: fmt.Sprintf("%s-%05d", prefix, i), Priority: "high",
					CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created})
			}
			if _, err := e.Ingest(ctx, events); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Statistics of a store whose tickets are all due later...
	ingest("later", 20000, now)
	if _, err := st.db.ExecContext(ctx, "ANALYZE tickets"); err != nil {
		t.Fatal(err)
	}
	// ...then a backlog due at once, imported days late, which the
	// statistics do not know of yet.
	ingest("backlog", 5000, now.Add(-72*time.Hour))

	checkClaimPlan(t, st, "tickets", "due ticket", claimSQL, now, 100)
}

// TestClaimDeliveriesReadsOnlyWhatItTakes: a notifier's claim of 100
// pending deliveries out of 3,000 due walks its index and stops, even with
// statistics taken before they were due. It sorted every pending delivery
// of the notifier (200,000 after a 100k-ticket import, on disk) before.
func TestClaimDeliveriesReadsOnlyWhatItTakes(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	insertPending(t, st, 0, 2000, now.Add(time.Hour))
	if _, err := st.db.ExecContext(ctx, "ANALYZE deliveries"); err != nil {
		t.Fatal(err)
	}
	insertPending(t, st, 2000, 3000, now.Add(-time.Minute))

	checkClaimPlan(t, st, "deliveries", "pending delivery", claimDeliveriesSQL(false), "slack", now, 100, now.Add(time.Minute), "holder")
	checkClaimPlan(t, st, "deliveries", "pending delivery", claimDeliveriesSQL(true), "slack", now, 100, now.Add(time.Minute), "holder",
		now.Add(-time.Minute), 0)
}

// insertPending inserts n alerts (tickets t-from...) with a pending Slack
// delivery each, due at at.
func insertPending(t *testing.T, st *Store, from, n int, at time.Time) {
	t.Helper()
	if _, err := st.db.ExecContext(context.Background(), `
		WITH a AS (
			INSERT INTO alerts (ticket_id, clock, stage, cycle, state, due_at, fired_at, escalation_level,
				priority, customer_tier, target_ns, elapsed_ns, details)
			SELECT 't-' || i, 'first_response', 'breach', 0, 'breach', $3, $3, 2, 'high', 'gold', 0, 0, ''
			FROM generate_series($1::int, $1::int + $2::int - 1) AS i
			RETURNING id)
		INSERT INTO deliveries (alert_id, notifier, next_attempt_at) SELECT id, 'slack', $3 FROM a`,
		from, n, at); err != nil {
		t.Fatal(err)
	}
}

// checkClaimPlan runs claim (whose limit is 100) under claimPlans with
// EXPLAIN ANALYZE, in a transaction it rolls back, and fails t unless the
// plan locks 100 rows having read at most 200 rows of table, with no sort
// and no bitmap scan.
func checkClaimPlan(t *testing.T, st *Store, table, what, claim string, args ...any) {
	t.Helper()
	out := explainClaim(t, st, "ANALYZE, FORMAT JSON", claim, args...)
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	var claimed float64
	plans[0].Plan.walk(func(n planNode) {
		switch {
		case n.Type == "Sort" || n.Type == "Bitmap Heap Scan":
			t.Errorf("the claim's plan has a %s (%s): it reads every %s, not only those it takes\n%s", n.Type, n.Relation, what, out)
		case n.Type == "LockRows":
			claimed = n.Rows
		case n.Relation == table && n.Type != "ModifyTable" && n.Rows*n.Loops > 200:
			t.Errorf("the claim read %.0f %s rows to take 100\n%s", n.Rows*n.Loops, table, out)
		}
	})
	if claimed != 100 {
		t.Errorf("claimed %.0f, want 100\n%s", claimed, out)
	}
}

// openScratch opens a store in a scratch schema, closed at cleanup.
// explainClaim runs claim under claimPlans with EXPLAIN (opts), in a
// transaction it rolls back, and returns what EXPLAIN said.
func explainClaim(t *testing.T, st *Store, opts, claim string, args ...any) []byte {
	t.Helper()
	ctx := context.Background()
	tx, err := st.beginPlanned(ctx, claimPlans)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var out []byte
	if err := tx.QueryRowContext(ctx, "EXPLAIN ("+opts+") "+claim, args...).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func openScratch(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), pgtest.DSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestFinishDeliveriesProbesByKey: recording the outcomes of 100 claimed
// deliveries reads those 100 rows by their key, even when the statistics,
// taken before a burst of firings, say hardly any delivery is pending. The
// planner otherwise read every pending delivery through the pending index
// and matched the batch against all of them (170 ms for 128 outcomes with
// 20,000 pending, 1 ms by key).
func TestFinishDeliveriesProbesByKey(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	// Statistics of a store with a few pending deliveries among many sent...
	insertPending(t, st, 0, 2000, now)
	if _, err := st.db.ExecContext(ctx, `UPDATE deliveries SET status = 'delivered', delivered_at = next_attempt_at WHERE id % 400 <> 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, "ANALYZE deliveries"); err != nil {
		t.Fatal(err)
	}
	// ...then a burst of firings the statistics do not know of yet.
	insertPending(t, st, 2000, 20000, now)
	claimed, err := st.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "slack", Holder: "h", Now: now, Limit: 100, Until: now.Add(time.Minute)})
	if err != nil || len(claimed) != 100 {
		t.Fatalf("claimed %d deliveries (%v), want 100", len(claimed), err)
	}
	outs := make([]watchdog.DeliveryOutcome, len(claimed))
	ids := make(pq.Int64Array, len(claimed))
	for i, d := range claimed {
		outs[i] = watchdog.DeliveryOutcome{ID: d.ID, Attempt: d.Attempts, Status: watchdog.DeliveryDelivered, Finished: now}
		ids[i] = d.ID
	}
	finish, err := finishQuery(outs)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := st.beginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var out []byte
	if err := tx.QueryRowContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+finish).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	plans[0].Plan.walk(func(n planNode) {
		if n.Relation == "deliveries" && n.Type != "ModifyTable" && n.Rows*n.Loops > 100 {
			t.Errorf("recording 100 outcomes read %.0f deliveries rows (%s)\n%s", n.Rows*n.Loops, n.Type, out)
		}
	})
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE status = 'delivered' AND id = ANY($1)`, ids).Scan(&n); err != nil || n != 100 {
		t.Errorf("%d of the 100 recorded as delivered (%v)", n, err)
	}
}

// TestLiteralQuery: values sent as literals (for statements that share one
// query string) come back from the server as they went, whatever their
// text holds; placeholders are replaced by number, not by prefix; and a
// value the query string cannot carry is refused.
func TestLiteralQuery(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	at := time.Date(2026, 3, 2, 12, 0, 0, 123456000, time.UTC)
	texts := []string{"", "plain", "it's", `back\slash \' \\`, `$1 $2::text '; DROP TABLE deliveries; --`, "é ✓ 日本", "E'x'"}
	for _, text := range texts {
		args := []any{text, at, int64(-7), pq.StringArray{text, `"q"`, ""}, 3, "a", "b", "c", "d", "ten"}
		q, err := literalQuery(`SELECT $1::text, $2::timestamptz, $3::bigint, $4::text[], $5::int, $10::text`, args...)
		if err != nil {
			t.Fatalf("literalQuery(%q): %v", text, err)
		}
		var (
			gotText, gotTen string
			gotAt           time.Time
			gotInt, gotFive int64
			gotArr          pq.StringArray
		)
		if err := st.db.QueryRowContext(ctx, q).Scan(&gotText, &gotAt, &gotInt, &gotArr, &gotFive, &gotTen); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if gotText != text || !gotAt.Equal(at) || gotInt != -7 || gotFive != 3 || gotTen != "ten" ||
			len(gotArr) != 3 || gotArr[0] != text || gotArr[1] != `"q"` || gotArr[2] != "" {
			t.Errorf("%s\ngave %q %v %d %q %d %q", q, gotText, gotAt, gotInt, gotArr, gotFive, gotTen)
		}
	}
	for _, c := range []struct {
		query string
		args  []any
	}{
		{"SELECT $1::text", []any{"a\x00b"}},
		{"SELECT $1::text[]", []any{pq.StringArray{"a\x00b"}}},
		{"SELECT $2::text", []any{"a"}},
		{"SELECT $1::float8", []any{1.5}},
		{"SELECT $1::text", []any{[]byte("a")}},
	} {
		if q, err := literalQuery(c.query, c.args...); err == nil {
			t.Errorf("literalQuery(%q, %q) = %q, want an error", c.query, c.args, q)
		}
	}
}
