package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// handOffScratch stores n tickets due at storetest.At(0) and fires each
// once at now, handing its delivery to notifier "n" off to holder until
// until. It returns the handed-off deliveries in ticket order.
func handOffScratch(t *testing.T, st *Store, n int, now time.Time, holder string, until time.Time) []watchdog.Delivery {
	t.Helper()
	ctx := context.Background()
	due := storetest.At(0)
	var events []watchdog.Event
	for i := range n {
		events = append(events, storetest.NewEvent(fmt.Sprintf("T-%d", i), -time.Hour))
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
	out := make([]watchdog.Delivery, n)
	for _, a := range alerts {
		var i int
		fmt.Sscanf(a.TicketID, "T-%d", &i)
		if len(a.Deliveries) != 1 || a.Deliveries[0].Attempts != 1 {
			t.Fatalf("alert of %s: deliveries %+v, want one handed off", a.TicketID, a.Deliveries)
		}
		out[i] = a.Deliveries[0]
	}
	return out
}

// countRows returns the numbers of deliveries rows and hand-off rows.
func countRows(t *testing.T, st *Store) (deliveries, handoffs int) {
	t.Helper()
	if err := st.db.QueryRow(`SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM delivery_handoffs)`).Scan(&deliveries, &handoffs); err != nil {
		t.Fatal(err)
	}
	return deliveries, handoffs
}

// ticketDelivery reads ticket id's one delivery through the store.
func ticketDelivery(t *testing.T, st *Store, id string) watchdog.Delivery {
	t.Helper()
	tk, err := st.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
		t.Fatalf("%s: %d alerts, want one with one delivery: %+v", id, len(tk.Alerts), tk.Alerts)
	}
	return tk.Alerts[0].Deliveries[0]
}

func finishScratch(t *testing.T, st *Store, outcomes ...watchdog.DeliveryOutcome) {
	t.Helper()
	if err := st.FinishDeliveries(context.Background(), outcomes); err != nil {
		t.Fatal(err)
	}
}

