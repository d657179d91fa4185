package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

func testIngestIdempotent(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	due := TimePtr(At(time.Hour))
	a0, a1, b0 := NewEvent("a", 0), NewEvent("a", time.Minute), NewEvent("b", 0)
	a1.Status = "pending"
	first := ingest(t, s, OpenPlan(due), a0, a1, b0)

	rec := &Recorder{Decide: OpenPlan(TimePtr(At(5 * time.Hour)))}
	second := ingest(t, s, rec.Plan, a0, a1, b0)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("plan called %d times for a batch already stored, want 0", n)
	}
	if d := cmp.Diff(first, second, ignoreTimeline); d != "" {
		t.Errorf("second ingest of the same batch differs (-first +second):\n%s", d)
	}

	// Same (id, updated_at) with other content: the stored event wins.
	changed := a1
	changed.Status, changed.Priority = "closed", "low"
	third := ingest(t, s, rec.Plan, changed)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("plan called %d times for a replayed (id, updated_at), want 0", n)
	}
	if len(third) != 1 || third[0].Status != "pending" || third[0].Priority != "high" {
		t.Errorf("replayed event changed the ticket: %+v", third)
	}
	tk := getTicket(t, s, "a")
	diffTicket(t, "Ticket a", tk, want(watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: due}, 0, a0, a1))
	if d := cmp.Diff([]watchdog.Event{a0, a1}, tk.Events); d != "" {
		t.Errorf("timeline (-want +got):\n%s", d)
	}
}

func testIngestLateEvent(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	late := NewEvent("a", 10*time.Minute)
	late.Status = "pending"
	ingest(t, s, OpenPlan(nil), late)

	early := NewEvent("a", 5*time.Minute)
	early.Priority = "low"
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, early)
	calls := rec.Calls()
	if len(calls) != 1 {
		t.Fatalf("plan called %d times, want 1", len(calls))
	}
	if d := cmp.Diff([]watchdog.Event{early, late}, calls[0].Events); d != "" {
		t.Errorf("plan's timeline (-want +got):\n%s", d)
	}
	if calls[0].Status != "pending" || calls[0].Priority != "high" || !calls[0].UpdatedAt.Equal(late.UpdatedAt) {
		t.Errorf("plan saw current fields status=%q priority=%q updated=%s; want those of the latest event", calls[0].Status, calls[0].Priority, calls[0].UpdatedAt)
	}
	w := want(watchdog.Plan{State: watchdog.TicketOK, Open: true}, 0, early, late)
	diffTicket(t, "Ingest", got[0], w)
	tk := getTicket(t, s, "a")
	diffTicket(t, "Ticket", tk, w)
	if d := cmp.Diff([]string{"open", "pending"}, statuses(tk.Events)); d != "" {
		t.Errorf("timeline statuses (-want +got):\n%s", d)
	}
}

func testIngestSameIDInBatch(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	a3 := NewEvent("a", 3*time.Minute)
	a3.Status = "solved"
	a1 := NewEvent("a", time.Minute)
	a2 := NewEvent("a", 2*time.Minute)
	a2.Status = "pending"
	a1dup := a1
	a1dup.Status = "closed"
	b0 := NewEvent("b", 0)
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, a3, b0, a1, a2, a1dup, b0)

	if d := cmp.Diff([]string{"a", "b"}, ids(got)); d != "" {
		t.Fatalf("tickets (-want +got):\n%s", d)
	}
	calls := rec.Calls()
	if d := cmp.Diff([]string{"a", "b"}, sortedStrings(rec.IDs())); d != "" {
		t.Fatalf("plan called for (-want +got):\n%s", d)
	}
	for _, c := range calls {
		if c.ID != "a" {
			continue
		}
		if d := cmp.Diff([]string{"open", "pending", "solved"}, statuses(c.Events)); d != "" {
			t.Errorf("plan's timeline for a (-want +got):\n%s", d)
		}
		if c.Status != "solved" {
			t.Errorf("plan saw status %q, want solved", c.Status)
		}
	}
	p := watchdog.Plan{State: watchdog.TicketOK, Open: true}
	diffTicket(t, "Ingest a", got[0], want(p, 0, a1, a2, a3))
	diffTicket(t, "Ingest b", got[1], want(p, 0, b0))
	tk := getTicket(t, s, "a")
	if d := cmp.Diff([]watchdog.Event{a1, a2, a3}, tk.Events); d != "" {
		t.Errorf("timeline (-want +got):\n%s", d)
	}
}

