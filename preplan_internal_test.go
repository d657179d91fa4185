package watchdog

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSameNewTicketFields fails when Ticket or Event gains a field:
// sameNewTicket and sameEvent must compare it (a plan may read it), and
// then this list learns it.
func TestSameNewTicketFields(t *testing.T) {
	names := func(v any) []string {
		var out []string
		for f := range reflect.TypeOf(v).Fields() {
			out = append(out, f.Name)
		}
		return out
	}
	ticket := []string{"ID", "Priority", "CreatedAt", "UpdatedAt", "Status", "CustomerTier", "EscalationLevel",
		"FirstResponseAt", "Attributes", "Tags", "State", "Untracked", "Policy", "Open", "NextDueAt", "BreachAt",
		"BackfilledAt", "Events", "Alerts", "Messages", "Acks", "Outcomes", "OpenClocks"}
	if diff := cmp.Diff(ticket, names(Ticket{})); diff != "" {
		t.Errorf("Ticket's fields changed; teach sameNewTicket (-known +now):\n%s", diff)
	}
	event := []string{"ID", "Priority", "CustomerTier", "Status", "CreatedAt", "UpdatedAt", "FirstResponseAt",
		"Attributes", "Tags", "Messages"}
	if diff := cmp.Diff(event, names(Event{})); diff != "" {
		t.Errorf("Event's fields changed; teach sameEvent (-known +now):\n%s", diff)
	}
	clocks := []string{"Calendar", "Response", "Resolution", "ResponseBreachAt", "ResolutionBreachAt"}
	if diff := cmp.Diff(clocks, names(OpenClocks{})); diff != "" {
		t.Errorf("OpenClocks' fields changed; teach sameOpenClocks (-known +now):\n%s", diff)
	}
}

func TestPrePlans(t *testing.T) {
	p, err := ParsePolicy([]byte(`
tiers:
  gold:
    high: {response: 1h, resolution: 8h}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := c0.Add(10 * time.Minute)
	fr := c0.Add(5 * time.Minute)
	ev := func(id, status string, at time.Duration) Event {
		return Event{ID: id, Priority: "high", CustomerTier: "gold", Status: status, CreatedAt: c0, UpdatedAt: c0.Add(at)}
	}
	a2 := ev("a", "pending", 2*time.Minute)
	a2.FirstResponseAt = &fr
	a2.Attributes = map[string]string{"group": "billing"}
	a2.Messages = []Message{{At: c0.Add(time.Minute), Author: "customer"}}
	events := []Event{ev("a", "open", 0), ev("b", "open", 0), a2}

	calls := 0
	inner := func(tk *Ticket) Plan {
		calls++
		ev, outcomes := EvaluateOutcomes(tk, p, now)
		return Plan{State: ev.State, Open: ev.Open, Policy: ev.Policy, NextDueAt: ev.NextDueAt, BreachAt: ev.BreachAt, Outcomes: outcomes}
	}
	pre := planNew(events, inner)
	if calls != 2 {
		t.Fatalf("planNew planned %d tickets, want 2", calls)
	}
	plan := pre.wrap(inner)

	// What a store passes for a ticket it has nothing stored for: the
	// batch's events merged into an empty ticket. Its plan comes from pre,
	// equal to planning it now.
	fresh := func(id string) *Ticket {
		tk := &Ticket{ID: id}
		for _, e := range events {
			if e.ID == id {
				tk.Merge(e)
			}
		}
		return tk
	}
	for _, id := range []string{"a", "b"} {
		calls = 0
		got := plan(fresh(id))
		if calls != 0 {
			t.Errorf("ticket %s: planned again for a new ticket", id)
		}
		if diff := cmp.Diff(inner(fresh(id)), got); diff != "" {
			t.Errorf("ticket %s: pre-planned plan differs (-now +pre):\n%s", id, diff)
		}
	}
	got := plan(fresh("a"))
	got.Outcomes = append(got.Outcomes[:0], Outcome{TicketID: "changed"})
	if again := plan(fresh("a")); slices.ContainsFunc(again.Outcomes, func(o Outcome) bool { return o.TicketID == "changed" }) {
		t.Error("a caller's change to a returned plan reached the next call")
	}

	// Anything stored makes it another ticket, planned as before.
	stored := []func(*Ticket){
		func(tk *Ticket) { tk.State = TicketOK },
		func(tk *Ticket) { tk.EscalationLevel = 1 },
		func(tk *Ticket) { tk.Alerts = []Alert{{TicketID: tk.ID}} },
		func(tk *Ticket) { tk.Outcomes = []Outcome{{TicketID: tk.ID}} },
		func(tk *Ticket) { tk.Acks = []Ack{{TicketID: tk.ID}} },
		func(tk *Ticket) { at := c0; tk.BackfilledAt = &at },
		func(tk *Ticket) { tk.Merge(ev("a", "open", -time.Minute)) },
		func(tk *Ticket) { tk.Messages = append(slices.Clone(tk.Messages), Message{At: c0, Author: "agent"}) },
		func(tk *Ticket) { tk.Attributes = map[string]string{"group": "sales"} },
		func(tk *Ticket) { tk.OpenClocks.Calendar = "24x7" },
	}
	for i, change := range stored {
		tk := fresh("a")
		change(tk)
		calls = 0
		plan(tk)
		if calls != 1 {
			t.Errorf("change %d: not planned again (%d calls)", i, calls)
		}
	}
	calls = 0
	plan(&Ticket{ID: "c"})
	if calls != 1 {
		t.Error("a ticket outside the batch was not planned")
	}
}
