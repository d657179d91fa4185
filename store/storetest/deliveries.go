package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

func testClaimDeliveriesLease(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, PlanByID(map[string]watchdog.Plan{
		"a": {State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(time.Minute))},
		"b": {State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(At(2 * time.Minute))},
	}, nil), NewEvent("a", 0), NewEvent("b", 0))
	alertsA := evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n1", "n2"}, "alert"))
	alertsB := evaluate(t, s, At(2*time.Minute), 10, FirePlan(At(2*time.Minute), nil, []string{"n1"}, "breach"))
	if len(alertsA) != 1 || len(alertsB) != 1 {
		t.Fatalf("setup recorded %d and %d alerts, want 1 and 1", len(alertsA), len(alertsB))
	}

	if got := claim(t, s, "n1", At(time.Minute-time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d deliveries before they were due", len(got))
	}
	if got := claim(t, s, "other", At(time.Hour), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d deliveries for a notifier that has none", len(got))
	}
	got := claim(t, s, "n1", At(time.Minute), 10, 90*time.Second)
	if len(got) != 1 {
		t.Fatalf("claimed %d deliveries at +1m, want 1", len(got))
	}
	da := got[0]
	if da.Attempts != 1 || da.Status != watchdog.DeliveryPending || !da.NextAttemptAt.Equal(At(150*time.Second)) || da.Notifier != "n1" || da.AlertID != alertsA[0].ID {
		t.Errorf("claimed delivery %+v: want attempt 1, pending, leased until +2m30s", da)
	}
	if da.Alert == nil {
		t.Fatal("claimed delivery has no Alert")
	}
	if d := cmp.Diff(alertsA[0], *da.Alert, ignoreDeliv); d != "" {
		t.Errorf("claimed delivery's alert (-recorded +claimed):\n%s", d)
	}

	got = claim(t, s, "n1", At(2*time.Minute), 10, time.Minute+30*time.Second)
	if len(got) != 1 || got[0].AlertID != alertsB[0].ID || got[0].Attempts != 1 {
		t.Fatalf("claim at +2m = %+v, want only b's delivery (a's is leased)", got)
	}
	if got := claim(t, s, "n1", At(2*time.Minute+10*time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d leased deliveries", len(got))
	}
	// a's lease ends at +2m30s, b's at +3m30s: the oldest comes first.
	got = claim(t, s, "n1", At(5*time.Minute), 1, time.Minute)
	if len(got) != 1 || got[0].ID != da.ID || got[0].Attempts != 2 {
		t.Fatalf("claim with limit 1 = %+v, want a's delivery at attempt 2", got)
	}
	got = claim(t, s, "n1", At(5*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].AlertID != alertsB[0].ID || got[0].Attempts != 2 {
		t.Fatalf("claim = %+v, want b's delivery at attempt 2", got)
	}
	// n2's delivery of a's alert was never claimed by n1's claims.
	got = claim(t, s, "n2", At(5*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].AlertID != alertsA[0].ID || got[0].Attempts != 1 {
		t.Fatalf("claim for n2 = %+v, want a's delivery to n2 at attempt 1", got)
	}
}

func testClaimDeliveriesConcurrent(t *testing.T, h Harness) {
	s, another := h.Open(t)
	const n = 20
	evs := numberedEvents("d%02d", n)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), evs...)
	alerts := evaluate(t, s, At(time.Minute), n, FirePlan(At(time.Minute), nil, []string{"n1", "n2", "n3"}, "alert"))
	if len(alerts) != n {
		t.Fatalf("setup recorded %d alerts, want %d", len(alerts), n)
	}
	var (
		mu     sync.Mutex
		counts = map[int64]int{}
		errs   []error
	)
	onHandles(t, another, func(h watchdog.Store) {
		for _, name := range []string{"n1", "n2", "n3"} {
			for {
				got, err := h.ClaimDeliveries(t.Context(), watchdog.DeliveryClaim{Notifier: name, Holder: "h", Now: At(2 * time.Minute), Limit: 5, Until: At(time.Hour)})
				mu.Lock()
				for _, d := range got {
					counts[d.ID]++
					if d.Notifier != name {
						errs = append(errs, fmt.Errorf("claim for %s returned a delivery to %s", name, d.Notifier))
					}
				}
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil || len(got) == 0 {
					break
				}
			}
		}
	})
	for _, err := range errs {
		t.Errorf("concurrent ClaimDeliveries: %v", err)
	}
	if len(counts) != 3*n {
		t.Errorf("claimed %d distinct deliveries, want %d", len(counts), 3*n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("delivery %d claimed %d times within its lease", id, c)
		}
	}
}

// testClaimDeliveriesOldestFirst: claims working off a backlog take the
// oldest pending deliveries first, also one handed back due earlier than
// those the last claims took, and a claim short of its limit means that
// nothing more is due.
func testClaimDeliveriesOldestFirst(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	evs := numberedEvents("o%02d", 30)
	plans := map[string]watchdog.Plan{}
	for i, ev := range evs {
		due := At(time.Minute)
		if i >= 20 {
			due = At(3 * time.Minute)
		}
		plans[ev.ID] = watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: TimePtr(due)}
	}
	ingest(t, s, PlanByID(plans, nil), evs...)
	early := evaluate(t, s, At(time.Minute), 100, FirePlan(At(time.Minute), nil, []string{"n1"}, "alert"))
	late := evaluate(t, s, At(3*time.Minute), 100, FirePlan(At(3*time.Minute), nil, []string{"n1"}, "alert"))
	if len(early) != 20 || len(late) != 10 {
		t.Fatalf("setup recorded %d and %d alerts, want 20 and 10", len(early), len(late))
	}
	alertIDs := func(ds []watchdog.Delivery) []int64 {
		out := make([]int64, len(ds))
		for i, d := range ds {
			out[i] = d.AlertID
		}
		return out
	}
	wantIDs := func(as []watchdog.Alert) []int64 {
		out := make([]int64, len(as))
		for i, a := range as {
			out[i] = a.ID
		}
		slices.Sort(out)
		return out
	}
	now := At(5 * time.Minute)
	first := claim(t, s, "n1", now, 10, time.Hour)
	second := claim(t, s, "n1", now, 10, time.Hour)
	if d := cmp.Diff(wantIDs(early), append(alertIDs(first), alertIDs(second)...)); d != "" {
		t.Fatalf("two claims of 10 took (-the first pass's alerts +claimed):\n%s", d)
	}
	// Handed back due at once, at the first pass's instant: older than
	// every delivery left, and older than the last one claimed.
	back := first[0]
	finish(t, s, watchdog.DeliveryOutcome{ID: back.ID, Attempt: back.Attempts, Status: watchdog.DeliveryPending,
		RetryAt: At(time.Minute), Finished: now, Unsent: true})
	if got := claim(t, s, "n1", now, 1, time.Hour); len(got) != 1 || got[0].ID != back.ID {
		t.Fatalf("claim after a hand-back = %v, want the delivery handed back (%d) first", alertIDs(got), back.AlertID)
	}
	if d := cmp.Diff(wantIDs(late), alertIDs(claim(t, s, "n1", now, 100, time.Hour))); d != "" {
		t.Errorf("the last claim took (-the second pass's alerts +claimed):\n%s", d)
	}
	if got := claim(t, s, "n1", now, 100, time.Hour); len(got) != 0 {
		t.Errorf("claimed %d more, want none", len(got))
	}
}