func testIngestFirstResponseEarliest(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	p := OpenPlan(nil)
	steps := []struct {
		updated time.Duration
		fr      *time.Time
		want    *time.Time
	}{
		{0, nil, nil},
		{time.Minute, TimePtr(At(50 * time.Second)), TimePtr(At(50 * time.Second))},
		{2 * time.Minute, TimePtr(At(20 * time.Second)), TimePtr(At(20 * time.Second))},
		{3 * time.Minute, TimePtr(At(40 * time.Second)), TimePtr(At(20 * time.Second))},
		{4 * time.Minute, nil, TimePtr(At(20 * time.Second))},
	}
	for _, st := range steps {
		e := NewEvent("a", st.updated)
		e.FirstResponseAt = st.fr
		got := ingest(t, s, p, e)
		if d := cmp.Diff(st.want, got[0].FirstResponseAt); d != "" {
			t.Errorf("after event at +%s: first_response_at (-want +got):\n%s", st.updated, d)
		}
	}
	if d := cmp.Diff(TimePtr(At(20*time.Second)), getTicket(t, s, "a").FirstResponseAt); d != "" {
		t.Errorf("Ticket first_response_at (-want +got):\n%s", d)
	}

	// An earlier response carried by a late event still wins.
	b5 := NewEvent("b", 5*time.Minute)
	b5.FirstResponseAt = TimePtr(At(4 * time.Minute))
	ingest(t, s, p, b5)
	b1 := NewEvent("b", time.Minute)
	b1.FirstResponseAt = TimePtr(At(30 * time.Second))
	got := ingest(t, s, p, b1)
	if d := cmp.Diff(TimePtr(At(30*time.Second)), got[0].FirstResponseAt); d != "" {
		t.Errorf("late event's first_response_at (-want +got):\n%s", d)
	}
}

// The cases below pin the merge rules of watchdog.Store.Ingest (those of
// watchdog.Ticket.Merge) on every view a store gives of a ticket: the
// ticket its plan sees, the ticket Ingest returns and the stored one.

// current is what a ticket's timeline decides: the latest event's fields and
// the earliest first response of any event.
type current struct {
	Status, Priority, Tier string
	Created, Updated       time.Time
	FirstResponse          *time.Time
}

// latest returns the current fields of a timeline whose latest event is e
// and whose earliest first response is fr.
func latest(e watchdog.Event, fr *time.Time) current {
	return current{e.Status, e.Priority, e.CustomerTier, e.CreatedAt, e.UpdatedAt, fr}
}

func currentOf(tk *watchdog.Ticket) current {
	return current{tk.Status, tk.Priority, tk.CustomerTier, tk.CreatedAt, tk.UpdatedAt, tk.FirstResponseAt}
}

// checkMerged checks ticket got, returned by an Ingest whose plan rec
// recorded, against the timeline (in time order) and current fields cur:
// the plan was called once and saw them, and the returned and the stored
// tickets carry cur, the stored one with exactly timeline.
func checkMerged(t *testing.T, s watchdog.Store, rec *Recorder, got *watchdog.Ticket, cur current, timeline ...watchdog.Event) {
	t.Helper()
	calls := rec.Calls()
	if len(calls) != 1 || calls[0].ID != got.ID {
		t.Fatalf("plan called for %v, want %s once", rec.IDs(), got.ID)
	}
	if d := cmp.Diff(timeline, calls[0].Events); d != "" {
		t.Errorf("%s: plan's timeline (-want +got):\n%s", got.ID, d)
	}
	stored := getTicket(t, s, got.ID)
	for _, v := range []struct {
		what string
		tk   *watchdog.Ticket
	}{{"plan's ticket", calls[0]}, {"returned ticket", got}, {"stored ticket", stored}} {
		if d := cmp.Diff(cur, currentOf(v.tk)); d != "" {
			t.Errorf("%s: %s's current fields (-want +got):\n%s", got.ID, v.what, d)
		}
	}
	if d := cmp.Diff(timeline, stored.Events); d != "" {
		t.Errorf("%s: stored timeline (-want +got):\n%s", got.ID, d)
	}
	diffTicket(t, "Ticket "+got.ID, stored, want(watchdog.Plan{State: watchdog.TicketOK, Open: true}, 0, timeline...))
}

