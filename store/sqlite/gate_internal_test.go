package sqlite

import (
	"context"
	"testing"
	"time"
)

// waitQueued waits until n callers wait at the gate.
func waitQueued(t *testing.T, g *writeGate, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.mu.Lock()
		got := len(g.urgent) + len(g.normal)
		g.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiting at the gate, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWriteGateUrgentFirstThenArrival(t *testing.T) {
	var g writeGate
	ctx := context.Background()
	if err := g.enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 4)
	arrive := func(name string, urgent bool, queued int) {
		go func() {
			if err := g.enter(ctx, urgent); err != nil {
				t.Error(err)
				return
			}
			order <- name
			g.leave()
		}()
		waitQueued(t, &g, queued)
	}
	arrive("ingest", false, 1)
	arrive("evaluate", false, 2)
	arrive("finish", true, 3)
	arrive("heartbeat", true, 4)
	g.leave()
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	want := []string{"finish", "heartbeat", "ingest", "evaluate"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
	if err := g.enter(ctx, false); err != nil {
		t.Fatalf("the gate is not free after the last leave: %v", err)
	}
}

func TestWriteGateGivingUpPassesItOn(t *testing.T) {
	var g writeGate
	if err := g.enter(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- g.enter(ctx, true) }()
	waitQueued(t, &g, 1)
	got := make(chan struct{})
	go func() {
		if err := g.enter(context.Background(), false); err == nil {
			close(got)
		}
	}()
	waitQueued(t, &g, 2)
	cancel()
	if err := <-gaveUp; err == nil {
		t.Fatal("enter returned nil after its context ended")
	}
	g.leave()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter behind one that gave up never got the gate")
	}
}