func testFinishDelivery(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n1", "n2", "n3"}, "alert"))
	byName := map[string]watchdog.Delivery{}
	for _, name := range []string{"n1", "n2", "n3"} {
		got := claim(t, s, name, At(time.Minute), 10, time.Minute)
		if len(got) != 1 {
			t.Fatalf("claimed %d deliveries to %s, want 1", len(got), name)
		}
		byName[name] = got[0]
	}
	d1, d2, d3 := byName["n1"], byName["n2"], byName["n3"]
	// One batch of mixed outcomes, with a stale one for d1 that must not
	// count, as the engine's finisher records them.
	if err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{
		{ID: d1.ID, Attempt: 0, Status: watchdog.DeliveryFailed, Error: "stale", Finished: At(65 * time.Second)},
		{ID: d1.ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: At(70 * time.Second)},
		{ID: d2.ID, Attempt: 1, Status: watchdog.DeliveryFailed, Error: "HTTP 410 Gone", Finished: At(70 * time.Second)},
		{ID: d3.ID, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: At(3 * time.Minute), Error: "timeout", Finished: At(70 * time.Second)},
	}); err != nil {
		t.Fatalf("FinishDeliveries: %v", err)
	}

	check := func(what string, wantD map[string]watchdog.Delivery) {
		t.Helper()
		tk := getTicket(t, s, "a")
		if len(tk.Alerts) != 1 {
			t.Fatalf("%s: %d alerts, want 1", what, len(tk.Alerts))
		}
		gotD := map[string]watchdog.Delivery{}
		for _, d := range tk.Alerts[0].Deliveries {
			d.Alert = nil
			gotD[d.Notifier] = d
			if d.DeliveredAt != nil {
				checkUTC(t, what, *d.DeliveredAt)
			}
			checkUTC(t, what, d.NextAttemptAt)
		}
		if d := cmp.Diff(wantD, gotD); d != "" {
			t.Errorf("%s: deliveries (-want +got):\n%s", what, d)
		}
	}
	base := func(d watchdog.Delivery) watchdog.Delivery { d.Alert = nil; return d }
	w1, w2, w3 := base(d1), base(d2), base(d3)
	// Finished deliveries have no next attempt.
	w1.Status, w1.DeliveredAt, w1.NextAttemptAt = watchdog.DeliveryDelivered, TimePtr(At(70*time.Second)), time.Time{}
	w2.Status, w2.LastError, w2.NextAttemptAt = watchdog.DeliveryFailed, "HTTP 410 Gone", time.Time{}
	w3.NextAttemptAt, w3.LastError = At(3*time.Minute), "timeout"
	check("after finishing", map[string]watchdog.Delivery{"n1": w1, "n2": w2, "n3": w3})

	if at, ok, err := s.NextDelivery(t.Context(), "n3"); err != nil || !ok || !at.Equal(At(3*time.Minute)) {
		t.Errorf("NextDelivery(n3) = %s, %v, %v; want +3m", at, ok, err)
	}
	for _, name := range []string{"n1", "n2"} {
		if at, ok, err := s.NextDelivery(t.Context(), name); err != nil || ok {
			t.Errorf("NextDelivery(%s) with nothing pending = %s, %v, %v", name, at, ok, err)
		}
		if got := claim(t, s, name, At(time.Hour), 10, time.Minute); len(got) != 0 {
			t.Errorf("claimed %d finished deliveries to %s", len(got), name)
		}
	}
	if got := claim(t, s, "n3", At(3*time.Minute-time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("claimed %d deliveries before the retry", len(got))
	}
	got := claim(t, s, "n3", At(3*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].ID != d3.ID || got[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v, want n3 at attempt 2", got)
	}
	// An outcome for an earlier attempt is ignored.
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: At(3 * time.Minute)})
	w3.Attempts, w3.NextAttemptAt = 2, At(4*time.Minute)
	check("after a stale outcome", map[string]watchdog.Delivery{"n1": w1, "n2": w2, "n3": w3})

	// The lease ran out and another worker claimed it again: the first
	// worker's late outcome is ignored, the second's counts.
	got = claim(t, s, "n3", At(4*time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].Attempts != 3 {
		t.Fatalf("claim after lease = %+v, want n3 at attempt 3", got)
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 2, Status: watchdog.DeliveryFailed, Error: "late", Finished: At(4 * time.Minute)})
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 3, Status: watchdog.DeliveryDelivered, Finished: At(4*time.Minute + time.Second)})
	// No longer pending: ignored.
	finish(t, s, watchdog.DeliveryOutcome{ID: d3.ID, Attempt: 3, Status: watchdog.DeliveryFailed, Error: "after", Finished: At(4*time.Minute + 2*time.Second)})
	w3.Attempts, w3.NextAttemptAt, w3.Status, w3.LastError, w3.DeliveredAt = 3, time.Time{}, watchdog.DeliveryDelivered, "", TimePtr(At(4*time.Minute+time.Second))
	check("after delivery", map[string]watchdog.Delivery{"n1": w1, "n2": w2, "n3": w3})

	if at, ok, err := s.NextDelivery(t.Context(), "n3"); err != nil || ok {
		t.Errorf("NextDelivery with nothing pending = %s, %v, %v", at, ok, err)
	}
}

