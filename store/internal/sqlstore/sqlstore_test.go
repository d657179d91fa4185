package sqlstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

func TestGroupBatch(t *testing.T) {
	a0, b0, a1, c0, a2 := storetest.NewEvent("a", 0), storetest.NewEvent("b", 0), storetest.NewEvent("a", time.Minute),
		storetest.NewEvent("c", 0), storetest.NewEvent("a", 2*time.Minute)
	b := sqlstore.GroupBatch([]watchdog.Event{a2, b0, a0, c0, a1})
	if d := cmp.Diff([]string{"a", "b", "c"}, b.IDs); d != "" {
		t.Errorf("IDs (-want +got):\n%s", d)
	}
	want := map[string][]watchdog.Event{"a": {a2, a0, a1}, "b": {b0}, "c": {c0}}
	if d := cmp.Diff(want, b.Events); d != "" {
		t.Errorf("Events (-want +got):\n%s", d)
	}
	// The groups share an array: appending to one must not overwrite the next.
	_ = append(b.Events["a"], storetest.NewEvent("x", 0))
	if d := cmp.Diff(want, b.Events); d != "" {
		t.Errorf("Events after appending to a group (-want +got):\n%s", d)
	}
}

func TestNewAlerts(t *testing.T) {
	now := storetest.At(time.Hour + 1500*time.Nanosecond)
	tk := &watchdog.Ticket{ID: "a", Priority: "high", CustomerTier: "gold", EscalationLevel: 1}
	recorded := storetest.NewAlert(tk, "alert", storetest.At(time.Minute), storetest.At(time.Minute))
	tk.Alerts = []watchdog.Alert{recorded}
	breach := storetest.NewAlert(tk, "breach", storetest.At(time.Minute+700*time.Nanosecond), time.Time{})
	breach.ID, breach.TicketID, breach.Priority, breach.CustomerTier = 99, "other", "", ""
	breach.Deliveries = []watchdog.Delivery{{ID: 1}}
	esc := storetest.NewAlert(tk, "escalation-1", storetest.At(2*time.Minute), storetest.At(3*time.Minute))
	esc.Priority = "urgent"

	got := sqlstore.NewAlerts(tk, []watchdog.Alert{recorded, breach, esc, breach}, now)
	wantBreach := breach
	wantBreach.ID, wantBreach.TicketID, wantBreach.EscalationLevel, wantBreach.Deliveries = 0, "a", 2, nil
	wantBreach.Priority, wantBreach.CustomerTier = "high", "gold"
	wantBreach.DueAt, wantBreach.FiredAt = storetest.At(time.Minute), storetest.At(time.Hour+time.Microsecond)
	wantEsc := esc
	wantEsc.EscalationLevel = 3
	if d := cmp.Diff([]watchdog.Alert{wantBreach, wantEsc}, got); d != "" {
		t.Errorf("NewAlerts (-want +got):\n%s", d)
	}
	if tk.EscalationLevel != 3 {
		t.Errorf("escalation level %d, want 3", tk.EscalationLevel)
	}
}

// TestNewAlertsMany is TestNewAlerts past the size at which the keys
// recorded go into a map: a ticket with many cycles of alerts.
func TestNewAlertsMany(t *testing.T) {
	now := storetest.At(time.Hour)
	tk := &watchdog.Ticket{ID: "a", Priority: "high", CustomerTier: "gold"}
	var planned []watchdog.Alert
	for i := range 20 {
		a := storetest.NewAlert(tk, "alert", storetest.At(time.Duration(i)*time.Minute), storetest.At(time.Duration(i)*time.Minute))
		a.Cycle = i
		planned = append(planned, a)
	}
	tk.Alerts = planned[:12]
	tk.EscalationLevel = 12
	got := sqlstore.NewAlerts(tk, append(planned, planned[15]), now)
	if len(got) != 8 {
		t.Fatalf("NewAlerts gave %d alerts, want the 8 not recorded, each once", len(got))
	}
	for i, a := range got {
		if a.Cycle != 12+i || a.EscalationLevel != 13+i {
			t.Errorf("alert %d: cycle %d, level %d; want cycle %d, level %d", i, a.Cycle, a.EscalationLevel, 12+i, 13+i)
		}
	}
}

func TestTargets(t *testing.T) {
	now := storetest.At(time.Minute)
	until := storetest.At(2*time.Minute + 1500*time.Nanosecond)
	p := watchdog.Plan{Notifiers: []string{"n3", "n1", "n2", "n1"}, Claimed: []string{"n3", "n1", "absent"}, ClaimedUntil: until}
	want := []sqlstore.Target{
		{Notifier: "n1", Claimed: true, Until: storetest.At(2*time.Minute + time.Microsecond), Status: watchdog.DeliveryPending},
		{Notifier: "n2", Status: watchdog.DeliveryPending},
		{Notifier: "n3", Claimed: true, Until: storetest.At(2*time.Minute + time.Microsecond), Status: watchdog.DeliveryPending},
	}
	if d := cmp.Diff(want, sqlstore.Targets(p, now)); d != "" {
		t.Errorf("Targets (-want +got):\n%s", d)
	}
	p.ClaimedUntil = time.Time{}
	want[0].Until, want[2].Until = now, now
	if d := cmp.Diff(want, sqlstore.Targets(p, now)); d != "" {
		t.Errorf("Targets without ClaimedUntil (-want +got):\n%s", d)
	}
}

func TestCheckOutcome(t *testing.T) {
	at := storetest.At(time.Minute)
	for _, c := range []struct {
		name  string
		o     watchdog.DeliveryOutcome
		valid bool
	}{
		{"delivered", watchdog.DeliveryOutcome{Status: watchdog.DeliveryDelivered, Finished: at}, true},
		{"failed", watchdog.DeliveryOutcome{Status: watchdog.DeliveryFailed, Error: "x"}, true},
		{"retry", watchdog.DeliveryOutcome{Status: watchdog.DeliveryPending, RetryAt: at}, true},
		{"unsent retry", watchdog.DeliveryOutcome{Status: watchdog.DeliveryPending, RetryAt: at, Unsent: true}, true},
		{"retry without RetryAt", watchdog.DeliveryOutcome{Status: watchdog.DeliveryPending}, false},
		{"unknown status", watchdog.DeliveryOutcome{Status: "lost"}, false},
		{"unsent delivered", watchdog.DeliveryOutcome{Status: watchdog.DeliveryDelivered, Unsent: true}, false},
		{"unsent failed", watchdog.DeliveryOutcome{Status: watchdog.DeliveryFailed, Unsent: true}, false},
	} {
		err := sqlstore.CheckOutcome(c.o)
		if c.valid && err != nil {
			t.Errorf("%s: %v, want nil", c.name, err)
		}
		if !c.valid && !errors.Is(err, watchdog.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, err)
		}
	}
}
