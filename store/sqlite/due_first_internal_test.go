package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// TestEvaluationOnTimeGoesBeforeImports: an evaluation of tickets due on
// time that waits for the writer goes before an import that was waiting
// first; one of tickets whose stages an import found already past
// (backfilled) waits its turn behind it. Either way with and without parts.
func TestEvaluationOnTimeGoesBeforeImports(t *testing.T) {
	due := storetest.At(time.Minute)
	for _, tc := range []struct {
		name       string
		backfilled *time.Time
		part       int
		want       []string
	}{
		{"on time", nil, evaluationPart, []string{"evaluation", "import"}},
		{"on time, in parts", nil, 2, []string{"evaluation", "import"}},
		// The import that found the stages past was written after them.
		{"backfilled", storetest.TimePtr(storetest.At(2 * time.Minute)), evaluationPart, []string{"import", "evaluation"}},
		{"backfilled, in parts", storetest.TimePtr(storetest.At(2 * time.Minute)), 2, []string{"import", "evaluation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := openAt(t, filepath.Join(t.TempDir(), "due.db"))
			s.evalPart = tc.part
			var evs []watchdog.Event
			for i := range 5 {
				evs = append(evs, storetest.NewEvent(fmt.Sprintf("t%d", i), 0))
			}
			if _, err := s.Ingest(ctx, evs, func(*watchdog.Ticket) watchdog.Plan {
				return watchdog.Plan{State: watchdog.TicketOK, Open: true, NextDueAt: &due, BackfilledAt: tc.backfilled}
			}); err != nil {
				t.Fatal(err)
			}
			var (
				mu    sync.Mutex
				order []string
				wg    sync.WaitGroup
			)
			note := func(what string) {
				mu.Lock()
				defer mu.Unlock()
				if len(order) == 0 || order[len(order)-1] != what {
					order = append(order, what)
				}
			}
			// A write in progress holds the gate while an import, then the
			// evaluation, queue for it.
			if err := s.gate.enter(ctx, normalWrite); err != nil {
				t.Fatal(err)
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				if err := s.inWrite(ctx, "import", func(*sql.Tx) error {
					note("import")
					return nil
				}); err != nil {
					t.Error(err)
				}
			}()
			waitQueued(t, &s.gate, 1)
			now := storetest.At(5 * time.Minute)
			fire := storetest.FirePlan(now, nil, []string{"slack"}, "alert")
			var alerts []watchdog.Alert
			go func() {
				defer wg.Done()
				var err error
				alerts, err = s.EvaluateDuePreplanned(ctx, now, 10, fire, func(tk *watchdog.Ticket) watchdog.Plan {
					note("evaluation")
					return fire(tk)
				})
				if err != nil {
					t.Error(err)
				}
			}()
			waitQueued(t, &s.gate, 2)
			s.gate.leave()
			wg.Wait()
			if d := cmp.Diff(tc.want, order); d != "" {
				t.Errorf("order of the writes (-want +got):\n%s", d)
			}
			if len(alerts) != len(evs) {
				t.Errorf("%d alerts recorded, want %d", len(alerts), len(evs))
			}
		})
	}
}