// A claimed delivery handed back unsent does not use up an attempt: the
// claim's count is taken back and the last real error kept, while the
// retry instant is the one given. A stale unsent outcome changes nothing,
// and an unsent outcome must be pending.
func testFinishDeliveryUnsent(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0))
	evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert"))
	got := claim(t, s, "n", At(time.Minute), 10, time.Minute)
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("first claim = %+v, want one delivery at attempt 1", got)
	}
	id := got[0].ID
	finish(t, s, watchdog.DeliveryOutcome{ID: id, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: At(2 * time.Minute), Error: "HTTP 503", Finished: At(70 * time.Second)})
	if got = claim(t, s, "n", At(2*time.Minute), 10, time.Minute); len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("retry claim = %+v, want attempt 2", got)
	}
	delivery := func() watchdog.Delivery {
		t.Helper()
		tk := getTicket(t, s, "a")
		if len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
			t.Fatalf("ticket alerts %+v, want one alert with one delivery", tk.Alerts)
		}
		d := tk.Alerts[0].Deliveries[0]
		d.Alert = nil
		return d
	}
	want := delivery()
	want.Attempts, want.NextAttemptAt = 1, At(2*time.Minute+time.Second)
	if err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{
		{ID: id, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: At(time.Hour), Unsent: true, Error: "stale", Finished: At(2 * time.Minute)}, // stale
		{ID: id, Attempt: 2, Status: watchdog.DeliveryPending, RetryAt: At(2*time.Minute + time.Second), Unsent: true, Finished: At(2*time.Minute + time.Second)},
	}); err != nil {
		t.Fatalf("FinishDeliveries: %v", err)
	}
	if d := cmp.Diff(want, delivery()); d != "" {
		t.Errorf("after an unsent outcome (-want +got):\n%s", d)
	}
	if want.LastError != "HTTP 503" || want.Status != watchdog.DeliveryPending {
		t.Errorf("delivery before the release: %+v", want)
	}
	// The next claim is attempt 2 again. A destination's refusal with a
	// wait (a rate limit) is unsent too, its attempt given back, but its
	// error is recorded.
	if got = claim(t, s, "n", At(2*time.Minute+time.Second), 10, time.Minute); len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("claim after the release = %+v, want attempt 2", got)
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: id, Attempt: 2, Status: watchdog.DeliveryPending, RetryAt: At(3 * time.Minute), Unsent: true, Error: "HTTP 429: rate limited", Finished: At(2*time.Minute + 2*time.Second)})
	want.NextAttemptAt, want.LastError = At(3*time.Minute), "HTTP 429: rate limited"
	if d := cmp.Diff(want, delivery()); d != "" {
		t.Errorf("after a rate-limited outcome (-want +got):\n%s", d)
	}
	// The next claim is attempt 2 again, and its outcome counts.
	if got = claim(t, s, "n", At(3*time.Minute), 10, time.Minute); len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("claim after the rate limit = %+v, want attempt 2", got)
	}
	finish(t, s, watchdog.DeliveryOutcome{ID: id, Attempt: 2, Status: watchdog.DeliveryDelivered, Finished: At(3 * time.Minute)})
	if d := delivery(); d.Status != watchdog.DeliveryDelivered || d.Attempts != 2 || d.LastError != "" || !d.NextAttemptAt.IsZero() {
		t.Errorf("after delivery: %+v", d)
	}
	for _, st := range []watchdog.DeliveryStatus{watchdog.DeliveryDelivered, watchdog.DeliveryFailed} {
		err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{{ID: id, Attempt: 2, Status: st, Unsent: true, Finished: At(4 * time.Minute)}})
		if !errors.Is(err, watchdog.ErrInvalid) {
			t.Errorf("unsent %s outcome: err = %v, want ErrInvalid", st, err)
		}
	}
}