// TestHandoffWrittenWithOutcome: a handed-off delivery has no row until
// its outcome is recorded, reads show it as the claimed row it stands
// for, each outcome kind writes the row a claimed row's update would have
// left, and the hand-off row goes with its last outcome.
func TestHandoffWrittenWithOutcome(t *testing.T) {
	st := openScratch(t)
	now, until := storetest.At(time.Second), storetest.At(time.Hour)
	ds := handOffScratch(t, st, 3, now, "h1", until)
	if d, h := countRows(t, st); d != 0 || h != 1 {
		t.Fatalf("after the hand-off: %d deliveries rows and %d hand-off rows, want 0 and 1", d, h)
	}
	for i, want := range ds {
		got := ticketDelivery(t, st, fmt.Sprintf("T-%d", i))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("T-%d: read of the handed-off delivery differs from the returned one (-returned +read):\n%s", i, diff)
		}
		if got.Status != watchdog.DeliveryPending || got.Attempts != 1 || !got.NextAttemptAt.Equal(until) {
			t.Errorf("T-%d: handed-off delivery reads %+v, want pending at attempt 1 until the backstop", i, got)
		}
	}
	if at, ok, err := st.NextDelivery(context.Background(), "n"); err != nil || !ok || !at.Equal(until) {
		t.Errorf("NextDelivery = %s, %v, %v; want the hand-off's backstop %s", at, ok, err, until)
	}

	delivered := storetest.At(2 * time.Second)
	finishScratch(t, st, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: delivered})
	if d, h := countRows(t, st); d != 1 || h != 1 {
		t.Fatalf("after one outcome: %d deliveries rows and %d hand-off rows, want 1 and 1", d, h)
	}
	retry := storetest.At(time.Minute)
	finishScratch(t, st,
		watchdog.DeliveryOutcome{ID: ds[1].ID, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: retry, Error: "503", Finished: delivered},
		watchdog.DeliveryOutcome{ID: ds[2].ID, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: now, Unsent: true, Finished: delivered})
	if d, h := countRows(t, st); d != 3 || h != 0 {
		t.Fatalf("after every outcome: %d deliveries rows and %d hand-off rows, want 3 and 0", d, h)
	}
	if n := len(st.handoffs.byID) + len(st.handoffs.rows) + len(st.handoffs.deletable); n != 0 {
		t.Errorf("the store still remembers %d hand-off entries", n)
	}
	want := []watchdog.Delivery{
		{ID: ds[0].ID, AlertID: ds[0].AlertID, Notifier: "n", Status: watchdog.DeliveryDelivered, Attempts: 1, DeliveredAt: &delivered},
		{ID: ds[1].ID, AlertID: ds[1].AlertID, Notifier: "n", Status: watchdog.DeliveryPending, Attempts: 1, NextAttemptAt: retry, LastError: "503"},
		{ID: ds[2].ID, AlertID: ds[2].AlertID, Notifier: "n", Status: watchdog.DeliveryPending, Attempts: 0, NextAttemptAt: now},
	}
	for i := range want {
		if diff := cmp.Diff(want[i], ticketDelivery(t, st, fmt.Sprintf("T-%d", i))); diff != "" {
			t.Errorf("T-%d: recorded delivery (-want +got):\n%s", i, diff)
		}
	}
	// A second outcome for the first delivery's hand-off attempt finds it
	// delivered and changes nothing.
	finishScratch(t, st, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryFailed, Error: "late", Finished: retry})
	if diff := cmp.Diff(want[0], ticketDelivery(t, st, "T-0")); diff != "" {
		t.Errorf("T-0 after a second outcome (-want +got):\n%s", diff)
	}
	// The retried and the unsent ones are claimed as any pending row.
	got, err := st.ClaimDeliveries(context.Background(), watchdog.DeliveryClaim{Notifier: "n", Holder: "h2", Now: retry, Limit: 10, Until: until})
	if err != nil || len(got) != 2 || got[0].ID != ds[2].ID || got[0].Attempts != 1 || got[1].ID != ds[1].ID || got[1].Attempts != 2 {
		t.Fatalf("claim after the outcomes = %+v, %v; want the unsent delivery at attempt 1, then the retried one at 2", got, err)
	}
}

// TestHandoffClaimedAfterBackstop: once a hand-off's backstop runs out, a
// claim takes its deliveries as it took the claimed rows, at attempt 2,
// and the first holder's late outcome is ignored.
func TestHandoffClaimedAfterBackstop(t *testing.T) {
	ctx := context.Background()
	st := openScratch(t)
	now, until := storetest.At(time.Second), storetest.At(time.Hour)
	ds := handOffScratch(t, st, 2, now, "h1", until)
	claim := func(at time.Time) []watchdog.Delivery {
		t.Helper()
		got, err := st.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "n", Holder: "h2", Now: at, Limit: 10, Until: at.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := claim(until.Add(-time.Microsecond)); len(got) != 0 {
		t.Fatalf("claimed %d handed-off deliveries before their backstop", len(got))
	}
	got := claim(until)
	if len(got) != 2 || got[0].ID != ds[0].ID || got[1].ID != ds[1].ID || got[0].Attempts != 2 || got[0].Alert == nil {
		t.Fatalf("claim at the backstop = %+v, want both deliveries at attempt 2 with their alerts", got)
	}
	finishScratch(t, st, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: until})
	d := ticketDelivery(t, st, "T-0")
	if d.Status != watchdog.DeliveryPending || d.Attempts != 2 {
		t.Fatalf("after the first holder's late outcome: %+v, want still pending at the new claim's attempt 2", d)
	}
	if _, h := countRows(t, st); h != 0 {
		t.Errorf("%d hand-off rows left after the claim wrote their deliveries", h)
	}
}

