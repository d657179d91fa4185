package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

// prePlanned plays the engine's part in EvaluateDuePreplanned: it keeps
// the plans prePlan computed, by the *Ticket planned, and plan answers with
// the kept plan when the store passes the same *Ticket again.
type prePlanned struct {
	decide watchdog.PlanFunc
	// before runs at the first prePlan call, between the store's read and
	// its transaction.
	before func()

	mu       sync.Mutex
	once     sync.Once
	plans    map[*watchdog.Ticket]watchdog.Plan
	answered []string // tickets plan answered from a plan made before
	planned  []*watchdog.Ticket
}

func (p *prePlanned) prePlan(t *watchdog.Ticket) watchdog.Plan {
	if p.before != nil {
		p.once.Do(p.before)
	}
	pl := p.decide(t)
	p.mu.Lock()
	if p.plans == nil {
		p.plans = map[*watchdog.Ticket]watchdog.Plan{}
	}
	p.plans[t] = pl
	p.mu.Unlock()
	return pl
}

func (p *prePlanned) plan(t *watchdog.Ticket) watchdog.Plan {
	c := *t
	p.mu.Lock()
	defer p.mu.Unlock()
	p.planned = append(p.planned, &c)
	if pl, ok := p.plans[t]; ok {
		p.answered = append(p.answered, t.ID)
		return pl
	}
	return p.decide(t)
}

// plannedIn returns the ticket plan was last given for id in the
// transaction.
func (p *prePlanned) plannedIn(id string) *watchdog.Ticket {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.planned) - 1; i >= 0; i-- {
		if p.planned[i].ID == id {
			return p.planned[i]
		}
	}
	return nil
}

func preplanner(t *testing.T, s watchdog.Store) watchdog.DuePreplanner {
	dp, ok := s.(watchdog.DuePreplanner)
	if !ok {
		t.Skipf("%T plans due tickets in its transaction only (no watchdog.DuePreplanner)", s)
	}
	return dp
}

// writers are the handles a case writes through between a preplanned
// evaluation's read and its transaction: the evaluating handle itself, and
// another on the same database.
var writers = []struct {
	name  string
	store func(s watchdog.Store, another func(testing.TB) watchdog.Store, t *testing.T) watchdog.Store
}{
	{"same handle", func(s watchdog.Store, _ func(testing.TB) watchdog.Store, _ *testing.T) watchdog.Store { return s }},
	{"another handle", func(_ watchdog.Store, another func(testing.TB) watchdog.Store, t *testing.T) watchdog.Store {
		return another(t)
	}},
}

// openDue opens a store that is a DuePreplanner (else skips), with n
// tickets named by format due at one minute, and the handle writer picks
// to write through.
func openDue(t *testing.T, h Harness, writer func(watchdog.Store, func(testing.TB) watchdog.Store, *testing.T) watchdog.Store,
	format string, n int) (watchdog.Store, watchdog.DuePreplanner, watchdog.Store) {
	s, another := h.Open(t)
	dp := preplanner(t, s)
	w := writer(s, another, t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), numberedEvents(format, n)...)
	return s, dp, w
}