// testFinishDeliveryAnyErrorText records outcomes whose error text (a
// destination's response, say) holds a NUL byte, bytes that are not UTF-8,
// quotes, backslashes and placeholders: the store records them, with the
// readable part of the text kept, rather than failing the batch, which
// would stop the notifier's sending until it is recorded.
func testFinishDeliveryAnyErrorText(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	for _, id := range []string{"a", "b"} {
		ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent(id, 0))
	}
	evaluate(t, s, At(time.Minute), 10, FirePlan(At(time.Minute), nil, []string{"n"}, "alert"))
	got := claim(t, s, "n", At(time.Minute), 10, time.Minute)
	if len(got) != 2 {
		t.Fatalf("claim = %+v, want two deliveries", got)
	}
	texts := map[int64]string{
		got[0].ID: "HTTP 502: \x00body\x00 \xff\xfe end",
		got[1].ID: `HTTP 400: it's a \\ "quote" $1 $2::text[] '; DROP TABLE deliveries; --`,
	}
	if err := s.FinishDeliveries(t.Context(), []watchdog.DeliveryOutcome{
		{ID: got[0].ID, Attempt: 1, Status: watchdog.DeliveryPending, RetryAt: At(2 * time.Minute), Error: texts[got[0].ID], Finished: At(70 * time.Second)},
		{ID: got[1].ID, Attempt: 1, Status: watchdog.DeliveryFailed, Error: texts[got[1].ID], Finished: At(70 * time.Second)},
	}); err != nil {
		t.Fatalf("FinishDeliveries: %v", err)
	}
	for _, id := range []string{"a", "b"} {
		tk := getTicket(t, s, id)
		if len(tk.Alerts) != 1 || len(tk.Alerts[0].Deliveries) != 1 {
			t.Fatalf("ticket %s alerts %+v, want one alert with one delivery", id, tk.Alerts)
		}
		d := tk.Alerts[0].Deliveries[0]
		want := texts[d.ID]
		switch d.Status {
		case watchdog.DeliveryPending:
			if !d.NextAttemptAt.Equal(At(2*time.Minute)) || !strings.HasPrefix(d.LastError, "HTTP 502: ") ||
				!strings.Contains(d.LastError, "body") || !strings.HasSuffix(d.LastError, " end") {
				t.Errorf("retried delivery = %+v, want its retry at %v and its error text kept (%q)", d, At(2*time.Minute), want)
			}
		case watchdog.DeliveryFailed:
			if d.LastError != want {
				t.Errorf("failed delivery's error = %q, want %q", d.LastError, want)
			}
		default:
			t.Errorf("delivery %+v, want pending or failed", d)
		}
	}
	if got := claim(t, s, "n", At(2*time.Minute), 10, time.Minute); len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("claim at the retry = %+v, want the retried delivery at attempt 2", got)
	}
}
