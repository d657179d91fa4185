package watchdog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// backlogStore holds the engine's second claim of due tickets (the first
// of a backlog) until release is closed, and the Ingest calls of events
// whose id starts with "held" until hold is closed. It does not implement
// watchdog.SerialIngest (an embedded interface promotes only its own
// methods), so the engine treats it as a store whose ingest runs side by
// side; serialBacklogStore does implement it.
type backlogStore struct {
	watchdog.Store
	claims  atomic.Int64
	behind  chan struct{} // closed when the second claim starts
	release chan struct{}
	ingests atomic.Int64
	entered chan string // the ids of held calls, as they reach the store
	hold    chan struct{}
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
	if strings.HasPrefix(events[0].ID, "held") {
		s.entered <- events[0].ID
		<-s.hold
	}
	return s.Store.Ingest(ctx, events, plan)
}

type serialBacklogStore struct{ *backlogStore }

func (serialBacklogStore) SerialIngest() {}

// heldObserver counts the Ingest calls the engine held back.
type heldObserver struct {
	watchdog.NopObserver
	held atomic.Int64
}

func (o *heldObserver) IngestHeld(time.Duration) { o.held.Add(1) }

// backlog is an engine whose evaluation is held in its backlog: three
// tickets due, claimed one at a time, the second claim waiting for
// st.release.
type backlog struct {
	t     *testing.T
	st    *backlogStore
	eng   *watchdog.Engine
	obs   *heldObserver
	clock *watchdogtest.Clock
	// evaluated is closed when the evaluation, once released, has
	// returned; evalErr is its error.
	evaluated chan struct{}
	evalErr   error
}

// startBacklog ingests three tickets created at created (before the clock
// moves an hour on, so their stages are on time; an hour earlier, so they
// are backfilled) and starts the evaluation. serial wraps the store as one
// whose ingest runs one at a time.
func startBacklog(t *testing.T, width int, serial bool, created time.Duration) *backlog {
	t.Helper()
	ctx := context.Background()
	clock := watchdogtest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	b := &backlog{t: t, clock: clock, obs: &heldObserver{}, evaluated: make(chan struct{}),
		st: &backlogStore{Store: openStore(t, filepath.Join(t.TempDir(), "wd.db")),
			behind: make(chan struct{}), release: make(chan struct{}), entered: make(chan string, 4), hold: make(chan struct{})}}
	var st watchdog.Store = b.st
	if serial {
		st = serialBacklogStore{b.st}
	}
	var err error
	b.eng, err = watchdog.New(st, &watchdog.Config{Clock: clock, Observer: b.obs, EvaluateBatch: 1, EvaluateConcurrency: 1, IngestWhileBehind: width})
	if err != nil {
		t.Fatal(err)
	}
	at := clock.Now().Add(created)
	for _, id := range []string{"due-1", "due-2", "due-3"} {
		ev := watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: at, UpdatedAt: at}
		if _, err := b.eng.Ingest(ctx, []watchdog.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	// The default gold/high response alert stage is due 25m30s after
	// creation.
	if created == 0 {
		clock.Advance(time.Hour)
	}
	go func() {
		defer close(b.evaluated)
		alerts, err := b.eng.Hooks().EvaluateDue(ctx, clock.Now())
		tickets := map[string]bool{}
		for _, a := range alerts {
			tickets[a.TicketID] = true
		}
		if err == nil && len(tickets) != 3 {
			err = fmt.Errorf("the evaluation fired alerts for %d tickets; want the three due", len(tickets))
		}
		b.evalErr = err
	}()
	<-b.st.behind
	// Release the evaluation before the store closes, if a test fails
	// before it does.
	t.Cleanup(func() {
		select {
		case <-b.st.release:
		default:
			close(b.st.release)
		}
		select {
		case <-b.st.hold:
		default:
			close(b.st.hold)
		}
		<-b.evaluated
		if b.evalErr != nil {
			t.Errorf("evaluate: %v", b.evalErr)
		}
	})
	return b
}

func (b *backlog) ingest(ctx context.Context, id string) error {
	ev := watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now()}
	_, err := b.eng.Ingest(ctx, []watchdog.Event{ev})
	return err
}

