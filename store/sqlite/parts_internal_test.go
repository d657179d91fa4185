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

// openParts opens a store whose evaluations record parts of part tickets,
// with n tickets due at one minute, and returns their events.
func openParts(t *testing.T, part, n int) (*Store, []watchdog.Event) {
	t.Helper()
	s := openAt(t, filepath.Join(t.TempDir(), "parts.db"))
	s.evalPart = part
	var evs []watchdog.Event
	for i := range n {
		evs = append(evs, storetest.NewEvent(fmt.Sprintf("t%d", i), 0))
	}
	if _, err := s.Ingest(context.Background(), evs, storetest.OpenPlan(storetest.TimePtr(storetest.At(time.Minute)))); err != nil {
		t.Fatal(err)
	}
	return s, evs
}

// TestEvaluationInPartsLetsRecordingsIn: an evaluation of more preloaded
// tickets than a part records them in parts, one transaction each; a
// notifier's bookkeeping that waits meanwhile goes in between two parts,
// an import waiting goes after the last, and every ticket fires once.
func TestEvaluationInPartsLetsRecordingsIn(t *testing.T) {
	ctx := context.Background()
	s, evs := openParts(t, 3, 10)
	now := storetest.At(5 * time.Minute)
	fire := storetest.FirePlan(now, nil, []string{"slack"}, "alert")

	var (
		mu     sync.Mutex
		order  []string
		calls  int
		others sync.WaitGroup
	)
	note := func(what string) {
		mu.Lock()
		order = append(order, what)
		mu.Unlock()
	}
	write := func(what string, class writeClass) {
		defer others.Done()
		if err := s.inWriteAs(ctx, what, class, func(tx *sql.Tx) error {
			note(what)
			s.noteNoPlanInputs()
			return nil
		}); err != nil {
			t.Error(err)
		}
	}
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		mu.Lock()
		calls++
		first := calls%3 == 1
		mu.Unlock()
		if first {
			note("part")
		}
		if calls == 1 {
			// Both wait at the gate while the first part holds it.
			others.Add(2)
			go write("import", normalWrite)
			go write("recording", urgentWrite)
			for deadline := time.Now().Add(10 * time.Second); s.gate.waiting() != 2; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("%d writes wait at the gate, want 2", s.gate.waiting())
					break
				}
			}
		}
		return fire(tk)
	}
	got, err := s.EvaluateDuePreplanned(ctx, now, 10, fire, plan)
	if err != nil {
		t.Fatal(err)
	}
	others.Wait()
	want := []string{"part", "recording", "part", "part", "part", "import"}
	if d := cmp.Diff(want, order); d != "" {
		t.Errorf("order of the writes (-want +got):\n%s", d)
	}
	fired := map[string]int{}
	for _, a := range got {
		fired[a.TicketID]++
	}
	for _, e := range evs {
		if fired[e.ID] != 1 {
			t.Errorf("ticket %s: %d alerts returned, want 1", e.ID, fired[e.ID])
		}
		tk, err := s.Ticket(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.Alerts) != 1 || tk.EscalationLevel != 1 {
			t.Errorf("ticket %s: %d alerts stored at level %d, want 1 and 1", e.ID, len(tk.Alerts), tk.EscalationLevel)
		}
	}
	if n := s.inputs.reservedCount(); n != 0 {
		t.Errorf("%d tickets still reserved after the evaluation returned", n)
	}
}

// TestEvaluationInPartsKeepsWhatCommitted: a part that fails after others
// committed ends the evaluation with their alerts and its error, and the
// tickets it did not record stay due for the next evaluation.
func TestEvaluationInPartsKeepsWhatCommitted(t *testing.T) {
	ctx := context.Background()
	s, _ := openParts(t, 2, 5)
	now := storetest.At(5 * time.Minute)
	fire := storetest.FirePlan(now, nil, []string{"slack"}, "alert")
	evalCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	calls := 0
	plan := func(tk *watchdog.Ticket) watchdog.Plan {
		calls++
		if calls == 3 {
			cancel() // the second part's transaction cannot commit
		}
		return fire(tk)
	}
	got, err := s.EvaluateDuePreplanned(evalCtx, now, 5, fire, plan)
	if err == nil {
		t.Fatal("an evaluation whose second part failed returned no error")
	}
	if len(got) != 2 {
		t.Fatalf("%d alerts returned with %v, want the first part's 2", len(got), err)
	}
	rest, err := s.EvaluateDue(ctx, now, 10, fire)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 3 {
		t.Errorf("the next evaluation fired %d, want the 3 not recorded", len(rest))
	}
}

// TestConformanceInParts runs the conformance suite with evaluations
// recorded in parts of two tickets.
func TestConformanceInParts(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t testing.TB) (watchdog.Store, func(testing.TB) watchdog.Store) {
			path := filepath.Join(t.TempDir(), "watchdog.db")
			open := func(t testing.TB, cfg *Config) watchdog.Store {
				s, err := Open(context.Background(), path, cfg)
				if err != nil {
					t.Fatal(err)
				}
				s.evalPart = 2
				t.Cleanup(func() { s.Close() })
				return s
			}
			return open(t, nil), func(t testing.TB) watchdog.Store { return open(t, &Config{SkipMigrate: true}) }
		},
	})
}
