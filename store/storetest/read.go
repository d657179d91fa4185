package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ticket-watchdog/watchdog"
)

func testDashboard(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	type row struct {
		id, tier, prio string
		created        time.Duration
		state          watchdog.TicketState
		open           bool
		breach         *time.Time
	}
	rows := []row{
		{"d1", "gold", "high", 0, watchdog.TicketOK, true, TimePtr(At(5 * time.Hour))},
		{"d2", "silver", "low", time.Minute, watchdog.TicketAlert, true, TimePtr(At(2 * time.Hour))},
		{"d3", "gold", "low", 2 * time.Minute, watchdog.TicketBreach, true, TimePtr(At(time.Hour))},
		{"d4", "gold", "high", 3 * time.Minute, watchdog.TicketUntracked, true, nil},
		{"d6", "gold", "high", 4 * time.Minute, watchdog.TicketBreach, false, TimePtr(At(time.Hour))},
		{"d5", "silver", "high", 4 * time.Minute, watchdog.TicketOK, false, nil},
	}
	plans := map[string]watchdog.Plan{}
	wants := map[string]*watchdog.Ticket{}
	var evs []watchdog.Event
	for _, r := range rows {
		e := NewEvent(r.id, r.created+time.Minute)
		e.CreatedAt, e.CustomerTier, e.Priority = At(r.created), r.tier, r.prio
		p := watchdog.Plan{State: r.state, Open: r.open, BreachAt: r.breach}
		if r.state == watchdog.TicketUntracked {
			p.Untracked = "no policy"
		}
		plans[r.id] = p
		wants[r.id] = want(p, 0, e)
		evs = append(evs, e)
	}
	ingest(t, s, PlanByID(plans, nil), evs...)

	yes, no := true, false
	cases := []struct {
		name  string
		q     watchdog.DashboardQuery
		ids   []string
		total int
	}{
		{"all", watchdog.DashboardQuery{}, []string{"d5", "d6", "d4", "d3", "d2", "d1"}, 6},
		{"ok", watchdog.DashboardQuery{State: "ok"}, []string{"d5", "d1"}, 2},
		{"alert includes breach", watchdog.DashboardQuery{State: "alert"}, []string{"d6", "d3", "d2"}, 3},
		{"breach", watchdog.DashboardQuery{State: "breach"}, []string{"d6", "d3"}, 2},
		{"untracked", watchdog.DashboardQuery{State: "untracked"}, []string{"d4"}, 1},
		{"tier", watchdog.DashboardQuery{Tier: "gold"}, []string{"d6", "d4", "d3", "d1"}, 4},
		{"priority", watchdog.DashboardQuery{Priority: "high"}, []string{"d5", "d6", "d4", "d1"}, 4},
		{"tier and priority any case", watchdog.DashboardQuery{Tier: "GOLD", Priority: "High"}, []string{"d6", "d4", "d1"}, 3},
		{"tier and priority", watchdog.DashboardQuery{Tier: "gold", Priority: "low"}, []string{"d3"}, 1},
		{"open", watchdog.DashboardQuery{Open: &yes}, []string{"d4", "d3", "d2", "d1"}, 4},
		{"closed", watchdog.DashboardQuery{Open: &no}, []string{"d5", "d6"}, 2},
		{"urgency", watchdog.DashboardQuery{Order: watchdog.OrderUrgency}, []string{"d3", "d6", "d2", "d1", "d4", "d5"}, 6},
		{"urgency open", watchdog.DashboardQuery{Order: watchdog.OrderUrgency, Open: &yes}, []string{"d3", "d2", "d1", "d4"}, 4},
		{"page", watchdog.DashboardQuery{Offset: 1, Limit: 2}, []string{"d6", "d4"}, 6},
		{"past the end", watchdog.DashboardQuery{Offset: 10, Limit: 5}, []string{}, 6},
		{"alert urgency page", watchdog.DashboardQuery{State: "alert", Order: watchdog.OrderUrgency, Limit: 2}, []string{"d3", "d6"}, 3},
		{"no match", watchdog.DashboardQuery{Tier: "bronze"}, []string{}, 0},
	}
	for _, c := range cases {
		q := c.q
		if err := q.Validate(); err != nil {
			t.Fatalf("%s: query invalid: %v", c.name, err)
		}
		got, total, err := s.Dashboard(t.Context(), q)
		if err != nil {
			t.Errorf("%s: Dashboard: %v", c.name, err)
			continue
		}
		if d := cmp.Diff(c.ids, ids(got), cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s: ids (-want +got):\n%s", c.name, d)
		}
		if total != c.total {
			t.Errorf("%s: total = %d, want %d", c.name, total, c.total)
		}
		for _, tk := range got {
			diffTicket(t, c.name+" "+tk.ID, tk, wants[tk.ID])
			if tk.Events != nil || tk.Alerts != nil {
				t.Errorf("%s: %s carries Events/Alerts", c.name, tk.ID)
			}
		}
	}

	// The open tickets by state, counted at once where the store can: the
	// closed breach and ok tickets (d5, d6) are not counted.
	c, ok := s.(watchdog.OpenTicketCounter)
	if !ok {
		return
	}
	extra := NewEvent("d7", 5*time.Minute)
	extra.CreatedAt = At(5 * time.Minute)
	ingest(t, s, PlanByID(map[string]watchdog.Plan{"d7": {State: watchdog.TicketBreach, Open: true, BreachAt: TimePtr(At(time.Hour))}}, nil), extra)
	counts, err := c.CountOpenTickets(t.Context())
	if err != nil {
		t.Fatalf("CountOpenTickets: %v", err)
	}
	want := map[watchdog.TicketState]int{watchdog.TicketOK: 1, watchdog.TicketAlert: 1, watchdog.TicketBreach: 2, watchdog.TicketUntracked: 1}
	if d := cmp.Diff(want, counts); d != "" {
		t.Errorf("CountOpenTickets (-want +got):\n%s", d)
	}
}

