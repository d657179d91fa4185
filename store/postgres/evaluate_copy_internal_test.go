package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// TestEvaluationCopiesWhatItReturns: the deliveries an evaluation hands
// back, built in memory beside its COPY, are field for field what a read
// of the table gives (claimed, held, recorded unsent, plain), with the
// alerts' ids as stored.
func TestEvaluationCopiesWhatItReturns(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	if !st.canCopy {
		t.Fatal("the store's own pool should offer COPY")
	}
	due := storetest.At(0)
	var events []watchdog.Event
	for i := range 3 {
		events = append(events, storetest.NewEvent(fmt.Sprintf("T-%d", i), -2*time.Hour))
	}
	if _, err := st.Ingest(ctx, events, storetest.OpenPlan(&due)); err != nil {
		t.Fatal(err)
	}
	now := due.Add(1500 * time.Millisecond)
	held := now.Add(3*time.Hour + 123*time.Microsecond)
	const message = "tab\there, a newline\nand a backslash \\"
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		a := storetest.NewAlert(tk, watchdog.StageBreach, due, now)
		a.Message = message
		return watchdog.Plan{State: watchdog.TicketBreach, Open: true, Alerts: []watchdog.Alert{a},
			Routed: map[watchdog.StageKey][]watchdog.PlannedDelivery{a.Key(): {
				{Notifier: "slack"}, {Notifier: "pager", HeldUntil: held},
				{Notifier: "mail", Status: watchdog.DeliverySuperseded}, {Notifier: "webhook"},
			}},
			Claimed: []string{"slack"}, ClaimedBy: "h1", ClaimedUntil: now.Add(time.Minute)}
	}
	alerts, err := st.EvaluateDue(ctx, now, 10, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 3 {
		t.Fatalf("recorded %d alerts, want 3", len(alerts))
	}
	var returned []watchdog.Delivery
	ids := map[int64]string{}
	for _, a := range alerts {
		ids[a.ID] = a.TicketID
		if !slices.IsSortedFunc(a.Deliveries, func(x, y watchdog.Delivery) int { return strings.Compare(x.Notifier, y.Notifier) }) {
			t.Errorf("alert %d: deliveries not in notifier order", a.ID)
		}
		for _, d := range a.Deliveries {
			d.Alert = nil
			returned = append(returned, d)
		}
	}
	slices.SortFunc(returned, func(x, y watchdog.Delivery) int { return int(x.ID - y.ID) })
	stored := storedDeliveries(t, st)
	if diff := cmp.Diff(stored, returned); diff != "" {
		t.Errorf("returned deliveries differ from the stored ones (-stored +returned):\n%s", diff)
	}
	// The slack deliveries are handed off: one hand-off row of holder h1
	// names them, and none has a row of its own yet.
	var (
		holder, notifier string
		dIDs, aIDs       pq.Int64Array
		rows             int
	)
	if err := st.db.QueryRowContext(ctx, `SELECT holder, notifier, delivery_ids, alert_ids,
		(SELECT count(*) FROM deliveries WHERE notifier = 'slack') FROM delivery_handoffs`).Scan(&holder, &notifier, &dIDs, &aIDs, &rows); err != nil {
		t.Fatalf("reading the one hand-off row: %v", err)
	}
	if holder != "h1" || notifier != "slack" || len(dIDs) != 3 || rows != 0 {
		t.Fatalf("hand-off of %s to %s names %d deliveries (%d with rows); want h1's 3 slack deliveries, none with a row", holder, notifier, len(dIDs), rows)
	}
	for i, id := range aIDs {
		var details string
		if err := st.db.QueryRowContext(ctx, "SELECT details FROM alerts WHERE id = $1", id).Scan(&details); err != nil {
			t.Fatal(err)
		}
		if ids[id] == "" || details != message {
			t.Errorf("hand-off names alert %d (delivery %d) with details %q; want one of the returned alerts with %q", id, dIDs[i], details, message)
		}
	}
}

