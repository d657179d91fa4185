package postgres

import (
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// TestEvaluationSortsFiredRows: a plan that changes only the state, the due
// instant and the escalation level goes to the narrow update; one that
// changes any other derived column goes to the full one, and one that
// changes nothing to neither.
func TestEvaluationSortsFiredRows(t *testing.T) {
	base := func() *watchdog.Ticket {
		return &watchdog.Ticket{ID: "t", State: watchdog.TicketOK, Open: true, Policy: "p",
			NextDueAt: storetest.TimePtr(storetest.At(time.Hour)), BreachAt: storetest.TimePtr(storetest.At(2 * time.Hour))}
	}
	planOf := func(t *watchdog.Ticket) watchdog.Plan {
		return watchdog.Plan{State: t.State, Untracked: t.Untracked, Open: t.Open, Policy: t.Policy,
			NextDueAt: t.NextDueAt, BreachAt: t.BreachAt, BackfilledAt: t.BackfilledAt}
	}
	for _, c := range []struct {
		name        string
		change      func(*watchdog.Plan)
		fired, full int
	}{
		{"unchanged", func(*watchdog.Plan) {}, 0, 0},
		{"state", func(p *watchdog.Plan) { p.State = watchdog.TicketAlert }, 1, 0},
		{"due", func(p *watchdog.Plan) { p.NextDueAt = storetest.TimePtr(storetest.At(90 * time.Minute)) }, 1, 0},
		{"alert", func(p *watchdog.Plan) {
			p.Alerts = []watchdog.Alert{{SLAClock: watchdog.Response, Stage: "warn", DueAt: storetest.At(time.Hour)}}
		}, 1, 0},
		{"breach", func(p *watchdog.Plan) { p.BreachAt = storetest.TimePtr(storetest.At(3 * time.Hour)) }, 0, 1},
		{"open", func(p *watchdog.Plan) { p.Open = false }, 0, 1},
		{"untracked", func(p *watchdog.Plan) { p.Untracked = "on hold" }, 0, 1},
		{"policy", func(p *watchdog.Plan) { p.Policy = "q" }, 0, 1},
		{"backfilled", func(p *watchdog.Plan) { p.BackfilledAt = storetest.TimePtr(storetest.At(0)) }, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := evaluation{now: storetest.At(time.Hour), plans: map[string]watchdog.Plan{}}
			tk := base()
			p := planOf(tk)
			c.change(&p)
			e.add(tk, p)
			if got := len(e.fired.id); got != c.fired {
				t.Errorf("narrow update rows = %d, want %d", got, c.fired)
			}
			if got := len(e.rows.id); got != c.full {
				t.Errorf("full update rows = %d, want %d", got, c.full)
			}
		})
	}
}