func testTicketNotFound(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(nil), NewEvent("known", 0))
	for _, id := range []string{"unknown", "", "KNOWN", "known "} {
		if tk, err := s.Ticket(t.Context(), id); !errors.Is(err, watchdog.ErrNotFound) {
			t.Errorf("Ticket(%q) = %+v, %v; want ErrNotFound", id, tk, err)
		}
	}
}

func testTimesRoundTrip(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	odd := time.Date(2031, 2, 3, 4, 5, 6, 789012000, time.UTC)
	e := watchdog.Event{
		ID: "tz", Priority: "high", CustomerTier: "gold", Status: "open",
		CreatedAt: odd, UpdatedAt: odd.Add(time.Second + time.Microsecond),
		FirstResponseAt: TimePtr(odd.Add(500 * time.Microsecond)),
	}
	edge := watchdog.Event{
		ID: "edge", Priority: "high", CustomerTier: "gold", Status: "open",
		CreatedAt: time.Date(1970, 1, 1, 0, 0, 1, 1000, time.UTC),
		UpdatedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	p := watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(odd.Add(time.Hour + time.Microsecond)), BreachAt: TimePtr(odd.Add(2*time.Hour + 7*time.Microsecond))}
	got := ingest(t, s, func(*watchdog.Ticket) watchdog.Plan { return p }, e, edge)
	diffTicket(t, "Ingest tz", got[0], want(p, 0, e))
	diffTicket(t, "Ingest edge", got[1], want(p, 0, edge))
	for _, ev := range []watchdog.Event{e, edge} {
		tk := getTicket(t, s, ev.ID)
		diffTicket(t, "Ticket "+ev.ID, tk, want(p, 0, ev))
		if d := cmp.Diff([]watchdog.Event{ev}, tk.Events); d != "" {
			t.Errorf("%s events (-want +got):\n%s", ev.ID, d)
		}
		for _, x := range tk.Events {
			checkUTC(t, "event", x.CreatedAt, x.UpdatedAt)
			checkUTCPtr(t, "event", x.FirstResponseAt)
		}
	}
	if d := cmp.Diff([]time.Time{edge.UpdatedAt}, eventTimes(getTicket(t, s, "edge").Events)); d != "" {
		t.Errorf("edge timeline (-want +got):\n%s", d)
	}

	fired := odd.Add(3*time.Hour + 3*time.Microsecond)
	recorded := evaluate(t, s, fired, 10, func(tk *watchdog.Ticket) watchdog.Plan {
		if tk.ID != "tz" {
			return p
		}
		a := NewAlert(tk, "breach", odd.Add(time.Hour+time.Microsecond), fired)
		a.Target, a.Elapsed = 90*time.Minute+1500*time.Millisecond, 77*time.Minute+250*time.Millisecond
		return watchdog.Plan{State: watchdog.TicketBreach, Open: true, Alerts: []watchdog.Alert{a}, Notifiers: []string{"n"}}
	})
	if len(recorded) != 1 {
		t.Fatalf("recorded %d alerts, want 1", len(recorded))
	}
	tk := getTicket(t, s, "tz")
	if len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
		t.Fatalf("stored alerts %+v, want one with one delivery", tk.Alerts)
	}
	a := tk.Alerts[0]
	if d := cmp.Diff(recorded[0], a, ignoreDeliv); d != "" {
		t.Errorf("alert round trip (-recorded +stored):\n%s", d)
	}
	if a.Target != 90*time.Minute+1500*time.Millisecond || a.Elapsed != 77*time.Minute+250*time.Millisecond || !a.FiredAt.Equal(fired) {
		t.Errorf("alert durations/times: %+v", a)
	}
	checkUTC(t, "alert", a.DueAt, a.FiredAt, a.Deliveries[0].NextAttemptAt)
	if !a.Deliveries[0].NextAttemptAt.Equal(fired) {
		t.Errorf("delivery next_attempt_at = %s, want %s", a.Deliveries[0].NextAttemptAt, fired)
	}
}
