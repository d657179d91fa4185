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
		got := g.waiting()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiting at the gate, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// arrivals returns a function that starts a caller named name waiting at
// g in class, which sends its name to order once it holds the gate and
// leaves, and returns once queued callers wait.
func arrivals(t *testing.T, g *writeGate, order chan<- string) func(name string, class writeClass, queued int) {
	return func(name string, class writeClass, queued int) {
		go func() {
			if err := g.enter(context.Background(), class); err != nil {
				t.Error(err)
				return
			}
			order <- name
			g.leave()
		}()
		waitQueued(t, g, queued)
	}
}

func TestWriteGateByClassThenArrival(t *testing.T) {
	var g writeGate
	ctx := context.Background()
	if err := g.enter(ctx, normalWrite); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 7)
	arrive := arrivals(t, &g, order)
	arrive("ingest", normalWrite, 1)
	arrive("evaluate backfilled", normalWrite, 2)
	arrive("evaluate due", dueWrite, 3)
	arrive("evaluate due too", dueWrite, 4)
	arrive("evaluation's next part", partWrite, 5)
	arrive("finish", urgentWrite, 6)
	arrive("heartbeat", urgentWrite, 7)
	g.leave()
	var got []string
	for range 7 {
		got = append(got, <-order)
	}
	want := []string{"finish", "heartbeat", "evaluation's next part", "evaluate due", "evaluate due too", "ingest", "evaluate backfilled"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
	if err := g.enter(ctx, normalWrite); err != nil {
		t.Fatalf("the gate is not free after the last leave: %v", err)
	}
}

func TestWriteGateGivingUpPassesItOn(t *testing.T) {
	var g writeGate
	if err := g.enter(context.Background(), normalWrite); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- g.enter(ctx, urgentWrite) }()
	waitQueued(t, &g, 1)
	got := make(chan struct{})
	go func() {
		if err := g.enter(context.Background(), normalWrite); err == nil {
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

func TestWriteGateYieldLetsUrgentWritesInOnly(t *testing.T) {
	var g writeGate
	ctx := context.Background()
	if err := g.enter(ctx, normalWrite); err != nil {
		t.Fatal(err)
	}
	if err := g.yield(ctx); err != nil {
		t.Fatalf("yield with nobody waiting: %v", err)
	}
	order := make(chan string, 4)
	arrive := arrivals(t, &g, order)
	arrive("ingest", normalWrite, 1)
	arrive("finish", urgentWrite, 2)
	arrive("heartbeat", urgentWrite, 3)
	if err := g.yield(ctx); err != nil {
		t.Fatal(err)
	}
	order <- "next part"
	g.leave()
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	want := []string{"finish", "heartbeat", "next part", "ingest"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestWriteGateYieldGivingUp(t *testing.T) {
	var g writeGate
	if err := g.enter(context.Background(), normalWrite); err != nil {
		t.Fatal(err)
	}
	urgentHeld := make(chan struct{})
	urgentGo := make(chan struct{})
	go func() {
		if err := g.enter(context.Background(), urgentWrite); err != nil {
			t.Error(err)
			return
		}
		close(urgentHeld)
		<-urgentGo
		g.leave()
	}()
	waitQueued(t, &g, 1)
	ctx, cancel := context.WithCancel(context.Background())
	yielded := make(chan error, 1)
	go func() { yielded <- g.yield(ctx) }()
	<-urgentHeld
	cancel()
	if err := <-yielded; err == nil {
		t.Fatal("yield returned nil after its context ended while another held the gate")
	}
	close(urgentGo)
	// The yielder no longer holds the gate: once the urgent write leaves,
	// it is free.
	entered := make(chan struct{})
	go func() {
		if err := g.enter(context.Background(), normalWrite); err == nil {
			close(entered)
		}
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the gate was not free after the yielder gave up and the urgent write left")
	}
}
