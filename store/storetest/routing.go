package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

// testEvaluateDueRouted: a plan with Routed enqueues per alert the rows it
// names, with their statuses and holds; an unsent row is never claimed; a
// later plan's Supersede marks only pending, unattempted, unclaimed rows.
func testEvaluateDueRouted(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	now, held := At(time.Minute), At(time.Hour)
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		p := FirePlan(now, nil, nil, "alert", "breach")(tk)
		p.Alerts[1].AcknowledgedBy = "alice"
		p.Routed = map[watchdog.StageKey][]watchdog.PlannedDelivery{
			{SLAClock: watchdog.Response, Stage: "alert"}: {
				{Notifier: "team", Status: watchdog.DeliverySuperseded},
				{Notifier: "night", HeldUntil: held},
			},
			{SLAClock: watchdog.Response, Stage: "breach"}: {
				{Notifier: "team"},
				{Notifier: "pager", Status: watchdog.DeliveryAcknowledged},
			},
		}
		p.Claimed, p.ClaimedBy, p.ClaimedUntil = []string{"team", "night"}, "h1", At(2*time.Hour)
		return p
	}
	alerts := evaluate(t, s, now, 10, plan)
	if len(alerts) != 2 {
		t.Fatalf("recorded %d alerts, want 2", len(alerts))
	}
	type row struct {
		status   watchdog.DeliveryStatus
		attempts int
		held     bool
	}
	want := map[string]map[string]row{
		"alert":  {"team": {watchdog.DeliverySuperseded, 0, false}, "night": {watchdog.DeliveryPending, 0, true}},
		"breach": {"team": {watchdog.DeliveryPending, 1, false}, "pager": {watchdog.DeliveryAcknowledged, 0, false}},
	}
	check := func(what string, as []watchdog.Alert) {
		for _, a := range as {
			if want := map[string]string{"breach": "alice"}[a.Stage]; a.AcknowledgedBy != want {
				t.Errorf("%s: %s acknowledged by %q, want %q", what, a.Stage, a.AcknowledgedBy, want)
			}
			if len(a.Deliveries) != 2 {
				t.Errorf("%s: %s has %d deliveries, want 2: %+v", what, a.Stage, len(a.Deliveries), a.Deliveries)
			}
			for _, d := range a.Deliveries {
				w, ok := want[a.Stage][d.Notifier]
				got := row{d.Status, d.Attempts, d.HeldUntil != nil}
				if !ok || got != w {
					t.Errorf("%s: %s delivery to %s = %+v, want %+v", what, a.Stage, d.Notifier, got, w)
				}
				if d.HeldUntil != nil && (!d.HeldUntil.Equal(held) || !d.NextAttemptAt.Equal(held)) {
					t.Errorf("%s: held delivery %+v, want held and due at %s", what, d, held)
				}
			}
		}
	}
	check("EvaluateDue", alerts)
	tk, err := s.Ticket(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	check("Ticket", tk.Alerts)
	// What EvaluateDue returns (the deliveries it hands off) is what a
	// read gives, field for field.
	if d := cmp.Diff(tk.Alerts, alerts); d != "" {
		t.Errorf("EvaluateDue's alerts differ from the stored ones (-stored +returned):\n%s", d)
	}
	if got := claim(t, s, "night", At(time.Hour-time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed a held delivery before its hold ended: %+v", got)
	}
	checkSupersede(t, s, alerts)
	if got := claim(t, s, "night", At(3*time.Hour), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed a superseded delivery: %+v", got)
	}
	for _, n := range []string{"team", "pager"} {
		if got := claim(t, s, n, At(3*time.Hour), 10, time.Minute); len(got) != 1 && n == "team" || len(got) != 0 && n == "pager" {
			t.Errorf("claim %s = %+v: superseded and acknowledged rows are never claimed", n, got)
		}
	}
}

// testAcknowledge: acks are stored per ticket and clock (a second replaces
// the first), read with the ticket and given to plans, and removed by
// Unacknowledge (EvaluateDue's plans, which record alerts, see them); an unknown ticket is ErrNotFound.
func testAcknowledge(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Hour))), NewEvent("a", 0))
	until := At(2 * time.Hour)
	ack := watchdog.Ack{TicketID: "a", SLAClock: watchdog.Response, By: "alice", Note: "on it", Until: &until, At: At(time.Minute)}
	if err := s.Acknowledge(t.Context(), "a", []watchdog.Ack{ack}); err != nil {
		t.Fatal(err)
	}
	ack2 := watchdog.Ack{TicketID: "a", SLAClock: watchdog.Response, By: "bob", At: At(2 * time.Minute)}
	res := watchdog.Ack{TicketID: "a", SLAClock: watchdog.Resolution, By: "bob", At: At(2 * time.Minute)}
	if err := s.Acknowledge(t.Context(), "a", []watchdog.Ack{ack2, res}); err != nil {
		t.Fatal(err)
	}
	tk, err := s.Ticket(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(tk.Acks) != 2 || tk.Acks[0].SLAClock != watchdog.Resolution || tk.Acks[1].By != "bob" || tk.Acks[1].Until != nil ||
		!tk.Acks[1].At.Equal(At(2*time.Minute)) || tk.Acks[1].TicketID != "a" {
		t.Errorf("acks %+v: want resolution then response (bob's, replacing alice's)", tk.Acks)
	}
	var seen []watchdog.Ack
	evaluate(t, s, At(time.Hour), 10, func(tk *watchdog.Ticket) watchdog.Plan {
		seen = tk.Acks
		return OpenPlan(nil)(tk)
	})
	if len(seen) != 2 {
		t.Errorf("plan saw acks %+v, want 2", seen)
	}
	checkReminders(t, s, ack2)
	if n, err := s.Unacknowledge(t.Context(), "a", []watchdog.SLAClock{watchdog.Response}); err != nil || n != 1 {
		t.Errorf("unacknowledge response = %d, %v", n, err)
	}
	if n, err := s.Unacknowledge(t.Context(), "a", nil); err != nil || n != 1 {
		t.Errorf("unacknowledge all = %d, %v", n, err)
	}
	if err := s.Acknowledge(t.Context(), "nope", []watchdog.Ack{ack}); !errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("ack of an unknown ticket: %v", err)
	}
	if _, err := s.Unacknowledge(t.Context(), "nope", nil); !errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("unack of an unknown ticket: %v", err)
	}
}

