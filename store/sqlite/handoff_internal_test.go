package sqlite

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/migrations"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// TestHandoffRows: a handed-off delivery has no row until its outcome is
// recorded, its hand-off row goes once every outcome of it is, ids drawn
// afterwards follow the ones handed off, and migrating below 00011 writes
// the deliveries still handed off as the claimed rows a server from before
// it expects; 00012's pairs go down to two arrays and up again unchanged.
// (What reads, claims and outcomes see of them is the conformance suite's.)
func TestHandoffRows(t *testing.T) {
	ctx := context.Background()
	st := openAt(t, filepath.Join(t.TempDir(), "w.db"))
	rows := func(want string) {
		t.Helper()
		var d, h int
		if err := st.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM delivery_handoffs)`).Scan(&d, &h); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%d deliveries, %d hand-offs", d, h); got != want {
			t.Errorf("%s; want %s", got, want)
		}
	}
	due, now, until := storetest.At(0), storetest.At(time.Second), storetest.At(time.Hour)
	var events []watchdog.Event
	for i := range 3 {
		events = append(events, storetest.NewEvent(fmt.Sprintf("T-%d", i), -time.Hour))
	}
	if _, err := st.Ingest(ctx, events, storetest.OpenPlan(&due)); err != nil {
		t.Fatal(err)
	}
	alerts, err := st.EvaluateDue(ctx, now, 3, func(tk *watchdog.Ticket) watchdog.Plan {
		p := storetest.FirePlan(now, nil, []string{"n", "m"}, watchdog.StageAlert)(tk)
		p.Claimed, p.ClaimedBy, p.ClaimedUntil = []string{"n"}, "h1", until
		return p
	})
	if err != nil || len(alerts) != 3 {
		t.Fatalf("EvaluateDue: %d alerts, %v", len(alerts), err)
	}
	rows("3 deliveries, 1 hand-offs") // the three to m
	var handed []int64
	for _, a := range alerts {
		handed = append(handed, a.Deliveries[1].ID) // m, n
	}
	if err := st.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{{ID: handed[0], Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: now}}); err != nil {
		t.Fatal(err)
	}
	rows("4 deliveries, 1 hand-offs")
	// A re-routing's delivery takes an id after every one handed off.
	if err := st.Reroute(ctx, watchdog.Reroute{Now: now, Add: []watchdog.DeliveryAdd{{AlertID: alerts[2].ID, PlannedDelivery: watchdog.PlannedDelivery{Notifier: "x"}}}}); err != nil {
		t.Fatal(err)
	}
	var added int64
	if err := st.r.QueryRowContext(ctx, `SELECT id FROM deliveries WHERE notifier = 'x'`).Scan(&added); err != nil {
		t.Fatal(err)
	}
	if added != 7 {
		t.Errorf("the re-routing's delivery has id %d, want 7 (after the six drawn)", added)
	}

	fsys, err := fs.Sub(migrations.SQLite, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, st.w, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	checkPairsMigration(t, st, p, handed, alerts)
	if _, err := p.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	var (
		n, attempts int
		holder      string
		next        int64
	)
	if err := st.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM deliveries), attempts, holder, next_attempt_at FROM deliveries WHERE id = ?`, handed[1]).Scan(&n, &attempts, &holder, &next); err != nil {
		t.Fatalf("the handed-off delivery's row after migrating down: %v", err)
	}
	if n != 7 || attempts != 1 || holder != "h1" || next != micros(until) {
		t.Errorf("after migrating down: %d rows, attempt %d, holder %s, next %d; want 7, 1, h1, %d", n, attempts, holder, next, micros(until))
	}
}

// checkPairsMigration checks that below 00012 the hand-off of handed (the
// deliveries of alerts to n) names them and their alerts in two arrays, and
// back up the pairs are the same.
func checkPairsMigration(t *testing.T, st *Store, p *goose.Provider, handed []int64, alerts []watchdog.Alert) {
	t.Helper()
	ctx := context.Background()
	var pairs string
	if err := st.r.QueryRowContext(ctx, `SELECT pairs FROM delivery_handoffs`).Scan(&pairs); err != nil {
		t.Fatal(err)
	}
	wantPairs := fmt.Sprintf("[[%d,%d],[%d,%d],[%d,%d]]", handed[0], alerts[0].ID, handed[1], alerts[1].ID, handed[2], alerts[2].ID)
	if pairs != wantPairs {
		t.Fatalf("hand-off pairs %s, want %s (the three deliveries to n)", pairs, wantPairs)
	}
	if _, err := p.DownTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	var ds, as string
	if err := st.r.QueryRowContext(ctx, `SELECT delivery_ids, alert_ids FROM delivery_handoffs`).Scan(&ds, &as); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("[%d,%d,%d] [%d,%d,%d]", handed[0], handed[1], handed[2], alerts[0].ID, alerts[1].ID, alerts[2].ID); ds+" "+as != want {
		t.Errorf("at 00011 the hand-off names %s %s, want %s", ds, as, want)
	}
	if _, err := p.UpTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	var minA, maxA int64
	if err := st.r.QueryRowContext(ctx, `SELECT pairs, min_alert, max_alert FROM delivery_handoffs`).Scan(&pairs, &minA, &maxA); err != nil {
		t.Fatal(err)
	}
	if pairs != wantPairs || minA != alerts[0].ID || maxA != alerts[2].ID {
		t.Errorf("migrated up again: pairs %s, alerts %d..%d; want %s, %d..%d", pairs, minA, maxA, wantPairs, alerts[0].ID, alerts[2].ID)
	}
}
