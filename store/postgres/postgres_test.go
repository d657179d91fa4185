package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/migrations"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// open returns a migrated store on dsn, closed at cleanup.
func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t testing.TB) (watchdog.Store, func(testing.TB) watchdog.Store) {
			dsn := pgtest.DSN(t)
			st := open(t, dsn)
			t.Cleanup(func() { checkRollup(t, dsn) })
			return st, func(t testing.TB) watchdog.Store {
				// Its own pool (and listener) on the same schema.
				return open(t, dsn)
			}
		},
		SharedFeed: true,
	})
}

// checkRollup fails t when the roll-up of stopped outcomes by day
// (sla_outcome_days, kept by the statements that write outcome rows)
// differs from the same counts aggregated from the outcome rows of the
// schema at dsn, its shards summed: run after every conformance case,
// whatever its writes (late events, reopens, stale cycles, re-plans,
// backfills).
func checkRollup(t testing.TB, dsn string) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckRollup(t, db, `SELECT day, policy, tier, priority, sla_type, calendar, bin, sum(stopped), sum(met), sum(overrun_seconds)
		FROM sla_outcome_days GROUP BY 1, 2, 3, 4, 5, 6, 7
		HAVING sum(stopped) <> 0 OR sum(met) <> 0 OR sum(overrun_seconds) <> 0`,
		`SELECT floor(extract(epoch FROM stopped_at) / 86400)::integer, policy, tier, priority, sla_type, calendar,
		sla_outcome_bin(business_seconds), count(*), count(*) FILTER (WHERE NOT breached),
		coalesce(sum(overrun_seconds) FILTER (WHERE breached), 0)
		FROM sla_outcomes WHERE stopped_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7`)
}

func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			db, err := sql.Open("postgres", dsn)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- postgres.Migrate(context.Background(), db)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	db := sqlx.MustOpen("postgres", dsn)
	defer db.Close()
	var applied int
	if err := db.Get(&applied, "SELECT count(*) FROM goose_db_version WHERE version_id > 0"); err != nil {
		t.Fatal(err)
	}
	want := embeddedMigrations(t)
	if applied != want {
		t.Errorf("goose_db_version has %d applied migrations, want %d (each applied once)", applied, want)
	}
	// Rerunning is a no-op.
	if err := postgres.Migrate(context.Background(), db.DB); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := db.Get(&applied, "SELECT count(*) FROM goose_db_version WHERE version_id > 0"); err != nil {
		t.Fatal(err)
	}
	if applied != want {
		t.Errorf("after rerun: %d applied migrations, want %d", applied, want)
	}
}

// embeddedMigrations counts the migration files Migrate applies.
func embeddedMigrations(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrations.Postgres, "postgres/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded migrations (%v)", err)
	}
	return len(files)
}