// testReroute: UnsentAlerts lists the alerts with a pending, unattempted,
// unclaimed delivery (with all their deliveries), and Reroute cancels,
// re-holds and adds rows, touching only unsent ones.
func testReroute(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0), NewEvent("b", 0))
	held := At(time.Hour)
	alerts := evaluate(t, s, At(time.Minute), 10, func(tk *watchdog.Ticket) watchdog.Plan {
		p := FirePlan(At(time.Minute), nil, nil, "alert")(tk)
		p.Routed = map[watchdog.StageKey][]watchdog.PlannedDelivery{{SLAClock: watchdog.Response, Stage: "alert"}: {
			{Notifier: "x", HeldUntil: held}, {Notifier: "y"}}}
		if tk.ID == "b" {
			p.Claimed, p.ClaimedBy, p.ClaimedUntil = []string{"y"}, "h1", At(time.Hour)
		}
		return p
	})
	if len(alerts) != 2 {
		t.Fatalf("recorded %d alerts", len(alerts))
	}
	unsent, err := s.UnsentAlerts(t.Context(), 0, 10)
	if err != nil || len(unsent) != 2 || len(unsent[0].Deliveries) != 2 || unsent[0].ID >= unsent[1].ID {
		t.Fatalf("UnsentAlerts = %+v, %v", unsent, err)
	}
	if page, err := s.UnsentAlerts(t.Context(), unsent[0].ID, 1); err != nil || len(page) != 1 || page[0].ID != unsent[1].ID {
		t.Fatalf("UnsentAlerts after the first = %+v, %v", page, err)
	}
	var aID, bID int64
	for _, a := range unsent {
		if a.TicketID == "a" {
			aID = a.ID
		} else {
			bID = a.ID
		}
	}
	now := At(2 * time.Minute)
	if err := s.Reroute(t.Context(), watchdog.Reroute{Now: now,
		Cancel: []watchdog.DeliveryRef{{AlertID: aID, Notifier: "y"}, {AlertID: bID, Notifier: "y"}},
		Hold:   []watchdog.DeliveryHold{{DeliveryRef: watchdog.DeliveryRef{AlertID: aID, Notifier: "x"}}},
		Add: []watchdog.DeliveryAdd{{AlertID: aID, PlannedDelivery: watchdog.PlannedDelivery{Notifier: "z", HeldUntil: held}},
			{AlertID: aID, PlannedDelivery: watchdog.PlannedDelivery{Notifier: "x"}}},
	}); err != nil {
		t.Fatal(err)
	}
	got := map[string]watchdog.Delivery{}
	for _, id := range []string{"a", "b"} {
		tk, err := s.Ticket(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range tk.Alerts[0].Deliveries {
			got[id+"/"+d.Notifier] = d
		}
	}
	if d := got["a/y"]; d.Status != watchdog.DeliveryCancelled {
		t.Errorf("a/y %+v, want cancelled", d)
	}
	if d := got["b/y"]; d.Status != watchdog.DeliveryPending || d.Attempts != 1 {
		t.Errorf("b/y %+v: a claimed delivery is never cancelled", d)
	}
	if d := got["a/x"]; d.HeldUntil != nil || !d.NextAttemptAt.Equal(now) {
		t.Errorf("a/x %+v, want released at now", d)
	}
	if d := got["a/z"]; d.Status != watchdog.DeliveryPending || d.HeldUntil == nil || !d.HeldUntil.Equal(held) || !d.NextAttemptAt.Equal(held) {
		t.Errorf("a/z %+v, want added, held", d)
	}
	if len(got) != 5 {
		t.Errorf("deliveries %v: an existing (alert, notifier) gains no second row", got)
	}
}

