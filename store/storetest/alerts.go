package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ticket-watchdog/watchdog"
)

// testAlertsNewestFirst checks Store.Alerts: newest first, after and
// before an id, bounded by the limit, without deliveries.
func testAlertsNewestFirst(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	if got, err := s.Alerts(t.Context(), watchdog.AlertsQuery{Limit: 10}); err != nil || len(got) != 0 {
		t.Fatalf("Alerts on an empty store = %v, %v; want none", got, err)
	}
	// Each ticket comes due an hour after the previous one and is fired
	// alone, so the ids grow in a known order; a3 records two stages.
	var recorded []watchdog.Alert
	for i, id := range []string{"a1", "a2", "a3"} {
		due := At(time.Duration(i+1) * time.Hour)
		ingest(t, s, OpenPlan(&due), NewEvent(id, 0))
		stages := []string{watchdog.StageAlert}
		if id == "a3" {
			stages = append(stages, watchdog.StageBreach)
		}
		recorded = append(recorded, evaluate(t, s, due, 10, FirePlan(due, nil, []string{"n"}, stages...))...)
	}
	if len(recorded) != 4 {
		t.Fatalf("recorded %d alerts, want 4", len(recorded))
	}
	newest := make([]watchdog.Alert, len(recorded))
	for i, a := range recorded {
		a.Deliveries = nil
		newest[len(recorded)-1-i] = a
	}
	for i := 1; i < len(newest); i++ {
		if newest[i].ID >= newest[i-1].ID {
			t.Fatalf("alert ids do not grow as alerts are recorded: %d then %d", newest[i].ID, newest[i-1].ID)
		}
	}
	cases := []struct {
		name string
		q    watchdog.AlertsQuery
		want []watchdog.Alert
	}{
		{"all", watchdog.AlertsQuery{Limit: 10}, newest},
		{"limit", watchdog.AlertsQuery{Limit: 2}, newest[:2]},
		{"after", watchdog.AlertsQuery{AfterID: newest[2].ID, Limit: 10}, newest[:2]},
		{"after the newest", watchdog.AlertsQuery{AfterID: newest[0].ID, Limit: 10}, nil},
		{"before", watchdog.AlertsQuery{BeforeID: newest[1].ID, Limit: 10}, newest[2:]},
		{"between", watchdog.AlertsQuery{AfterID: newest[3].ID, BeforeID: newest[0].ID, Limit: 10}, newest[1:3]},
		{"between, limited", watchdog.AlertsQuery{AfterID: newest[3].ID, BeforeID: newest[0].ID, Limit: 1}, newest[1:2]},
	}
	for _, c := range cases {
		got, err := s.Alerts(t.Context(), c.q)
		if err != nil {
			t.Errorf("%s: Alerts: %v", c.name, err)
			continue
		}
		if got == nil {
			t.Errorf("%s: Alerts returned nil, want an empty slice", c.name)
		}
		if d := cmp.Diff(c.want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s: alerts (-want +got):\n%s", c.name, d)
		}
		for _, a := range got {
			checkUTC(t, c.name, a.DueAt, a.FiredAt)
		}
	}
}

// testDashboardCountLimit checks that a capped count stops at
// CountLimit+1 and that pages past the cap are still read.
func testDashboardCountLimit(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	var evs []watchdog.Event
	for i := range 7 {
		e := NewEvent(string(rune('a'+i)), time.Minute)
		e.CreatedAt = At(time.Duration(i) * time.Second)
		evs = append(evs, e)
	}
	ingest(t, s, OpenPlan(nil), evs...)
	yes := true
	for _, c := range []struct {
		q     watchdog.DashboardQuery
		ids   []string
		total int
	}{
		{watchdog.DashboardQuery{CountLimit: 3, Limit: 2}, []string{"g", "f"}, 4},
		{watchdog.DashboardQuery{CountLimit: 7, Limit: 2}, []string{"g", "f"}, 7},
		{watchdog.DashboardQuery{CountLimit: 100, Limit: 2, Open: &yes}, []string{"g", "f"}, 7},
		{watchdog.DashboardQuery{CountLimit: 2, Limit: 2, Offset: 4}, []string{"c", "b"}, 3},
		{watchdog.DashboardQuery{CountLimit: 2, Limit: 2, Offset: 4, Order: watchdog.OrderUrgency}, []string{"e", "f"}, 3},
	} {
		q := c.q
		if err := q.Validate(); err != nil {
			t.Fatal(err)
		}
		got, total, err := s.Dashboard(t.Context(), q)
		if err != nil {
			t.Fatalf("%+v: %v", c.q, err)
		}
		if d := cmp.Diff(c.ids, ids(got)); d != "" || total != c.total {
			t.Errorf("%+v: ids (-want +got):\n%s total %d, want %d", c.q, d, total, c.total)
		}
	}
}

// testDashboardClocks checks that a query for clocks carries each listed
// ticket's timeline and alerts, as Ticket reads them (without deliveries).
func testDashboardClocks(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	due := At(time.Hour)
	a, b := NewEvent("c1", 0), NewEvent("c1", 10*time.Minute)
	b.Status = "pending"
	ingest(t, s, OpenPlan(&due), a, b, NewEvent("c2", time.Minute))
	evaluate(t, s, due, 10, FirePlan(due, nil, []string{"n"}, watchdog.StageAlert))
	q := watchdog.DashboardQuery{Clocks: true, Order: watchdog.OrderUrgency}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Dashboard(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d tickets, want 2", len(got))
	}
	for _, tk := range got {
		full := getTicket(t, s, tk.ID)
		for i := range full.Alerts {
			full.Alerts[i].Deliveries = nil
		}
		if d := cmp.Diff(full.Events, tk.Events); d != "" {
			t.Errorf("%s events (-Ticket +Dashboard):\n%s", tk.ID, d)
		}
		if d := cmp.Diff(full.Alerts, tk.Alerts, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s alerts (-Ticket +Dashboard):\n%s", tk.ID, d)
		}
	}
}
