package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ticket-watchdog/watchdog"
)

func testSubscribeAlerts(t *testing.T, h Harness) {
	s, another := h.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.SubscribeAlerts(ctx)
	if err != nil {
		t.Fatalf("SubscribeAlerts: %v", err)
	}
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	recorded := evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert", "breach"))
	if len(recorded) != 2 {
		t.Fatalf("recorded %d alerts, want 2", len(recorded))
	}
	got := []watchdog.Alert{recv(t, ch), recv(t, ch)}
	sortAlerts := cmpopts.SortSlices(func(a, b watchdog.Alert) bool { return a.ID < b.ID })
	if d := cmp.Diff(recorded, got, sortAlerts, ignoreDeliv); d != "" {
		t.Errorf("subscribed alerts (-recorded +received):\n%s", d)
	}

	if h.SharedFeed {
		o := another(t)
		ch2, err := s.SubscribeAlerts(ctx)
		if err != nil {
			t.Fatalf("SubscribeAlerts: %v", err)
		}
		ingest(t, o, OpenPlan(TimePtr(At(time.Minute))), NewEvent("b", 0))
		other := evaluate(t, o, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert"))
		if len(other) != 1 {
			t.Fatalf("recorded %d alerts through another handle, want 1", len(other))
		}
		if d := cmp.Diff(other[0], recv(t, ch2), ignoreDeliv); d != "" {
			t.Errorf("alert recorded through another handle (-recorded +received):\n%s", d)
		}
	}

	cancel()
	waitClosed(t, ch)
}

func testSubscribeSlowReader(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ch, err := s.SubscribeAlerts(t.Context())
	if err != nil {
		t.Fatalf("SubscribeAlerts: %v", err)
	}
	const n = 400
	evs := numberedEvents("s%04d", n)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), evs...)
	// 1,200 alerts (more than a subscriber buffers) while nobody reads: the
	// writer must not block on the subscriber.
	ctx, cancel := context.WithTimeout(t.Context(), waitLong)
	defer cancel()
	got, err := s.EvaluateDue(ctx, At(time.Minute), n, FirePlan(At(time.Minute), nil, nil, "alert", "breach", "escalation-1"))
	if err != nil {
		t.Fatalf("EvaluateDue with a subscriber that does not read: %v", err)
	}
	if len(got) != 3*n {
		t.Fatalf("recorded %d alerts, want %d", len(got), 3*n)
	}
	if a := recv(t, ch); a.ID == 0 {
		t.Errorf("received alert without id: %+v", a)
	}
}

func testContextCanceled(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0), NewEvent("b", 0))
	evaluate(t, s, At(time.Minute), 1, FirePlan(At(time.Minute), TimePtr(At(time.Minute)), []string{"n"}, "alert"))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Ingest": func() error {
			_, err := s.Ingest(ctx, []watchdog.Event{NewEvent("c", 0)}, OpenPlan(nil))
			return err
		},
		"EvaluateDue": func() error {
			_, err := s.EvaluateDue(ctx, At(time.Hour), 10, FirePlan(At(time.Hour), nil, []string{"n"}, "alert", "breach"))
			return err
		},
		"NextDue":      func() error { _, _, err := s.NextDue(ctx); return err },
		"NextDelivery": func() error { _, _, err := s.NextDelivery(ctx, "n"); return err },
		"Replan": func() error {
			_, _, err := s.Replan(ctx, "", 10, func(*watchdog.Ticket) watchdog.Plan { return watchdog.Plan{State: watchdog.TicketBreach} })
			return err
		},
		"Ticket": func() error { _, err := s.Ticket(ctx, "a"); return err },
		"Dashboard": func() error {
			_, _, err := s.Dashboard(ctx, watchdog.DashboardQuery{Limit: 10, Order: watchdog.OrderCreated})
			return err
		},
		"ClaimDeliveries": func() error {
			_, err := s.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "n", Holder: "h", Now: At(time.Hour), Limit: 10, Until: At(2 * time.Hour)})
			return err
		},
		"Heartbeat":        func() error { return s.Heartbeat(ctx, "h", At(time.Hour)) },
		"RescueDeliveries": func() error { _, _, err := s.RescueDeliveries(ctx, At(time.Hour), "h"); return err },
		"FinishDelivery": func() error {
			return s.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{{ID: 1, Attempt: 0, Status: watchdog.DeliveryFailed, Error: "x", Finished: At(time.Hour)}})
		},
		"Ping": func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", name, err)
		}
	}
	if sub, err := s.SubscribeAlerts(ctx); err == nil {
		waitClosed(t, sub)
	}

	// Nothing was written.
	if _, err := s.Ticket(t.Context(), "c"); !errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("Ticket(c) after a cancelled Ingest: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"a", "b"} {
		tk := getTicket(t, s, id)
		if tk.State == watchdog.TicketBreach {
			t.Errorf("ticket %s replanned by a cancelled Replan", id)
		}
		if tk.EscalationLevel > 1 || len(tk.Alerts) > 1 {
			t.Errorf("ticket %s changed by a cancelled EvaluateDue: level %d, %d alerts", id, tk.EscalationLevel, len(tk.Alerts))
		}
		for _, a := range tk.Alerts {
			for _, d := range a.Deliveries {
				if d.Attempts != 0 || d.Status != watchdog.DeliveryPending {
					t.Errorf("delivery %+v changed by a cancelled call", d)
				}
			}
		}
	}
}

func testClosed(t *testing.T, h Harness) {
	_, another := h.Open(t)
	o := another(t)
	ch, err := o.SubscribeAlerts(t.Context())
	if err != nil {
		t.Fatalf("SubscribeAlerts: %v", err)
	}
	if err := o.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, ch)
	if _, err := o.Ticket(t.Context(), "a"); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("Ticket on a closed store: %v, want ErrClosed", err)
	}
	if _, err := o.Ingest(t.Context(), []watchdog.Event{NewEvent("a", 0)}, OpenPlan(nil)); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("Ingest on a closed store: %v, want ErrClosed", err)
	}
	if _, err := o.EvaluateDue(t.Context(), At(0), 10, OpenPlan(nil)); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("EvaluateDue on a closed store: %v, want ErrClosed", err)
	}
	if err := o.Ping(t.Context()); !errors.Is(err, watchdog.ErrClosed) {
		t.Errorf("Ping on a closed store: %v, want ErrClosed", err)
	}
}
