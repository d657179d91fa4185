package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// handOffScratch stores n tickets due at storetest.At(0) and fires each
// once at now, handing its delivery to notifier "n" off to holder until
// until. It returns the ids of the handed-off deliveries.
func handOffScratch(t *testing.T, st *Store, n int, now time.Time, holder string, until time.Time) []int64 {
	t.Helper()
	ctx := context.Background()
	due := storetest.At(0)
	var events []watchdog.Event
	for i := range n {
		events = append(events, storetest.NewEvent(fmt.Sprintf("%s-%d", holder, i), -time.Hour))
	}
	if _, err := st.Ingest(ctx, events, storetest.OpenPlan(&due)); err != nil {
		t.Fatal(err)
	}
	alerts, err := st.EvaluateDue(ctx, now, n, func(tk *watchdog.Ticket) watchdog.Plan {
		p := storetest.FirePlan(now, nil, []string{"n"}, watchdog.StageAlert)(tk)
		p.Claimed, p.ClaimedBy, p.ClaimedUntil = []string{"n"}, holder, until
		return p
	})
	if err != nil || len(alerts) != n {
		t.Fatalf("EvaluateDue recorded %d alerts (%v), want %d", len(alerts), err, n)
	}
	var ids []int64
	for _, a := range alerts {
		ids = append(ids, a.Deliveries[0].ID)
	}
	return ids
}

// TestHandoffRows: a handed-off delivery has no row until its outcome is
// recorded, its hand-off row goes once every outcome of it is, and the
// rescue of a dead holder writes the rows and deletes its hand-offs. (What
// reads, claims and outcomes see of them is the conformance suite's.)
func TestHandoffRows(t *testing.T) {
	ctx := context.Background()
	st := openScratch(t)
	rows := func(want string) {
		t.Helper()
		var d, h int
		if err := st.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM delivery_handoffs)`).Scan(&d, &h); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%d deliveries, %d hand-offs", d, h); got != want {
			t.Errorf("%s; want %s", got, want)
		}
	}
	now, until := storetest.At(time.Second), storetest.At(time.Hour)
	ids := handOffScratch(t, st, 3, now, "h1", until)
	rows("0 deliveries, 1 hand-offs")
	outcome := func(id int64) watchdog.DeliveryOutcome {
		return watchdog.DeliveryOutcome{ID: id, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: now}
	}
	if err := st.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{outcome(ids[0])}); err != nil {
		t.Fatal(err)
	}
	rows("1 deliveries, 1 hand-offs")
	if err := st.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{outcome(ids[1]), outcome(ids[2])}); err != nil {
		t.Fatal(err)
	}
	rows("3 deliveries, 0 hand-offs")
	if d, r, del := st.handoffs.Remembered(); d+r+del != 0 {
		t.Errorf("the store still remembers %d deliveries, %d hand-offs and %d to delete", d, r, del)
	}

	handOffScratch(t, st, 2, now, "dead", until)
	rows("3 deliveries, 1 hand-offs")
	if err := st.Heartbeat(ctx, "dead", now); err != nil {
		t.Fatal(err)
	}
	if freed, _, err := st.RescueDeliveries(ctx, now, "self"); err != nil || freed != 2 {
		t.Fatalf("RescueDeliveries = %d, %v; want 2", freed, err)
	}
	rows("5 deliveries, 0 hand-offs")
}

// TestHandoffMigrateDown: migrating below 00016 writes the deliveries
// still handed off as the claimed rows a server from before it expects.
func TestHandoffMigrateDown(t *testing.T) {
	ctx, dsn := context.Background(), pgtest.DSN(t)
	st, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now, until := storetest.At(time.Second), storetest.At(time.Hour)
	ids := handOffScratch(t, st, 2, now, "h1", until)
	if err := st.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{{ID: ids[0], Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: now}}); err != nil {
		t.Fatal(err)
	}
	_, p := migrator(t, dsn)
	if _, err := p.DownTo(ctx, 15); err != nil {
		t.Fatal(err)
	}
	var (
		status, holder string
		attempts, n    int
		next           time.Time
	)
	if err := st.db.QueryRowContext(ctx, `SELECT status, attempts, holder, next_attempt_at, (SELECT count(*) FROM deliveries) FROM deliveries WHERE id = $1`, ids[1]).Scan(&status, &attempts, &holder, &next, &n); err != nil {
		t.Fatalf("the handed-off delivery's row after migrating down: %v", err)
	}
	if status != "pending" || attempts != 1 || holder != "h1" || !next.Equal(until) || n != 2 {
		t.Errorf("after migrating down: %s at attempt %d held by %s until %s, %d rows; want pending, 1, h1, %s, 2", status, attempts, holder, next, n, until)
	}
}

// TestHandedOutcomesSomeWritten: a batch of handed-off outcomes some of
// whose rows the rescue wrote first fails its plain insert and is written
// again as an upsert (insertHandedSQL): every outcome lands, the rescued
// rows updated, the others inserted, and no hand-off row is left.
func TestHandedOutcomesSomeWritten(t *testing.T) {
	ctx := context.Background()
	st := openScratch(t)
	now, until := storetest.At(time.Second), storetest.At(time.Hour)
	live := handOffScratch(t, st, 2, now, "live", until)
	dead := handOffScratch(t, st, 2, now, "dead", until)
	if err := st.Heartbeat(ctx, "dead", now); err != nil {
		t.Fatal(err)
	}
	if freed, _, err := st.RescueDeliveries(ctx, now, "live"); err != nil || freed != 2 {
		t.Fatalf("RescueDeliveries = %d, %v; want 2", freed, err)
	}
	done := storetest.At(2 * time.Second)
	var outcomes []watchdog.DeliveryOutcome
	for _, id := range append(live, dead...) {
		outcomes = append(outcomes, watchdog.DeliveryOutcome{ID: id, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: done})
	}
	if err := st.FinishDeliveries(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	var delivered, pending, handoffs int
	if err := st.db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE status = 'delivered' AND attempts = 1 AND delivered_at = $1),
		count(*) FILTER (WHERE status <> 'delivered'), (SELECT count(*) FROM delivery_handoffs) FROM deliveries`, done).Scan(&delivered, &pending, &handoffs); err != nil {
		t.Fatal(err)
	}
	if delivered != 4 || pending != 0 || handoffs != 0 {
		t.Errorf("after the outcomes: %d delivered at attempt 1, %d not delivered, %d hand-offs; want 4, 0, 0", delivered, pending, handoffs)
	}
	if d, r, del := st.handoffs.Remembered(); d+r+del != 0 {
		t.Errorf("the store still remembers %d deliveries, %d hand-offs and %d to delete", d, r, del)
	}
}
