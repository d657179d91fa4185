package postgres

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/migrations"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// migrator opens the database at dsn and a goose provider of the store's
// migrations on it, for tests that stop the schema at a version.
func migrator(t *testing.T, dsn string) (*sql.DB, *goose.Provider) {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fsys, err := fs.Sub(migrations.Postgres, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return db, p
}

// TestMigrationMovesTheScheduleOntoTickets: a store that kept its due
// instants in ticket_schedule (migrations up to 00013) upgrades in place:
// the tickets it had scheduled are still found due, in due order, by
// NextDue and by the claim, and migrating down restores the schedule.
func TestMigrationMovesTheScheduleOntoTickets(t *testing.T) {
	ctx, dsn := context.Background(), pgtest.DSN(t)
	db, p := migrator(t, dsn)
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	// Three tickets due (two past, one ahead) and one with nothing due, as
	// the store before 00014 wrote them: the due instant on both tables.
	for _, r := range []struct {
		id  string
		due *time.Time
	}{{"T-late", at(-2 * time.Hour)}, {"T-later", at(time.Hour)}, {"T-idle", nil}, {"T-due", at(-time.Minute)}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO tickets (id, priority, customer_tier, status, created_at, updated_at, sla_state, next_due_at)
			VALUES ($1, 'high', 'gold', 'open', $2, $2, 'ok', $3)`, r.id, now.Add(-3*time.Hour), r.due); err != nil {
			t.Fatal(err)
		}
		if r.due != nil {
			if _, err := db.ExecContext(ctx, `INSERT INTO ticket_schedule (ticket_id, next_due_at) VALUES ($1, $2)`, r.id, *r.due); err != nil {
				t.Fatal(err)
			}
		}
	}

	st, err := Open(ctx, dsn, nil) // migrates the rest of the way
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	next, ok, err := st.NextDue(ctx)
	if err != nil || !ok || !next.Equal(now.Add(-2*time.Hour)) {
		t.Fatalf("NextDue = %v, %v, %v; want %v", next, ok, err, now.Add(-2*time.Hour))
	}
	tx, err := st.beginPlanned(ctx, claimPlans)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := queryTickets(ctx, tx, claimSQL, now, 10)
	_ = tx.Rollback()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range claimed {
		ids = append(ids, c.ID)
	}
	if len(ids) != 2 || ids[0] != "T-late" || ids[1] != "T-due" {
		t.Errorf("claimed %v, want [T-late T-due] (due, in due order)", ids)
	}

	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM ticket_schedule s JOIN tickets t
		ON t.id = s.ticket_id AND t.next_due_at = s.next_due_at`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("after migrating down, %d tickets scheduled as on tickets, want 3", n)
	}
}

// TestEventOnRow: a ticket created by one event has no timeline row (the
// event is its row's fields), a second event writes both, the table has a
// name a server from before the rule does not find, and migrating below
// 00015 writes out the events the rows hold, under the old name.
func TestEventOnRow(t *testing.T) {
	ctx, dsn := context.Background(), pgtest.DSN(t)
	st, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	ev := func(id string, updated time.Duration) watchdog.Event {
		return watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: base, UpdatedAt: base.Add(updated),
			Attributes: map[string]string{"team": "billing"}, Tags: []string{"vip"}}
	}
	plan := func(*watchdog.Ticket) watchdog.Plan { return watchdog.Plan{State: watchdog.TicketOK, Open: true} }
	table := "ticket_timeline"
	rows := func(id string) int {
		t.Helper()
		var n int
		if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE ticket_id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := st.Ingest(ctx, []watchdog.Event{ev("one", time.Minute), ev("two", time.Minute), ev("two", 2*time.Minute), ev("three", time.Minute)}, plan); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"one": 0, "two": 2, "three": 0} {
		if n := rows(id); n != want {
			t.Errorf("%s: %d timeline rows after the first batch, want %d", id, n, want)
		}
	}
	// A replay of the one event writes nothing; an older event writes both.
	for _, batch := range [][]watchdog.Event{{ev("one", time.Minute)}, {ev("one", 0)}} {
		if _, err := st.Ingest(ctx, batch, plan); err != nil {
			t.Fatal(err)
		}
	}
	if n := rows("one"); n != 2 {
		t.Errorf("one: %d timeline rows after an older event, want 2", n)
	}
	var old sql.NullString
	if err := st.db.QueryRowContext(ctx, `SELECT to_regclass('ticket_events')::text`).Scan(&old); err != nil || old.Valid {
		t.Errorf("ticket_events is still there (%v, %v): a server from before the rule would read it", old, err)
	}

	db, p := migrator(t, dsn)
	if _, err := p.DownTo(ctx, 14); err != nil {
		t.Fatal(err)
	}
	table = "ticket_events"
	var got []watchdog.Event
	r, err := db.QueryContext(ctx, `SELECT ticket_id, updated_at, status, priority, customer_tier, created_at, first_response_at, attributes, tags
		FROM ticket_events WHERE ticket_id = 'three'`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		e, err := scanEvent(r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if d := cmp.Diff([]watchdog.Event{ev("three", time.Minute)}, got); d != "" {
		t.Errorf("three: timeline rows after migrating down (-want +got):\n%s", d)
	}
	for id, want := range map[string]int{"one": 2, "two": 2} {
		if n := rows(id); n != want {
			t.Errorf("%s: %d timeline rows after migrating down, want %d", id, n, want)
		}
	}
}
