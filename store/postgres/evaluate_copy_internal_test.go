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
	stored, err := sqlstore.QueryAll(ctx, st.db, scanDelivery, "SELECT "+deliveryCols+" FROM deliveries ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stored, returned); diff != "" {
		t.Errorf("returned deliveries differ from the stored ones (-stored +returned):\n%s", diff)
	}
	rows, err := st.db.QueryContext(ctx, "SELECT a.id, a.ticket_id, a.details, d.holder IS NOT DISTINCT FROM 'h1' FROM alerts a JOIN deliveries d ON d.alert_id = a.id WHERE d.notifier = 'slack'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id              int64
			ticket, details string
			holder          bool
		)
		if err := rows.Scan(&id, &ticket, &details, &holder); err != nil {
			t.Fatal(err)
		}
		n++
		if ids[id] != ticket || details != message || !holder {
			t.Errorf("alert %d stored for %s (returned for %q), details %q, claimed by h1 %v", id, ticket, ids[id], details, holder)
		}
	}
	if err := rows.Err(); err != nil || n != 3 {
		t.Fatalf("%d stored alerts with a slack delivery (%v), want 3", n, err)
	}
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
