package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

// awkward is text with every byte a text or array encoding must escape:
// tab, newline, carriage return, backslash, quotes, braces, commas, spaces.
const awkward = "a\tb\nc\rd\\e\"f'g{h}i,j k\\N"

// largeBatch returns the events of n tickets, two each (the later one
// first), with awkward text in ids, fields, attributes and tags every few
// tickets: a batch far larger than any chunk a store sends its rows in.
func largeBatch(n int) []watchdog.Event {
	var evs []watchdog.Event
	for i := range n {
		id := fmt.Sprintf("big-%05d", i)
		if i%97 == 0 {
			id += awkward
		}
		first := NewEvent(id, time.Duration(i)*time.Millisecond)
		first.Attributes = map[string]string{"queue": fmt.Sprintf("q%d", i%7)}
		later := first
		later.UpdatedAt = first.UpdatedAt.Add(time.Hour)
		later.Status = "pending"
		later.FirstResponseAt = TimePtr(first.UpdatedAt.Add(time.Minute + time.Microsecond))
		if i%13 == 0 {
			later.Status, later.Priority, later.CustomerTier = awkward, awkward+"p", awkward+"t"
			later.Attributes = map[string]string{awkward: awkward, "empty": ""}
			later.Tags = []string{awkward, "", "NULL", `\N`}
		}
		evs = append(evs, later, first)
	}
	return evs
}

// testIngestLargeBatch ingests a batch of thousands of events with awkward
// text twice: the first time stores every event once, with its text and
// times exactly; the second changes nothing and plans nothing.
func testIngestLargeBatch(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	const n = 1500
	batch := largeBatch(n)
	due := TimePtr(At(30 * time.Minute))
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		return watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: due, Untracked: tk.Status, Policy: tk.Priority}
	}
	first := ingest(t, s, plan, batch...)
	if len(first) != n {
		t.Fatalf("Ingest returned %d tickets, want %d", len(first), n)
	}
	check := func(when string) {
		t.Helper()
		for i := 0; i < n; i += 13 {
			later, early := batch[2*i], batch[2*i+1]
			p := watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: due, Untracked: later.Status, Policy: later.Priority}
			tk := getTicket(t, s, later.ID)
			diffTicket(t, when+" "+later.ID, tk, want(p, 0, early, later))
			if d := cmp.Diff([]watchdog.Event{early, later}, tk.Events); d != "" {
				t.Fatalf("%s %q timeline (-want +got):\n%s", when, later.ID, d)
			}
		}
		_, total, err := s.Dashboard(t.Context(), watchdog.DashboardQuery{Limit: 1})
		if err != nil || total != n {
			t.Fatalf("%s: Dashboard total = %d, %v; want %d", when, total, err, n)
		}
		if at, ok, err := s.NextDue(t.Context()); err != nil || !ok || !at.Equal(*due) {
			t.Errorf("%s: NextDue = %s, %v, %v; want %s", when, at, ok, err, *due)
		}
	}
	check("after the batch")

	rec := &Recorder{Decide: OpenPlan(nil)}
	second := ingest(t, s, rec.Plan, batch...)
	if calls := len(rec.Calls()); calls != 0 {
		t.Errorf("plan called %d times for a batch already stored, want 0", calls)
	}
	if d := cmp.Diff(first, second, ignoreTimeline); d != "" {
		t.Errorf("second ingest of the same batch differs (-first +second):\n%s", d)
	}
	check("after the batch again")
}

// testIngestConcurrentOverlap runs writers on three handles that ingest,
// all at once, batches over the same new tickets: events of their own and
// one event every writer sends. Every batch succeeds (a store may rerun one
// that lost a race, and must not deadlock), each distinct (id, updated_at)
// is stored once, and every ticket ends with its latest event's fields.
func testIngestConcurrentOverlap(t *testing.T, h Harness) {
	s, another := h.Open(t)
	handles := []watchdog.Store{s, another(t), another(t)}
	const tickets, writers, rounds = 40, 6, 4
	due := TimePtr(At(time.Hour))
	event := func(k, minute int) watchdog.Event {
		ev := NewEvent(fmt.Sprintf("race-%02d", k), time.Duration(minute)*time.Minute)
		ev.Status = fmt.Sprintf("s%d", minute)
		return ev
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Go(func() {
			st := handles[w%len(handles)]
			for r := range rounds {
				var batch []watchdog.Event
				for k := range tickets {
					if w%2 == 1 {
						k = tickets - 1 - k // the other order
					}
					batch = append(batch, event(k, 1+r*writers+w), event(k, 1000+r))
				}
				if _, err := st.Ingest(t.Context(), batch, OpenPlan(due)); err != nil {
					errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Ingest: %v", err)
	}
	for k := range tickets {
		var timeline []watchdog.Event
		for m := 1; m <= rounds*writers; m++ {
			timeline = append(timeline, event(k, m))
		}
		for r := range rounds {
			timeline = append(timeline, event(k, 1000+r))
		}
		tk := getTicket(t, s, timeline[0].ID)
		if d := cmp.Diff(timeline, tk.Events); d != "" {
			t.Fatalf("%s timeline (-want +got):\n%s", tk.ID, d)
		}
		diffTicket(t, "Ticket "+tk.ID, tk, want(watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: due}, 0, timeline...))
	}
	if _, total, err := s.Dashboard(t.Context(), watchdog.DashboardQuery{Limit: 1}); err != nil || total != tickets {
		t.Errorf("Dashboard total = %d, %v; want %d", total, err, tickets)
	}
}
