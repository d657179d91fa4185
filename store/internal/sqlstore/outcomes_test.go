package sqlstore

import (
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// ChangedOutcomes deletes a cycle's row under its old key when a planned
// cycle continues it, and a running cycle that is gone; a stopped cycle no
// planned cycle continues stays.
func TestChangedOutcomesStaleCycles(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 2, 9, m, 0, 0, time.UTC) }
	cyc := func(start, stop int) watchdog.Outcome {
		o := watchdog.Outcome{TicketID: "t", SLAClock: watchdog.NextReply, StartedAt: at(start), Target: time.Hour}
		if stop > 0 {
			s := at(stop)
			o.StoppedAt, o.RecordedAt = &s, &s
		}
		return o
	}
	upd := func(start, stop int) watchdog.Outcome {
		o := cyc(start, stop)
		o.Business = time.Minute // differs from the prior row
		return o
	}
	prior := []watchdog.Outcome{cyc(20, 30), cyc(40, 45), cyc(50, 0)}
	// 20..30 moved to 18..30; 40..45 no longer on the timeline; the running
	// 50.. is gone.
	w := ChangedOutcomes(prior, []watchdog.Outcome{upd(18, 30)})
	if len(w.Upserts) != 1 || !w.Upserts[0].StartedAt.Equal(at(18)) {
		t.Errorf("upserts %+v", w.Upserts)
	}
	var stale []time.Time
	for _, o := range w.Stale {
		stale = append(stale, o.StartedAt)
	}
	if len(stale) != 2 || !stale[0].Equal(at(20)) || !stale[1].Equal(at(50)) {
		t.Errorf("stale rows start at %v, want 09:20 (moved) and 09:50 (running, gone)", stale)
	}
	// The same cycle re-derived unchanged writes nothing.
	if w := ChangedOutcomes(prior, []watchdog.Outcome{cyc(20, 30), cyc(40, 45), cyc(50, 0)}); len(w.Upserts)+len(w.Stale) != 0 {
		t.Errorf("unchanged: %+v", w)
	}
}