// testMergeLateEvents: events older than the stored ones, sent in one batch
// out of time order and with other fields, are inserted in time order and
// leave the current fields as the latest event set them.
func testMergeLateEvents(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	e10 := NewEvent("a", 10*time.Minute)
	e10.Status = "pending"
	e20 := NewEvent("a", 20*time.Minute)
	e20.Status, e20.CustomerTier, e20.FirstResponseAt = "solved", "platinum", TimePtr(At(12*time.Minute))
	ingest(t, s, OpenPlan(nil), e20, e10)

	e5 := NewEvent("a", 5*time.Minute)
	e5.Status, e5.Priority, e5.CustomerTier = "closed", "low", "free"
	e15 := NewEvent("a", 15*time.Minute)
	e15.Status, e15.Priority, e15.CreatedAt = "open", "urgent", At(-time.Hour)
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, e15, e5)
	checkMerged(t, s, rec, got[0], latest(e20, TimePtr(At(12*time.Minute))), e5, e10, e15, e20)
}

// testMergeReplay: events whose (id, updated_at) is stored change nothing,
// alone or beside new events of the same ticket.
func testMergeReplay(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	a0, a1, b0 := NewEvent("a", 0), NewEvent("a", time.Minute), NewEvent("b", 0)
	a1.Status = "pending"
	due := TimePtr(At(time.Hour))
	stored := ingest(t, s, OpenPlan(due), a0, a1, b0)

	rec := &Recorder{Decide: OpenPlan(nil)}
	again := ingest(t, s, rec.Plan, a1, b0, a0)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("plan called %d times for replayed events, want 0", n)
	}
	if d := cmp.Diff(stored, again, ignoreTimeline); d != "" {
		t.Errorf("replayed events changed the tickets (-before +after):\n%s", d)
	}
	if at, ok, err := s.NextDue(t.Context()); err != nil || !ok || !at.Equal(*due) {
		t.Errorf("NextDue after replayed events = %s, %v, %v; want +1h", at, ok, err)
	}

	a2 := NewEvent("a", 2*time.Minute)
	a2.Status = "solved"
	got := ingest(t, s, rec.Plan, a1, a2, a0)
	checkMerged(t, s, rec, got[0], latest(a2, nil), a0, a1, a2)
}

// testMergeConflictingDuplicate: of events with the same (id, updated_at)
// and other fields, the first stored wins: the first of a batch, and over a
// later batch the stored one, whatever their fields.
func testMergeConflictingDuplicate(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	x0 := NewEvent("x", 0)
	x1 := NewEvent("x", time.Minute)
	x1.Status, x1.Priority = "pending", "low"
	x1b := x1
	x1b.Status, x1b.Priority, x1b.FirstResponseAt = "solved", "urgent", TimePtr(At(30*time.Second))
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, x1, x0, x1b)
	checkMerged(t, s, rec, got[0], latest(x1, nil), x0, x1)

	// A later batch of only a conflicting duplicate changes nothing.
	x1c := x1
	x1c.Status, x1c.CustomerTier = "closed", "free"
	rec.Reset()
	again := ingest(t, s, rec.Plan, x1c, x1b)
	if n := len(rec.Calls()); n != 0 {
		t.Errorf("plan called %d times for conflicting duplicates of stored events, want 0", n)
	}
	if d := cmp.Diff(latest(x1, nil), currentOf(again[0])); d != "" {
		t.Errorf("conflicting duplicates changed the ticket (-want +got):\n%s", d)
	}

	// Beside a new event, the new one merges and the stored one stays.
	x2 := NewEvent("x", 2*time.Minute)
	x2.Status = "open"
	rec.Reset()
	got = ingest(t, s, rec.Plan, x1c, x2)
	checkMerged(t, s, rec, got[0], latest(x2, nil), x0, x1, x2)
}

// testMergeFirstResponseKept: a ticket's first response is the earliest of
// any event's, kept when later events omit it or carry a later one, in one
// batch and across batches; a late event's earlier one wins, a conflicting
// duplicate's does not count.
func testMergeFirstResponseKept(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	f1 := NewEvent("f", time.Minute)
	f1.FirstResponseAt = TimePtr(At(40 * time.Second))
	f2 := NewEvent("f", 2*time.Minute)
	f3 := NewEvent("f", 3*time.Minute)
	f3.FirstResponseAt = TimePtr(At(50 * time.Second))
	rec := &Recorder{}
	got := ingest(t, s, rec.Plan, f3, f1, f2)
	checkMerged(t, s, rec, got[0], latest(f3, TimePtr(At(40*time.Second))), f1, f2, f3)

	f4 := NewEvent("f", 4*time.Minute)
	rec.Reset()
	got = ingest(t, s, rec.Plan, f4)
	checkMerged(t, s, rec, got[0], latest(f4, TimePtr(At(40*time.Second))), f1, f2, f3, f4)

	f0 := NewEvent("f", 30*time.Second)
	f0.FirstResponseAt = TimePtr(At(20 * time.Second))
	rec.Reset()
	got = ingest(t, s, rec.Plan, f0)
	checkMerged(t, s, rec, got[0], latest(f4, TimePtr(At(20*time.Second))), f0, f1, f2, f3, f4)

	f4b := f4
	f4b.FirstResponseAt = TimePtr(At(10 * time.Second))
	if got := ingest(t, s, rec.Plan, f4b); !got[0].FirstResponseAt.Equal(At(20 * time.Second)) {
		t.Errorf("a conflicting duplicate's first response counted: %s, want +20s", got[0].FirstResponseAt)
	}
}