// storedDeliveries reads every delivery as the store's reads see them:
// the rows, and the handed-off deliveries without one, by id.
func storedDeliveries(t *testing.T, st *Store) []watchdog.Delivery {
	t.Helper()
	ctx := context.Background()
	stored, err := sqlstore.QueryAll(ctx, st.db, scanDelivery, "SELECT "+deliveryCols+" FROM deliveries ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var alertIDs pq.Int64Array
	if err := st.db.QueryRowContext(ctx, "SELECT ARRAY(SELECT id FROM alerts)").Scan(&alertIDs); err != nil {
		t.Fatal(err)
	}
	handed, err := handedOffOf(ctx, st.db, alertIDs)
	if err != nil {
		t.Fatal(err)
	}
	stored = append(stored, handed...)
	slices.SortFunc(stored, func(x, y watchdog.Delivery) int { return int(x.ID - y.ID) })
	return stored
}

// TestEvaluationCopyConflict: a stage recorded already, by someone who did
// not hold the ticket's lock, aborts the evaluation's COPY with
// ErrConflict rather than recording it twice.
func TestEvaluationCopyConflict(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	now := storetest.At(time.Hour)
	record := func() error {
		tx, err := st.beginCopyPlanned(ctx, keyedPlans)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.end()
		e := evaluation{now: now, plans: map[string]watchdog.Plan{"T-1": {Notifiers: []string{"slack"}}}}
		e.alerts.add(storetest.NewAlert(&watchdog.Ticket{ID: "T-1", Priority: "high", CustomerTier: "gold"}, watchdog.StageAlert, now, now))
		if err := e.copyAlerts(ctx, tx); err != nil {
			return err
		}
		return tx.Commit()
	}
	if err := record(); err != nil {
		t.Fatal(err)
	}
	err := record()
	if !errors.Is(err, watchdog.ErrConflict) {
		t.Fatalf("recording a stage twice: %v, want ErrConflict", err)
	}
	var alerts, deliveries int
	if err := st.db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM deliveries)").Scan(&alerts, &deliveries); err != nil {
		t.Fatal(err)
	}
	if alerts != 1 || deliveries != 1 {
		t.Fatalf("%d alerts and %d deliveries stored, want 1 and 1", alerts, deliveries)
	}
}

// TestCopyAfterCancel: when the context of a write ends, the next COPY
// fails with its error and the transaction stays its owner's to roll
// back. database/sql used to roll it back and close its connection from a
// goroutine of its own, and a COPY starting meanwhile found no connection
// (a nil pointer panic in Conn.Raw, seen once in CI).
func TestCopyAfterCancel(t *testing.T) {
	st := openScratch(t)
	for i := range 20 {
		ctx, cancel := context.WithCancel(t.Context())
		tx, err := st.beginCopyWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows := &copyRows{}
		rows.event(&watchdog.Event{ID: fmt.Sprintf("cancelled-%d", i), Status: "open", Priority: "high", CustomerTier: "gold"})
		cancel()
		err = copyIn(ctx, tx.conn, copyEventsSQL, rows)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("COPY after the context ended: %v, want context.Canceled", err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatalf("rolling back after the context ended: %v, want the transaction still open", err)
		}
		tx.end()
	}
	// Nor does a transaction commit once its context has ended, though
	// every statement in it succeeded.
	ctx, cancel := context.WithCancel(t.Context())
	tx, err := st.beginCopyWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := &copyRows{}
	rows.event(&watchdog.Event{ID: "cancelled-commit", Status: "open", Priority: "high", CustomerTier: "gold"})
	if err := copyIn(ctx, tx.conn, copyEventsSQL, rows); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := tx.Commit(); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit after the context ended: %v, want context.Canceled", err)
	}
	tx.end()
	var n int
	if err := st.db.QueryRowContext(t.Context(), `SELECT count(*) FROM ticket_timeline WHERE ticket_id = 'cancelled-commit'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d events of the cancelled transaction stored (%v), want none", n, err)
	}
	// The pool still works.
	if _, err := st.Ticket(t.Context(), "cancelled-0"); !errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("Ticket after the cancelled writes: %v, want ErrNotFound", err)
	}
}
