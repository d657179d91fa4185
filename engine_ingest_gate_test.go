package watchdog_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// backlogStore holds the engine's second claim of due tickets (the first
// of a backlog) until release is closed, and Ingest calls until their
// events' first id is let go by hold.
type backlogStore struct {
	watchdog.Store
	claims   atomic.Int64
	behind   chan struct{} // closed when the second claim starts
	release  chan struct{}
	ingests  atomic.Int64
	holdID   string
	inIngest chan struct{} // closed when holdID's ingest reaches the store
	hold     chan struct{}
}

func (s *backlogStore) EvaluateDue(ctx context.Context, now time.Time, limit int, plan watchdog.PlanFunc) ([]watchdog.Alert, error) {
	if s.claims.Add(1) == 2 {
		close(s.behind)
		<-s.release
	}
	return s.Store.EvaluateDue(ctx, now, limit, plan)
}

func (s *backlogStore) Ingest(ctx context.Context, events []watchdog.Event, plan watchdog.PlanFunc) ([]*watchdog.Ticket, error) {
	s.ingests.Add(1)
	if events[0].ID == s.holdID {
		close(s.inIngest)
		<-s.hold
	}
	return s.Store.Ingest(ctx, events, plan)
}

// heldObserver counts the Ingest calls the engine held back.
type heldObserver struct {
	watchdog.NopObserver
	held atomic.Int64
}

func (o *heldObserver) IngestHeld(time.Duration) { o.held.Add(1) }

// While the evaluation drains a backlog (a claim came back full), Ingest
// runs IngestWhileBehind calls at once; the others wait outside the store
// until the backlog drains, and then run although the first still holds
// its turn.
func TestEngineIngestWaitsWhileEvaluationIsBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(start)
	st := &backlogStore{Store: openStore(t, filepath.Join(t.TempDir(), "wd.db")),
		behind: make(chan struct{}), release: make(chan struct{}),
		holdID: "held", inIngest: make(chan struct{}), hold: make(chan struct{})}
	obs := &heldObserver{}
	eng, err := watchdog.New(st, &watchdog.Config{Clock: clock, Observer: obs, EvaluateBatch: 1, EvaluateConcurrency: 1, IngestWhileBehind: 1})
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(ctx context.Context, id string) error {
		ev := watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
		_, err := eng.Ingest(ctx, []watchdog.Event{ev})
		return err
	}
	for _, id := range []string{"due-1", "due-2", "due-3"} {
		if err := ingest(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// Past the default gold/high response alert stage (25m30s): three due
	// tickets, claimed one at a time.
	clock.Advance(time.Hour)

	evaluated := make(chan error, 1)
	go func() {
		_, err := eng.Hooks().EvaluateDue(ctx, clock.Now())
		evaluated <- err
	}()
	<-st.behind

	// One import call takes the turn and stays in the store...
	first := make(chan error, 1)
	go func() { first <- ingest(ctx, "held") }()
	<-st.inIngest
	// ...so another waits its turn, outside the store: with a context that
	// has ended it gives up without reaching it.
	before := st.ingests.Load()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := ingest(canceled, "waiting"); !errors.Is(err, context.Canceled) {
		t.Fatalf("ingest while the evaluation is behind and the turn taken = %v; want it to wait (context.Canceled)", err)
	}
	if n := st.ingests.Load(); n != before {
		t.Fatalf("the waiting ingest reached the store (%d calls, %d before)", n, before)
	}
	if n := obs.held.Load(); n != 1 {
		t.Fatalf("the observer was told of %d held ingest calls; want 1", n)
	}
	second := make(chan error, 1)
	go func() { second <- ingest(ctx, "after-drain") }()

	// The backlog drains: the waiting call runs although the first still
	// holds its turn.
	close(st.release)
	if err := wait(t, evaluated); err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	if err := wait(t, second); err != nil {
		t.Fatalf("ingest after the drain: %v", err)
	}
	close(st.hold)
	if err := wait(t, first); err != nil {
		t.Fatalf("held ingest: %v", err)
	}
	for _, id := range []string{"held", "after-drain"} {
		if _, err := eng.Ticket(ctx, id); err != nil {
			t.Fatalf("ticket %s: %v", id, err)
		}
	}
	if _, err := eng.Ticket(ctx, "waiting"); !errors.Is(err, watchdog.ErrNotFound) {
		t.Fatalf("the canceled ingest's ticket: %v; want ErrNotFound", err)
	}
}

// A backlog of backfilled alerts only (tickets imported already past their
// deadlines: none of their alerts can be on time) holds no import back.
func TestEngineIngestNotHeldByBackfilledBacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := watchdogtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st := &backlogStore{Store: openStore(t, filepath.Join(t.TempDir(), "wd.db")),
		behind: make(chan struct{}), release: make(chan struct{})}
	// One turn while behind: the narrowest gate, which must still let this
	// import through.
	eng, err := watchdog.New(st, &watchdog.Config{Clock: clock, EvaluateBatch: 1, EvaluateConcurrency: 1, IngestWhileBehind: 1})
	if err != nil {
		t.Fatal(err)
	}
	created := clock.Now().Add(-time.Hour) // past the gold/high response stages
	for _, id := range []string{"past-1", "past-2", "past-3"} {
		ev := watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created}
		if _, err := eng.Ingest(ctx, []watchdog.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	evaluated := make(chan error, 1)
	go func() {
		alerts, err := eng.Hooks().EvaluateDue(ctx, clock.Now())
		if err == nil && len(alerts) == 0 {
			err = errors.New("no alerts fired")
		}
		evaluated <- err
	}()
	<-st.behind
	before := st.ingests.Load()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	ev := watchdog.Event{ID: "new", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
	_, _ = eng.Ingest(canceled, []watchdog.Event{ev})
	if n := st.ingests.Load(); n != before+1 {
		t.Fatalf("an ingest during a backfilled backlog did not reach the store (%d calls, %d before): it was held", n, before)
	}
	if _, err := eng.Ingest(ctx, []watchdog.Event{ev}); err != nil {
		t.Fatalf("ingest during a backfilled backlog: %v", err)
	}
	close(st.release)
	if err := wait(t, evaluated); err != nil {
		t.Fatalf("evaluate: %v", err)
	}
}

func wait(t *testing.T, c <-chan error) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting after 10s")
		return nil
	}
}
