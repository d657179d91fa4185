package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

// The deliveries an evaluation hands off (watchdog.Plan.Claimed) behave as
// claimed rows whatever a store writes for them: the stores here write
// their rows only with their outcomes. These cases pin what every read,
// claim, rescue and outcome sees of them.

// handOff stores n tickets ("H-0" …) due at At(0) and fires each once at
// now, handing its delivery to notifier "n" off to holder until until. It
// returns the handed-off deliveries in ticket order.
func handOff(t *testing.T, s watchdog.Store, n int, now time.Time, holder string, until time.Time) []watchdog.Delivery {
	t.Helper()
	due := At(0)
	var events []watchdog.Event
	for i := range n {
		events = append(events, NewEvent(fmt.Sprintf("H-%d", i), -time.Hour))
	}
	ingest(t, s, OpenPlan(&due), events...)
	alerts := evaluate(t, s, now, n, func(tk *watchdog.Ticket) watchdog.Plan {
		p := FirePlan(now, nil, []string{"n"}, watchdog.StageAlert)(tk)
		p.Claimed, p.ClaimedBy, p.ClaimedUntil = []string{"n"}, holder, until
		return p
	})
	if len(alerts) != n {
		t.Fatalf("EvaluateDue recorded %d alerts, want %d", len(alerts), n)
	}
	out := make([]watchdog.Delivery, n)
	for _, a := range alerts {
		var i int
		if _, err := fmt.Sscanf(a.TicketID, "H-%d", &i); err != nil {
			t.Fatal(err)
		}
		if len(a.Deliveries) != 1 || a.Deliveries[0].Attempts != 1 {
			t.Fatalf("alert of %s: deliveries %+v, want one handed off", a.TicketID, a.Deliveries)
		}
		out[i] = a.Deliveries[0]
	}
	return out
}

// onlyDelivery reads ticket id's one delivery.
func onlyDelivery(t *testing.T, s watchdog.Store, id string) watchdog.Delivery {
	t.Helper()
	tk := getTicket(t, s, id)
	if len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
		t.Fatalf("%s: alerts %+v, want one with one delivery", id, tk.Alerts)
	}
	return tk.Alerts[0].Deliveries[0]
}

// testHandoffOutcomes: a handed-off delivery reads as the claimed row the
// evaluation returned (pending, attempt 1, due at the backstop, which is
// the notifier's next delivery); each kind of outcome leaves what a
// claimed row's would; a second outcome for the attempt changes nothing;
// retried and unsent ones are claimed as any pending delivery.
func testHandoffOutcomes(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ctx := t.Context()
	now, until := At(time.Second), At(time.Hour)
	ds := handOff(t, s, 3, now, "h1", until)
	for i, want := range ds {
		if diff := cmp.Diff(want, onlyDelivery(t, s, fmt.Sprintf("H-%d", i))); diff != "" {
			t.Errorf("H-%d: read of the handed-off delivery (-returned +read):\n%s", i, diff)
		}
		if want.Status != watchdog.DeliveryPending || !want.NextAttemptAt.Equal(until) {
			t.Errorf("H-%d: handed-off delivery %+v, want pending until the backstop", i, want)
		}
	}
	if at, ok, err := s.NextDelivery(ctx, "n"); err != nil || !ok || !at.Equal(until) {
		t.Errorf("NextDelivery = %s, %v, %v; want the backstop %s", at, ok, err, until)
	}
	if got := claimAs(t, s, "h2", "n", until.Add(-time.Second), 10, time.Hour); len(got) != 0 {
		t.Fatalf("claimed %d handed-off deliveries before their backstop", len(got))
	}

	delivered, retry := At(2*time.Second), At(time.Minute)
	finish(t, s, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: delivered})
	if err := s.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{
		{ID: ds[1].ID, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: retry, Error: "503", Finished: delivered},
		{ID: ds[2].ID, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: now, Unsent: true, Finished: delivered},
	}); err != nil {
		t.Fatal(err)
	}
	want := []watchdog.Delivery{
		{ID: ds[0].ID, AlertID: ds[0].AlertID, Notifier: "n", Status: watchdog.DeliveryDelivered, Attempts: 1, DeliveredAt: &delivered},
		{ID: ds[1].ID, AlertID: ds[1].AlertID, Notifier: "n", Status: watchdog.DeliveryPending, Attempts: 1, NextAttemptAt: retry, LastError: "503"},
		{ID: ds[2].ID, AlertID: ds[2].AlertID, Notifier: "n", Status: watchdog.DeliveryPending, Attempts: 0, NextAttemptAt: now},
	}
	for i := range want {
		if diff := cmp.Diff(want[i], onlyDelivery(t, s, fmt.Sprintf("H-%d", i))); diff != "" {
			t.Errorf("H-%d: recorded delivery (-want +got):\n%s", i, diff)
		}
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryFailed, Error: "late", Finished: retry})
	if diff := cmp.Diff(want[0], onlyDelivery(t, s, "H-0")); diff != "" {
		t.Errorf("H-0 after a second outcome (-want +got):\n%s", diff)
	}
	got := claimAs(t, s, "h2", "n", retry, 10, time.Hour)
	if len(got) != 2 || got[0].ID != ds[2].ID || got[0].Attempts != 1 || got[1].ID != ds[1].ID || got[1].Attempts != 2 {
		t.Fatalf("claim after the outcomes = %+v; want the unsent delivery at attempt 1, then the retried one at 2", got)
	}
}

