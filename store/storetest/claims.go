package storetest

import (
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// testClaimsRescue: a claim names its holder and is kept only by the
// holder's heartbeat. RescueDeliveries frees the pending deliveries of a
// holder whose heartbeat ended (due at once, attempts unchanged), leaves a
// live holder's and settled deliveries alone, removes the dead holder, and
// reports when the next heartbeat runs out. Hand-off claims are rescued the
// same way.
func testClaimsRescue(t *testing.T, h Harness) {
	s, _ := h.Open(t)
	ctx := t.Context()
	ingest(t, s, OpenPlan(TimePtr(At(time.Minute))), NewEvent("a", 0), NewEvent("b", 0), NewEvent("c", 0))
	now := At(time.Minute)
	// a's delivery is handed off to holder "dead" at recording; b's and c's
	// are claimed afterwards by "dead" and "live".
	evaluate(t, s, now, 10, func(tk *watchdog.Ticket) watchdog.Plan {
		p := FirePlan(now, nil, []string{"n"}, "alert")(tk)
		if tk.ID == "a" {
			p.Claimed, p.ClaimedBy, p.ClaimedUntil = []string{"n"}, "dead", At(time.Hour)
		}
		return p
	})
	b := claimAs(t, s, "dead", "n", now, 1, time.Hour)
	c := claimAs(t, s, "live", "n", now, 1, time.Hour)
	if len(b) != 1 || len(c) != 1 {
		t.Fatalf("claims took %d and %d deliveries, want 1 and 1", len(b), len(c))
	}
	heartbeat := func(holder string, until time.Time) {
		t.Helper()
		if err := s.Heartbeat(ctx, holder, until); err != nil {
			t.Fatalf("Heartbeat(%s): %v", holder, err)
		}
	}
	heartbeat("self", At(time.Minute+2*time.Second)) // never reported as next
	heartbeat("dead", At(time.Minute+5*time.Second))
	heartbeat("live", At(time.Minute+3*time.Second))
	heartbeat("live", At(time.Minute+9*time.Second)) // renewed
	rescue := func(at time.Time, wantFreed int, wantNext time.Time) {
		t.Helper()
		freed, next, err := s.RescueDeliveries(ctx, at, "self")
		if err != nil {
			t.Fatalf("RescueDeliveries: %v", err)
		}
		if freed != wantFreed || !next.Equal(wantNext) {
			t.Errorf("RescueDeliveries(%s) = %d freed, next %s; want %d, %s", at.Format(time.RFC3339), freed, next, wantFreed, wantNext)
		}
		if !next.IsZero() {
			checkUTC(t, "next heartbeat end", next)
		}
	}
	rescue(At(time.Minute+4*time.Second), 0, At(time.Minute+5*time.Second))
	if got := claimAs(t, s, "other", "n", At(time.Minute+4*time.Second), 10, time.Hour); len(got) != 0 {
		t.Fatalf("claimed %d deliveries whose holders are alive", len(got))
	}
	// "dead" stops renewing: at the end of its heartbeat its two deliveries
	// come free, due at once, their attempts unchanged.
	rescue(At(time.Minute+5*time.Second), 2, At(time.Minute+9*time.Second))
	rescue(At(time.Minute+6*time.Second), 0, At(time.Minute+9*time.Second))
	for _, id := range []string{"a", "b"} {
		d := getTicket(t, s, id).Alerts[0].Deliveries[0]
		if d.Attempts != 1 || d.Status != watchdog.DeliveryPending || !d.NextAttemptAt.Equal(At(time.Minute+5*time.Second)) {
			t.Errorf("%s's rescued delivery: %+v; want pending at attempt 1, due at the rescue", id, d)
		}
	}
	got := claimAs(t, s, "new", "n", At(time.Minute+6*time.Second), 10, time.Hour)
	if len(got) != 2 || got[0].Attempts != 2 || got[1].Attempts != 2 {
		t.Fatalf("claim after the rescue = %+v, want a's and b's deliveries at attempt 2", got)
	}
	// A recorded outcome lets the holder go: "live" settles c's delivery,
	// so its death frees nothing. Ending a heartbeat early (an engine
	// stopping) counts at once.
	finish(t, s, watchdog.DeliveryOutcome{ID: c[0].ID, Attempt: 1, Status: watchdog.DeliveryDelivered, Finished: At(time.Minute + 7*time.Second)})
	heartbeat("new", At(time.Minute+7*time.Second))
	rescue(At(time.Minute+8*time.Second), 2, At(time.Minute+9*time.Second))
	rescue(At(time.Minute+9*time.Second), 0, time.Time{})
	if d := getTicket(t, s, "c").Alerts[0].Deliveries[0]; d.Status != watchdog.DeliveryDelivered {
		t.Errorf("c's delivery after its holder's death: %+v, want delivered", d)
	}
}
