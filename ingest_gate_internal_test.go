package watchdog

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestIngestGate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	g := newIngestGate(1)

	// Nothing behind: no wait, however many enter.
	for range 3 {
		leave, _, err := g.enter(canceled)
		if err != nil {
			t.Fatalf("enter with nothing behind: %v", err)
		}
		defer leave()
	}

	drained := g.draining()
	leave, held, err := g.enter(ctx)
	if err != nil || held {
		t.Fatalf("first enter while behind: held %v, %v; want a free slot at once", held, err)
	}
	// The one slot is taken: a second call waits, here until its context
	// ends.
	if _, held, err := g.enter(canceled); !errors.Is(err, context.Canceled) || !held {
		t.Fatalf("second enter while behind and the slot taken: held %v, %v; want it held (context.Canceled)", held, err)
	}
	got := make(chan func(), 1)
	go func() {
		l, _, err := g.enter(ctx)
		if err != nil {
			t.Errorf("waiting enter: %v", err)
		}
		got <- l
	}()
	leave() // the waiter takes the slot
	second := receive(t, got)

	// A second evaluation behind keeps the gate shut after the first drains.
	drained2 := g.draining()
	drained()
	drained() // idempotent
	if _, _, err := g.enter(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("enter while a second evaluation is behind = %v; want it to wait", err)
	}
	go func() {
		l, _, err := g.enter(ctx)
		if err != nil {
			t.Errorf("enter during the drain: %v", err)
		}
		got <- l
	}()
	// The drain lets the waiter through although the slot is still held.
	drained2()
	receive(t, got)()
	second()

	// Unlimited: never waits.
	u := newIngestGate(-1)
	defer u.draining()()
	for range 3 {
		if _, _, err := u.enter(canceled); err != nil {
			t.Fatalf("enter on an unlimited gate: %v", err)
		}
	}
}

func receive(t *testing.T, c <-chan func()) func() {
	t.Helper()
	select {
	case f := <-c:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("enter still waiting after 10s")
		return nil
	}
}