// TestHandoffRescuedThenRecorded: the rescue of a dead holder writes its
// handed-off deliveries pending and due at once; an outcome the holder
// records afterwards for its attempt still counts, as it did for a freed
// claimed row.
func TestHandoffRescuedThenRecorded(t *testing.T) {
	ctx := context.Background()
	st := openScratch(t)
	now, until := storetest.At(time.Second), storetest.At(time.Hour)
	ds := handOffScratch(t, st, 2, now, "h1", until)
	if err := st.Heartbeat(ctx, "h1", storetest.At(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	rescued := storetest.At(6 * time.Second)
	freed, _, err := st.RescueDeliveries(ctx, rescued, "h2")
	if err != nil || freed != 2 {
		t.Fatalf("RescueDeliveries = %d, %v; want 2 freed", freed, err)
	}
	if d, h := countRows(t, st); d != 2 || h != 0 {
		t.Fatalf("after the rescue: %d deliveries rows and %d hand-off rows, want 2 and 0", d, h)
	}
	want := watchdog.Delivery{ID: ds[1].ID, AlertID: ds[1].AlertID, Notifier: "n", Status: watchdog.DeliveryPending, Attempts: 1, NextAttemptAt: rescued}
	if diff := cmp.Diff(want, ticketDelivery(t, st, "T-1")); diff != "" {
		t.Errorf("rescued delivery (-want +got):\n%s", diff)
	}
	done := storetest.At(7 * time.Second)
	finishScratch(t, st, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: done})
	if d := ticketDelivery(t, st, "T-0"); d.Status != watchdog.DeliveryDelivered || d.DeliveredAt == nil || !d.DeliveredAt.Equal(done) || d.Attempts != 1 {
		t.Errorf("outcome recorded after the rescue: %+v, want delivered at %s, attempt 1", d, done)
	}
	got, err := st.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "n", Holder: "h2", Now: rescued, Limit: 10, Until: until})
	if err != nil || len(got) != 1 || got[0].ID != ds[1].ID || got[0].Attempts != 2 {
		t.Fatalf("claim after the rescue = %+v, %v; want the unrecorded delivery at attempt 2", got, err)
	}
}

// TestHandoffRerouteAddsNoSecond: a re-routing that adds a delivery to a
// notifier an alert's handed-off delivery goes to adds none: the alert
// has one, without a row.
func TestHandoffRerouteAddsNoSecond(t *testing.T) {
	ctx := context.Background()
	st := openScratch(t)
	now := storetest.At(time.Second)
	ds := handOffScratch(t, st, 1, now, "h1", storetest.At(time.Hour))
	if err := st.Reroute(ctx, watchdog.Reroute{Now: now, Add: []watchdog.DeliveryAdd{
		{AlertID: ds[0].AlertID, PlannedDelivery: watchdog.PlannedDelivery{Notifier: "n"}},
		{AlertID: ds[0].AlertID, PlannedDelivery: watchdog.PlannedDelivery{Notifier: "m"}},
	}}); err != nil {
		t.Fatal(err)
	}
	tk, err := st.Ticket(ctx, "T-0")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range tk.Alerts[0].Deliveries {
		names = append(names, fmt.Sprintf("%s@%d", d.Notifier, d.Attempts))
	}
	if diff := cmp.Diff([]string{"n@1", "m@0"}, names); diff != "" {
		t.Errorf("deliveries after the re-routing, by id (-want +got):\n%s", diff)
	}
}

