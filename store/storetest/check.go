package storetest

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ticket-watchdog/watchdog"
)

// Comparison options the cases share.
var (
	ignoreTimeline = cmpopts.IgnoreFields(watchdog.Ticket{}, "Events", "Alerts")
	ignoreDeliv    = cmpopts.IgnoreFields(watchdog.Alert{}, "Deliveries")
)

// want builds the ticket a store should return for events merged and plan p
// applied, at escalation level level.
func want(p watchdog.Plan, level int, events ...watchdog.Event) *watchdog.Ticket {
	var t watchdog.Ticket
	t.Merge(events...)
	t.Events = nil
	t.EscalationLevel = level
	t.State, t.Untracked, t.Open, t.NextDueAt, t.BreachAt = p.State, p.Untracked, p.Open, p.NextDueAt, p.BreachAt
	t.BackfilledAt = p.BackfilledAt
	t.Policy = p.Policy
	return &t
}

func ingest(t *testing.T, s watchdog.Store, plan watchdog.PlanFunc, events ...watchdog.Event) []*watchdog.Ticket {
	t.Helper()
	got, err := s.Ingest(t.Context(), events, plan)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if len(got) == 0 {
		t.Fatalf("Ingest returned no tickets for %d events", len(events))
	}
	return got
}

func evaluate(t *testing.T, s watchdog.Store, now time.Time, limit int, plan watchdog.PlanFunc) []watchdog.Alert {
	t.Helper()
	got, err := s.EvaluateDue(t.Context(), now, limit, plan)
	if err != nil {
		t.Fatalf("EvaluateDue(%s): %v", now.Format(time.RFC3339Nano), err)
	}
	return got
}

func getTicket(t *testing.T, s watchdog.Store, id string) *watchdog.Ticket {
	t.Helper()
	tk, err := s.Ticket(t.Context(), id)
	if err != nil {
		t.Fatalf("Ticket(%q): %v", id, err)
	}
	return tk
}

// claim claims for the holder "storetest" with NextAttemptAt moved lease
// ahead.
func claim(t *testing.T, s watchdog.Store, notifier string, now time.Time, limit int, lease time.Duration) []watchdog.Delivery {
	t.Helper()
	return claimAs(t, s, "storetest", notifier, now, limit, lease)
}

// claimAs is claim for the named holder.
func claimAs(t *testing.T, s watchdog.Store, holder, notifier string, now time.Time, limit int, lease time.Duration) []watchdog.Delivery {
	t.Helper()
	got, err := s.ClaimDeliveries(t.Context(), watchdog.DeliveryClaim{Notifier: notifier, Holder: holder, Now: now, Limit: limit, Until: now.Add(lease)})
	if err != nil {
		t.Fatalf("ClaimDeliveries(%q): %v", notifier, err)
	}
	for _, d := range got {
		if d.Notifier != notifier {
			t.Errorf("ClaimDeliveries(%q) returned a delivery to %q", notifier, d.Notifier)
		}
	}
	return got
}

func finish(t *testing.T, s watchdog.Store, o watchdog.DeliveryOutcome) {
	t.Helper()
	if err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{o}); err != nil {
		t.Fatalf("FinishDeliveries(%+v): %v", o, err)
	}
}

func diffTicket(t *testing.T, what string, got, want *watchdog.Ticket) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil ticket", what)
	}
	if d := cmp.Diff(want, got, ignoreTimeline); d != "" {
		t.Errorf("%s: ticket mismatch (-want +got):\n%s", what, d)
	}
	checkUTC(t, what, got.CreatedAt, got.UpdatedAt)
	checkUTCPtr(t, what, got.FirstResponseAt, got.NextDueAt, got.BreachAt, got.BackfilledAt)
}

func checkUTC(t *testing.T, what string, ts ...time.Time) {
	t.Helper()
	for _, x := range ts {
		if x.Location() != time.UTC {
			t.Errorf("%s: time %s is in %v, want UTC", what, x, x.Location())
		}
	}
}

func checkUTCPtr(t *testing.T, what string, ts ...*time.Time) {
	t.Helper()
	for _, x := range ts {
		if x != nil {
			checkUTC(t, what, *x)
		}
	}
}

// numberedEvents returns a first event (NewEvent(id, 0)) for each of n
// tickets, the ids made of format and the ticket's number ("c%02d": c00,
// c01, ...).
func numberedEvents(format string, n int) []watchdog.Event {
	evs := make([]watchdog.Event, n)
	for i := range evs {
		evs[i] = NewEvent(fmt.Sprintf(format, i), 0)
	}
	return evs
}

// onHandles runs work on two goroutines over each of four more handles on
// the case's database (opened with another), and waits for them all.
func onHandles(t *testing.T, another func(testing.TB) watchdog.Store, work func(s watchdog.Store)) {
	var wg sync.WaitGroup
	for range 4 {
		s := another(t)
		for range 2 {
			wg.Go(func() { work(s) })
		}
	}
	wg.Wait()
}

func ids(ts []*watchdog.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func statuses(evs []watchdog.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Status
	}
	return out
}

func eventTimes(evs []watchdog.Event) []time.Time {
	out := make([]time.Time, len(evs))
	for i, e := range evs {
		out[i] = e.UpdatedAt
	}
	return out
}

func sortedStrings(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func recv(t *testing.T, ch <-chan watchdog.Alert) watchdog.Alert {
	t.Helper()
	select {
	case a, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed before an expected alert")
		}
		return a
	case <-time.After(waitLong):
		t.Fatal("no alert received in time")
	}
	return watchdog.Alert{}
}

func waitClosed(t *testing.T, ch <-chan watchdog.Alert) {
	t.Helper()
	timeout := time.After(waitLong)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("subscription channel not closed in time")
		}
	}
}

// byNotifier indexes deliveries by notifier name.
func byNotifier(ds []watchdog.Delivery) map[string]watchdog.Delivery {
	out := map[string]watchdog.Delivery{}
	for _, d := range ds {
		out[d.Notifier] = d
	}
	return out
}