// testHandoffBackstop: once a hand-off's backstop runs out, a claim takes
// its deliveries at attempt 2 with their alerts, and the first holder's
// late outcome for attempt 1 is ignored.
func testHandoffBackstop(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	now, until := At(time.Second), At(time.Hour)
	ds := handOff(t, s, 2, now, "h1", until)
	got := claimAs(t, s, "h2", "n", until, 10, time.Hour)
	if len(got) != 2 || got[0].ID != ds[0].ID || got[1].ID != ds[1].ID || got[0].Attempts != 2 || got[0].Alert == nil || got[0].Alert.TicketID != "H-0" {
		t.Fatalf("claim at the backstop = %+v, want both deliveries at attempt 2 with their alerts", got)
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: until})
	if d := onlyDelivery(t, s, "H-0"); d.Status != watchdog.DeliveryPending || d.Attempts != 2 {
		t.Fatalf("after the first holder's late outcome: %+v, want still pending at attempt 2", d)
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 2, Status: watchdog.DeliveryDelivered, Finished: until})
	if d := onlyDelivery(t, s, "H-0"); d.Status != watchdog.DeliveryDelivered {
		t.Fatalf("after the second claim's outcome: %+v, want delivered", d)
	}
}

// testHandoffRescued: the rescue of a dead holder frees its handed-off
// deliveries, due at once at attempt 1, and counts them; an outcome the
// holder records afterwards for its attempt still counts.
func testHandoffRescued(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ctx := t.Context()
	now, until := At(time.Second), At(time.Hour)
	ds := handOff(t, s, 2, now, "h1", until)
	if err := s.Heartbeat(ctx, "h1", At(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	rescued := At(6 * time.Second)
	if freed, _, err := s.RescueDeliveries(ctx, rescued, "h2"); err != nil || freed != 2 {
		t.Fatalf("RescueDeliveries = %d, %v; want 2 freed", freed, err)
	}
	want := watchdog.Delivery{ID: ds[1].ID, AlertID: ds[1].AlertID, Notifier: "n", Status: watchdog.DeliveryPending, Attempts: 1, NextAttemptAt: rescued}
	if diff := cmp.Diff(want, onlyDelivery(t, s, "H-1")); diff != "" {
		t.Errorf("rescued delivery (-want +got):\n%s", diff)
	}
	done := At(7 * time.Second)
	finish(t, s, watchdog.DeliveryOutcome{ID: ds[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: done})
	if d := onlyDelivery(t, s, "H-0"); d.Status != watchdog.DeliveryDelivered || d.DeliveredAt == nil || !d.DeliveredAt.Equal(done) || d.Attempts != 1 {
		t.Errorf("outcome recorded after the rescue: %+v, want delivered at %s, attempt 1", d, done)
	}
	got := claimAs(t, s, "h2", "n", rescued, 10, time.Hour)
	if len(got) != 1 || got[0].ID != ds[1].ID || got[0].Attempts != 2 {
		t.Fatalf("claim after the rescue = %+v; want the unrecorded delivery at attempt 2", got)
	}
}

// testHandoffReroute: a re-routing lists an alert's handed-off delivery
// among its deliveries and adds none beside it; a delivery it adds to
// another notifier takes an id of its own, and the handed-off one's
// outcome is still recorded.
func testHandoffReroute(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ctx := t.Context()
	now, until := At(time.Second), At(time.Hour)
	ds := handOff(t, s, 2, now, "h1", until)
	if err := s.Reroute(ctx, watchdog.Reroute{Now: now, Add: []watchdog.DeliveryAdd{
		{AlertID: ds[0].AlertID, PlannedDelivery: watchdog.PlannedDelivery{Notifier: "n"}},
		{AlertID: ds[0].AlertID, PlannedDelivery: watchdog.PlannedDelivery{Notifier: "m"}},
	}}); err != nil {
		t.Fatal(err)
	}
	got := getTicket(t, s, "H-0").Alerts[0].Deliveries
	if len(got) != 2 || got[0].ID != ds[0].ID || got[0].Notifier != "n" || got[1].Notifier != "m" || got[1].ID == ds[1].ID || got[1].ID == ds[0].ID {
		t.Fatalf("deliveries after the re-routing: %+v; want the handed-off one to n, then one to m with an id of its own", got)
	}
	unsent, err := s.UnsentAlerts(ctx, 0, 10)
	if err != nil || len(unsent) != 1 || len(unsent[0].Deliveries) != 2 || unsent[0].Deliveries[0].Notifier != "m" || unsent[0].Deliveries[1].Attempts != 1 {
		t.Fatalf("UnsentAlerts = %+v, %v; want H-0's alert with its delivery to m and the handed-off one to n", unsent, err)
	}
	for _, d := range ds {
		finish(t, s, watchdog.DeliveryOutcome{ID: d.ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: now})
	}
	for _, id := range []string{"H-0", "H-1"} {
		if d := getTicket(t, s, id).Alerts[0].Deliveries[0]; d.Notifier != "n" || d.Status != watchdog.DeliveryDelivered {
			t.Errorf("%s: %+v, want its delivery to n delivered", id, d)
		}
	}
}