// testEvaluatePreplannedWrittenMeanwhile: a ticket written after a
// preplanned evaluation read it, through the same handle or another, is
// planned again as written; the others fire too; every stage once.
func testEvaluatePreplannedWrittenMeanwhile(t *testing.T, h Harness) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			s, dp, writer := openDue(t, h, w.store, "w%d", 4)

			now := At(5 * time.Minute)
			p := &prePlanned{decide: FirePlan(now, nil, []string{"slack"}, "alert")}
			p.before = func() {
				// A later event of w1, with a new priority its alert carries.
				e := NewEvent("w1", time.Minute)
				e.Priority = "urgent"
				ingest(t, writer, OpenPlan(TimePtr(At(time.Minute))), e)
			}
			got, err := dp.EvaluateDuePreplanned(t.Context(), now, 10, p.prePlan, p.plan)
			if err != nil {
				t.Fatalf("EvaluateDuePreplanned: %v", err)
			}
			if p.plans == nil {
				t.Fatal("prePlan was never called: nothing ran between the read and the transaction")
			}
			priority := map[string]string{}
			for _, a := range got {
				if _, dup := priority[a.TicketID]; dup {
					t.Errorf("ticket %s fired twice: %+v", a.TicketID, got)
				}
				priority[a.TicketID] = a.Priority
			}
			want := map[string]string{"w0": "high", "w1": "urgent", "w2": "high", "w3": "high"}
			if d := cmp.Diff(want, priority); d != "" {
				t.Errorf("alerts by ticket, with the priority they carry (-want +got):\n%s", d)
			}
			if tk := p.plannedIn("w1"); tk == nil || len(tk.Events) != 2 {
				t.Errorf("w1 was planned in the transaction as %+v, want it with its two events", tk)
			}
			for _, id := range []string{"w0", "w1", "w2", "w3"} {
				tk := getTicket(t, s, id)
				if len(tk.Alerts) != 1 || tk.EscalationLevel != 1 {
					t.Errorf("ticket %s: %d alerts at level %d, want 1 and 1", id, len(tk.Alerts), tk.EscalationLevel)
				}
			}
		})
	}
}

// testEvaluatePreplannedFiredMeanwhile: tickets another evaluation fired
// after a preplanned one read them, through the same handle or another,
// are not fired again, and the preplanned evaluation does not fail on
// them.
func testEvaluatePreplannedFiredMeanwhile(t *testing.T, h Harness) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			s, dp, writer := openDue(t, h, w.store, "f%d", 6)

			now := At(5 * time.Minute)
			fire := FirePlan(now, nil, []string{"slack"}, "alert")
			p := &prePlanned{decide: fire}
			var early []watchdog.Alert
			p.before = func() { early = evaluate(t, writer, now, 4, fire) }
			got, err := dp.EvaluateDuePreplanned(t.Context(), now, 10, p.prePlan, p.plan)
			if err != nil {
				t.Fatalf("EvaluateDuePreplanned with tickets fired meanwhile: %v", err)
			}
			if len(early) != 4 {
				t.Fatalf("the evaluation between the read and the transaction fired %d alerts, want 4", len(early))
			}
			count := map[string]int{}
			for _, a := range append(early, got...) {
				count[a.TicketID]++
			}
			for i := range 6 {
				id := fmt.Sprintf("f%d", i)
				if count[id] != 1 {
					t.Errorf("ticket %s fired %d times, want once", id, count[id])
				}
				if tk := getTicket(t, s, id); len(tk.Alerts) != 1 || tk.EscalationLevel != 1 {
					t.Errorf("ticket %s: %d alerts at level %d, want 1 and 1", id, len(tk.Alerts), tk.EscalationLevel)
				}
			}
		})
	}
}

// testEvaluatePreplannedConcurrent: preplanned evaluations side by side,
// on several handles, fire every stage once.
func testEvaluatePreplannedConcurrent(t *testing.T, h Harness) {
	s, another := h.Open(t)
	preplanner(t, s)
	const n = 60
	evs := numberedEvents("p%02d", n)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), evs...)

	now := At(5 * time.Minute)
	fire := FirePlan(now, TimePtr(At(time.Minute)), []string{"n1"}, "alert", "breach")
	all := evaluateOnHandles(t, another, "EvaluateDuePreplanned", func(h watchdog.Store) ([]watchdog.Alert, error) {
		p := &prePlanned{decide: fire}
		return h.(watchdog.DuePreplanner).EvaluateDuePreplanned(t.Context(), now, 7, p.prePlan, p.plan)
	})
	p := &prePlanned{decide: fire}
	rest, err := s.(watchdog.DuePreplanner).EvaluateDuePreplanned(t.Context(), now, n, p.prePlan, p.plan)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, rest...)
	keys := map[string]int{}
	for _, a := range all {
		keys[a.TicketID+"/"+a.Stage]++
	}
	if len(keys) != 2*n {
		t.Errorf("recorded %d distinct stages, want %d", len(keys), 2*n)
	}
	for k, c := range keys {
		if c != 1 {
			t.Errorf("stage %s recorded %d times", k, c)
		}
	}
}