// TestEvaluateDueSeparatePools runs EvaluateDue from four stores, each with
// its own pool, on the same due tickets: every stage fires exactly once.
func TestEvaluateDueSeparatePools(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	first := open(t, dsn)
	const tickets = 300
	due := storetest.At(time.Hour)
	var evs []watchdog.Event
	for i := range tickets {
		evs = append(evs, storetest.NewEvent(fmt.Sprintf("T-%04d", i), 0))
	}
	if _, err := first.Ingest(ctx, evs, storetest.OpenPlan(&due)); err != nil {
		t.Fatal(err)
	}
	stores := []*postgres.Store{first, open(t, dsn), open(t, dsn), open(t, dsn)}
	now := due.Add(time.Minute)
	plan := storetest.FirePlan(now, nil, []string{"slack"}, watchdog.StageAlert, watchdog.StageBreach)

	var (
		mu    sync.Mutex
		fired = map[string]int{}
		wg    sync.WaitGroup
	)
	for _, st := range stores {
		for range 3 {
			wg.Go(func() {
				for {
					alerts, err := st.EvaluateDue(ctx, now, 7, plan)
					if err != nil {
						t.Errorf("EvaluateDue: %v", err)
						return
					}
					mu.Lock()
					for _, a := range alerts {
						fired[a.TicketID+"/"+a.Stage]++
					}
					mu.Unlock()
					if len(alerts) == 0 {
						// SKIP LOCKED may hide rows another worker holds;
						// stop only when none is due any more.
						if _, ok, err := st.NextDue(ctx); err != nil || !ok {
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	if len(fired) != 2*tickets {
		t.Errorf("%d distinct stages fired, want %d", len(fired), 2*tickets)
	}
	for k, n := range fired {
		if n != 1 {
			t.Errorf("stage %s fired %d times", k, n)
		}
	}
	var alerts, deliveries, level int
	db := first.DB()
	if err := db.Get(&alerts, "SELECT count(*) FROM alerts"); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&deliveries, "SELECT count(*) FROM deliveries"); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&level, "SELECT sum(escalation_level) FROM tickets"); err != nil {
		t.Fatal(err)
	}
	if alerts != 2*tickets || deliveries != 2*tickets || level != 2*tickets {
		t.Errorf("alerts=%d deliveries=%d sum(escalation_level)=%d, want %d each", alerts, deliveries, level, 2*tickets)
	}
}

// TestNotifyAcrossPools checks that an alert recorded through one pool
// reaches a subscriber of another store, and that an alert too large for
// one NOTIFY payload still arrives whole.
func TestNotifyAcrossPools(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	writer, reader := open(t, dsn), open(t, dsn)
	ch, err := reader.SubscribeAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own, err := writer.SubscribeAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	due := storetest.At(time.Hour)
	long := strings.Repeat("x", watchdog.MaxIDBytes)
	if _, err := writer.Ingest(ctx, []watchdog.Event{storetest.NewEvent("A-1", 0), storetest.NewEvent(long, 0)}, storetest.OpenPlan(&due)); err != nil {
		t.Fatal(err)
	}
	now := due.Add(time.Second)
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		p := storetest.FirePlan(now, nil, nil, watchdog.StageAlert)(tk)
		if tk.ID == long {
			p.Alerts[0].Message = strings.Repeat("d", 9000) // over the NOTIFY limit
		}
		return p
	}
	recorded, err := writer.EvaluateDue(ctx, now, 10, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 2 {
		t.Fatalf("recorded %d alerts, want 2", len(recorded))
	}
	got := map[int64]watchdog.Alert{}
	for len(got) < 2 {
		select {
		case a := <-ch:
			got[a.ID] = a
		case <-ctx.Done():
			t.Fatalf("only %d of 2 alerts arrived", len(got))
		}
	}
	for _, want := range recorded {
		a := got[want.ID]
		if a.TicketID != want.TicketID || a.Message != want.Message || !a.DueAt.Equal(want.DueAt) ||
			!a.FiredAt.Equal(want.FiredAt) || a.EscalationLevel != want.EscalationLevel || a.Target != want.Target {
			t.Errorf("alert %d arrived as %+v, want %+v", want.ID, a, want)
		}
	}

	// The writer's own subscriber gets its alerts once: from the commit,
	// not again from its NOTIFY. An alert the reader records afterwards
	// comes through the writer's listener after that NOTIFY, so once it
	// is in, any echo of the first two would have been too.
	later := due.Add(time.Hour)
	if _, err := reader.Ingest(ctx, []watchdog.Event{storetest.NewEvent("B-1", 0)}, storetest.OpenPlan(&later)); err != nil {
		t.Fatal(err)
	}
	third, err := reader.EvaluateDue(ctx, later, 10, storetest.FirePlan(later, nil, nil, watchdog.StageAlert))
	if err != nil || len(third) != 1 {
		t.Fatalf("reader recorded %v, %v; want one alert", third, err)
	}
	seen := map[int64]int{}
	for seen[third[0].ID] == 0 {
		select {
		case a := <-own:
			seen[a.ID]++
			if a.Deliveries != nil {
				t.Errorf("alert %d reached a subscriber with deliveries", a.ID)
			}
		case <-ctx.Done():
			t.Fatalf("the writer's subscriber saw %v, never the reader's alert %d", seen, third[0].ID)
		}
	}
	for _, a := range recorded {
		if seen[a.ID] != 1 {
			t.Errorf("the writer's subscriber got its alert %d %d times, want once", a.ID, seen[a.ID])
		}
	}
}

func TestSearchPathIsolation(t *testing.T) {
	t.Parallel()
	a, b := open(t, pgtest.DSN(t)), open(t, pgtest.DSN(t))
	ctx := context.Background()
	if _, err := a.Ingest(ctx, []watchdog.Event{storetest.NewEvent("only-in-a", 0)}, storetest.OpenPlan(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Ticket(ctx, "only-in-a"); !errors.Is(err, watchdog.ErrNotFound) {
		t.Fatalf("ticket of schema a read through schema b: err = %v, want ErrNotFound", err)
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-pa55"
	for _, dsn := range []string{
		"postgres://watchdog:" + secret + "@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		"postgres://watchdog:" + secret + "@127.0.0.1:badport/test",
		"host=127.0.0.1 port=1 user=watchdog password=" + secret + " sslmode=disable connect_timeout=2",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := postgres.Open(ctx, dsn, nil)
		cancel()
		if err == nil {
			t.Fatalf("Open(%q) succeeded; want a connection error", strings.ReplaceAll(dsn, secret, "…"))
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error leaks the password: %v", err)
		}
	}
}

func TestNewNeedsListenDSN(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	db := sqlx.MustOpen("postgres", dsn)
	defer db.Close()
	if err := postgres.Migrate(context.Background(), db.DB); err != nil {
		t.Fatal(err)
	}
	st, err := postgres.New(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Ingest(context.Background(), []watchdog.Event{storetest.NewEvent("n-1", 0)}, storetest.OpenPlan(nil)); err != nil {
		t.Fatalf("Ingest through New: %v", err)
	}
	if _, err := st.SubscribeAlerts(context.Background()); err == nil {
		t.Error("SubscribeAlerts without ListenDSN succeeded")
	}
	st.Close()
	// Close leaves the caller's pool open.
	if err := db.Ping(); err != nil {
		t.Errorf("caller's pool closed by Store.Close: %v", err)
	}
}

// TestIngestConcurrentSameTickets has four pools ingest different events of
// the same brand-new tickets at once: every event must end up in the
// timeline and each ticket's fields must come from its latest event, so a
// batch that raced another creating the ticket must be rerun, not lost.
func TestIngestConcurrentSameTickets(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	stores := []*postgres.Store{open(t, dsn), open(t, dsn), open(t, dsn), open(t, dsn)}
	const tickets = 200
	var wg sync.WaitGroup
	for w, st := range stores {
		wg.Go(func() {
			// Worker w sends updated_at = w minutes, status "s<w>", for every
			// ticket, in a worker-specific order to provoke lock contention.
			evs := make([]watchdog.Event, tickets)
			for i := range evs {
				id := i
				if w%2 == 1 {
					id = tickets - 1 - i
				}
				ev := storetest.NewEvent(fmt.Sprintf("C-%03d", id), time.Duration(w)*time.Minute)
				ev.Status = fmt.Sprintf("s%d", w)
				evs[i] = ev
			}
			for chunk := 0; chunk < tickets; chunk += 50 {
				if _, err := st.Ingest(ctx, evs[chunk:chunk+50], storetest.OpenPlan(nil)); err != nil {
					t.Errorf("worker %d: Ingest: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range tickets {
		tk, err := stores[0].Ticket(ctx, fmt.Sprintf("C-%03d", i))
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.Events) != len(stores) {
			t.Errorf("%s has %d events, want %d", tk.ID, len(tk.Events), len(stores))
		}
		if want := fmt.Sprintf("s%d", len(stores)-1); tk.Status != want {
			t.Errorf("%s has status %q, want %q (from its latest event)", tk.ID, tk.Status, want)
		}
	}
}