// TestHandoffsRecordings: the store's memory of its hand-offs. Outcomes
// whose recording failed are given back for the retry; a hand-off row is
// deleted by the recording of its last outcomes only when no other
// recording of it is in flight, else by the next recording once both
// committed, so that no read sees a delivery neither handed off nor
// written.
func TestHandoffsRecordings(t *testing.T) {
	var h handoffs
	until := storetest.At(time.Hour)
	h.add([]handoffGroup{{id: 7, holder: "h", notifier: "n", until: until, deliveries: []int64{1, 2, 3}, alerts: []int64{10, 20, 30}}})
	ids := func(b handoffBatch) []int64 {
		var out []int64
		for _, o := range b.handed {
			out = append(out, o.ID)
		}
		return out
	}
	check := func(what string, b handoffBatch, handed, deletes []int64) {
		t.Helper()
		if d := cmp.Diff(handed, ids(b)); d != "" {
			t.Errorf("%s: handed outcomes (-want +got):\n%s", what, d)
		}
		if d := cmp.Diff(deletes, b.deletes); d != "" {
			t.Errorf("%s: hand-off rows deleted (-want +got):\n%s", what, d)
		}
	}
	rest, b := h.take([]watchdog.DeliveryOutcome{{ID: 1, Attempt: 1}, {ID: 2, Attempt: 2}, {ID: 9, Attempt: 1}})
	if len(rest) != 2 || rest[0].ID != 2 || rest[1].ID != 9 || b.handed[0].alert != 10 {
		t.Fatalf("take left %v with rows, handed %v; want 2 and 9 with rows, 1 handed off from alert 10", rest, b.handed)
	}
	check("first take", b, []int64{1}, nil)
	h.settle(b, false) // the recording failed: 1 is handed off again

	// Two recordings in flight: the one taking the last outcomes deletes
	// nothing while the other is uncommitted.
	_, b1 := h.take([]watchdog.DeliveryOutcome{{ID: 1, Attempt: 1}})
	_, b2 := h.take([]watchdog.DeliveryOutcome{{ID: 2, Attempt: 1}, {ID: 3, Attempt: 1}, {ID: 2, Attempt: 1}})
	check("first of two", b1, []int64{1}, nil)
	check("second of two", b2, []int64{2, 3}, nil)
	h.settle(b2, true)
	h.settle(b1, true)
	_, b3 := h.take(nil)
	check("next recording", b3, nil, []int64{7})
	h.settle(b3, false)
	if got := h.takeDeletable(); len(got) != 1 || got[0] != 7 {
		t.Errorf("after a failed deletion, deletable = %v, want [7]", got)
	}

	// Alone, the recording of the last outcomes deletes the row itself;
	// failing, it gives back both.
	h.add([]handoffGroup{{id: 8, holder: "h", notifier: "n", until: until, deliveries: []int64{4}, alerts: []int64{40}}})
	_, b4 := h.take([]watchdog.DeliveryOutcome{{ID: 4, Attempt: 1}})
	check("last outcome alone", b4, []int64{4}, []int64{8})
	h.settle(b4, false)
	_, b5 := h.take([]watchdog.DeliveryOutcome{{ID: 4, Attempt: 1}})
	check("retry of the last outcome", b5, []int64{4}, []int64{8})
	h.settle(b5, true)
	if len(h.byID)+len(h.rows)+len(h.deletable) != 0 {
		t.Errorf("entries left: %v, %v, %v", h.byID, h.rows, h.deletable)
	}
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
	ds := handOffScratch(t, st, 2, now, "h1", until)
	finishScratch(t, st, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: now})
	_, p := migrator(t, dsn)
	if _, err := p.DownTo(ctx, 15); err != nil {
		t.Fatal(err)
	}
	var (
		status, holder string
		attempts       int
		next           time.Time
	)
	if err := st.db.QueryRowContext(ctx, `SELECT status, attempts, holder, next_attempt_at FROM deliveries WHERE id = $1`, ds[1].ID).Scan(&status, &attempts, &holder, &next); err != nil {
		t.Fatalf("the handed-off delivery's row after migrating down: %v", err)
	}
	if status != "pending" || attempts != 1 || holder != "h1" || !next.Equal(until) {
		t.Errorf("after migrating down: %s at attempt %d held by %s until %s; want pending, 1, h1, %s", status, attempts, holder, next, until)
	}
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d deliveries rows after migrating down (%v), want 2", n, err)
	}
}