// checkSupersede: a later plan's Supersede marks the held row of alerts
// (pending, unattempted, unclaimed) and leaves the claimed and the
// acknowledged ones alone.
func checkSupersede(t *testing.T, s watchdog.Store, alerts []watchdog.Alert) {
	t.Helper()
	// A later plan supersedes the held row (pending, unattempted) and
	// leaves the claimed and the acknowledged ones alone.
	var alertID, breachID int64
	for _, a := range alerts {
		if a.Stage == "alert" {
			alertID = a.ID
		} else {
			breachID = a.ID
		}
	}
	ingest(t, s, OpenPlan(TimePtr(At(4*time.Hour))), NewEvent("a", time.Hour))
	evaluate(t, s, At(4*time.Hour), 10, func(tk *watchdog.Ticket) watchdog.Plan {
		return watchdog.Plan{State: watchdog.TicketBreach, Open: true, Supersede: []watchdog.DeliveryRef{
			{AlertID: alertID, Notifier: "night"}, {AlertID: breachID, Notifier: "team"}, {AlertID: breachID, Notifier: "pager"},
			{AlertID: alertID, Notifier: "absent"}}}
	})
	tk, err := s.Ticket(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]watchdog.DeliveryStatus{}
	for _, a := range tk.Alerts {
		for _, d := range a.Deliveries {
			got[a.Stage+"/"+d.Notifier] = d.Status
		}
	}
	if got["alert/night"] != watchdog.DeliverySuperseded || got["breach/team"] != watchdog.DeliveryPending ||
		got["breach/pager"] != watchdog.DeliveryAcknowledged {
		t.Errorf("after superseding: %v, want the held row superseded, the claimed and the acknowledged ones alone", got)
	}
}

// checkReminders: the open ticket's acks are pending reminders until
// MarkReminded records one, once, for the ack as it is (a stale At is
// refused); a new ack of the clock makes its reminder pending again.
func checkReminders(t *testing.T, s watchdog.Store, ack watchdog.Ack) {
	t.Helper()
	pending, err := s.PendingReminders(t.Context(), "", 10)
	if err != nil || len(pending) != 2 || pending[0].TicketID != "a" || pending[0].SLAClock != watchdog.Resolution {
		t.Fatalf("PendingReminders = %+v, %v; want a's two acks, resolution first", pending, err)
	}
	if after, err := s.PendingReminders(t.Context(), "a", 10); err != nil || len(after) != 0 {
		t.Errorf("PendingReminders after a = %+v, %v", after, err)
	}
	stale := ack
	stale.At = ack.At.Add(-time.Minute)
	if won, err := s.MarkReminded(t.Context(), stale, At(time.Hour)); err != nil || won {
		t.Errorf("MarkReminded of a replaced ack = %v, %v", won, err)
	}
	if won, err := s.MarkReminded(t.Context(), ack, At(time.Hour)); err != nil || !won {
		t.Errorf("MarkReminded = %v, %v", won, err)
	}
	if won, err := s.MarkReminded(t.Context(), ack, At(2*time.Hour)); err != nil || won {
		t.Errorf("MarkReminded again = %v, %v: a reminder is recorded once", won, err)
	}
	tk, err := s.Ticket(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range tk.Acks {
		if a.SLAClock == watchdog.Response && (a.RemindedAt == nil || !a.RemindedAt.Equal(At(time.Hour))) {
			t.Errorf("response ack %+v, want reminded at +1h", a)
		}
	}
	if pending, err := s.PendingReminders(t.Context(), "", 10); err != nil || len(pending) != 1 {
		t.Errorf("PendingReminders after the reminder = %+v, %v", pending, err)
	}
	again := ack
	again.At = ack.At.Add(time.Minute)
	if err := s.Acknowledge(t.Context(), "a", []watchdog.Ack{again}); err != nil {
		t.Fatal(err)
	}
	if pending, err := s.PendingReminders(t.Context(), "", 10); err != nil || len(pending) != 2 {
		t.Errorf("PendingReminders after a new ack = %+v, %v", pending, err)
	}
}