// occupy starts n import calls that must reach the store and stay there until
// hold is closed; their results go to the returned channel.
func (b *backlog) occupy(n int) <-chan error {
	done := make(chan error, n)
	for i := range n {
		id := "held-" + string(rune('a'+i))
		go func() { done <- b.ingest(context.Background(), id) }()
		select {
		case <-b.st.entered:
		case <-time.After(10 * time.Second):
			b.t.Fatalf("import call %d of %d did not reach the store within 10s", i+1, n)
		}
	}
	return done
}

// reaches reports whether an import call with an ended context got as far
// as the store, rather than waiting for its turn.
func (b *backlog) reaches() bool {
	b.t.Helper()
	before := b.st.ingests.Load()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.ingest(canceled, "canceled"); !errors.Is(err, context.Canceled) {
		b.t.Fatalf("ingest with an ended context = %v; want context.Canceled", err)
	}
	return b.st.ingests.Load() != before
}

// While the evaluation drains a backlog (a claim came back full), Ingest
// runs IngestWhileBehind calls at once; the others wait outside the store
// until the backlog drains, and then run although the first still holds
// its turn.
func TestEngineIngestWaitsWhileEvaluationIsBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := startBacklog(t, 1, false, 0)
	first := b.occupy(1)
	if b.reaches() {
		t.Fatal("a second ingest reached the store while the evaluation was behind and the one turn was taken")
	}
	if n := b.obs.held.Load(); n != 1 {
		t.Fatalf("the observer was told of %d held ingest calls; want 1", n)
	}
	second := make(chan error, 1)
	go func() { second <- b.ingest(ctx, "after-drain") }()

	// The backlog drains: the waiting call runs although the first still
	// holds its turn.
	if err := b.drain(); err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	if err := wait(t, second); err != nil {
		t.Fatalf("ingest after the drain: %v", err)
	}
	close(b.st.hold)
	if err := wait(t, first); err != nil {
		t.Fatalf("held ingest: %v", err)
	}
	for _, id := range []string{"held-a", "after-drain"} {
		if _, err := b.eng.Ticket(ctx, id); err != nil {
			t.Fatalf("ticket %s: %v", id, err)
		}
	}
	if _, err := b.eng.Ticket(ctx, "canceled"); !errors.Is(err, watchdog.ErrNotFound) {
		t.Fatalf("the canceled ingest's ticket: %v; want ErrNotFound", err)
	}
}

// A backlog of backfilled alerts only (tickets imported already past their
// deadlines: none of their alerts can be on time) holds no import back,
// even with the narrowest gate.
func TestEngineIngestNotHeldByBackfilledBacklog(t *testing.T) {
	t.Parallel()
	b := startBacklog(t, 1, false, -time.Hour)
	b.occupy(1)
	if !b.reaches() {
		t.Fatal("an ingest during a backfilled backlog did not reach the store: it was held")
	}
	if n := b.obs.held.Load(); n != 0 {
		t.Fatalf("the observer was told of %d held ingest calls; want none", n)
	}
}

// The default width: one call at a time on a store whose ingest runs side
// by side, no limit on one that runs it one at a time (SerialIngest).
func TestEngineIngestWhileBehindDefault(t *testing.T) {
	t.Parallel()
	t.Run("side by side", func(t *testing.T) {
		t.Parallel()
		b := startBacklog(t, 0, false, 0)
		b.occupy(1)
		if b.reaches() {
			t.Fatal("a second ingest reached the store while the evaluation was behind; want one at a time by default")
		}
	})
	t.Run("serial", func(t *testing.T) {
		t.Parallel()
		b := startBacklog(t, 0, true, 0)
		b.occupy(2)
		if !b.reaches() {
			t.Fatal("an ingest on a SerialIngest store was held; want no limit by default")
		}
	})
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

// drain releases the evaluation and returns its error.
func (b *backlog) drain() error {
	b.t.Helper()
	close(b.st.release)
	select {
	case <-b.evaluated:
		return b.evalErr
	case <-time.After(10 * time.Second):
		b.t.Fatal("the evaluation still runs 10s after its release")
		return nil
	}
}