// testMergeFirstEventKept: a ticket's first event, whatever it carries, is
// its timeline entry exactly as sent, in what a plan, the evaluator and a
// read see, before and after older events join it. A store may keep a
// lone event on the ticket's row (sqlstore.Loaders.EventOnRow), where an
// empty set of attributes that clears them, or tags sent twice, would not
// survive; the latest event carrying attributes still decides the
// ticket's.
func testMergeFirstEventKept(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	full := NewEvent("full", 10*time.Minute)
	full.Status, full.FirstResponseAt = "pending", TimePtr(At(2*time.Minute))
	full.Attributes, full.Tags = map[string]string{"team": "billing", "region": "eu"}, []string{"vip", "refund"}
	cleared := NewEvent("cleared", 10*time.Minute)
	cleared.Attributes, cleared.Tags = map[string]string{}, []string{}
	twice := NewEvent("twice", 10*time.Minute)
	twice.Tags = []string{"vip", "vip"}
	plain := NewEvent("plain", 10*time.Minute)
	firsts := []watchdog.Event{full, cleared, twice, plain}
	ingest(t, s, OpenPlan(TimePtr(At(time.Hour))), firsts...)

	for _, ev := range firsts {
		tk := getTicket(t, s, ev.ID)
		if d := cmp.Diff([]watchdog.Event{ev}, tk.Events); d != "" {
			t.Errorf("%s: timeline of one event (-want +got):\n%s", ev.ID, d)
		}
		diffTicket(t, ev.ID, tk, want(watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(time.Hour))}, 0, ev))
	}

	// The evaluator's plan sees the one event too.
	rec := &Recorder{Decide: OpenPlan(TimePtr(At(2 * time.Hour)))}
	if _, err := s.EvaluateDue(t.Context(), At(time.Hour), 10, rec.Plan); err != nil {
		t.Fatalf("EvaluateDue: %v", err)
	}
	seen := map[string][]watchdog.Event{}
	for _, c := range rec.Calls() {
		seen[c.ID] = c.Events
	}
	for _, ev := range firsts {
		if d := cmp.Diff([]watchdog.Event{ev}, seen[ev.ID]); d != "" {
			t.Errorf("%s: evaluator's timeline (-want +got):\n%s", ev.ID, d)
		}
	}

	// Older events arrive, each carrying attributes and tags of its own.
	var olders []watchdog.Event
	for _, ev := range firsts {
		old := NewEvent(ev.ID, time.Minute)
		old.Attributes, old.Tags = map[string]string{"team": "sales"}, []string{"old"}
		olders = append(olders, old)
	}
	rec = &Recorder{Decide: OpenPlan(TimePtr(At(2 * time.Hour)))}
	ingest(t, s, rec.Plan, olders...)
	planned := map[string][]watchdog.Event{}
	for _, c := range rec.Calls() {
		planned[c.ID] = c.Events
	}
	for i, ev := range firsts {
		wantEvents := []watchdog.Event{olders[i], ev}
		if d := cmp.Diff(wantEvents, planned[ev.ID]); d != "" {
			t.Errorf("%s: plan's timeline after an older event (-want +got):\n%s", ev.ID, d)
		}
		tk := getTicket(t, s, ev.ID)
		if d := cmp.Diff(wantEvents, tk.Events); d != "" {
			t.Errorf("%s: stored timeline after an older event (-want +got):\n%s", ev.ID, d)
		}
		diffTicket(t, ev.ID+" after an older event", tk,
			want(watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(2 * time.Hour))}, 0, wantEvents...))
	}
	// The ticket whose latest event cleared its attributes and tags keeps
	// none, though the older event carries some.
	if tk := getTicket(t, s, "cleared"); tk.Attributes != nil || tk.Tags != nil {
		t.Errorf("cleared: attributes %v, tags %v after an older event; want none (the latest event cleared them)", tk.Attributes, tk.Tags)
	}
}
