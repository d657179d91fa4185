package watchdog

import (
	"slices"
	"testing"
)

func queuedIDs(from, to int64, holder string) []claimedDelivery {
	var cs []claimedDelivery
	for id := from; id <= to; id++ {
		cs = append(cs, claimedDelivery{Delivery: Delivery{ID: id}, holder: holder})
	}
	return cs
}

func ids(cs []claimedDelivery) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// The queue is one FIFO over every push: a pop takes across the pushes'
// boundaries and splits a push where its max or the tokens end.
func TestDeliveryQueueIsFIFOAcrossPushes(t *testing.T) {
	var q deliveryQueue
	q.open(4, 100)
	q.push(queuedIDs(1, 3, "h"))
	q.push(nil)
	q.push(queuedIDs(4, 4, "h"))
	q.push(queuedIDs(5, 9, "h"))
	if n := q.queued(); n != 9 {
		t.Fatalf("queued = %d, want 9", n)
	}
	for _, want := range [][]int64{{1, 2}, {3, 4, 5, 6}, {7}, {8, 9}} {
		cs, tokened, ok := q.pop(len(want))
		if !ok || !tokened || !slices.Equal(ids(cs), want) {
			t.Fatalf("pop(%d) = %v, %v, %v; want %v", len(want), ids(cs), tokened, ok, want)
		}
		q.done(true, q.pausedUntil)
	}
	if n := q.queued(); n != 0 {
		t.Errorf("queued after draining = %d", n)
	}
	// A push after the queue drained starts over.
	q.push(queuedIDs(10, 11, "h"))
	if cs, _, _ := q.pop(5); !slices.Equal(ids(cs), []int64{10, 11}) {
		t.Errorf("pop after refill = %v", ids(cs))
	}
}

// Tokens bound what one pop takes, and what is popped no longer sits in
// the queue's storage (a popped delivery is not kept alive by it).
func TestDeliveryQueuePopTakesNoMoreThanTokens(t *testing.T) {
	var q deliveryQueue
	q.open(4, 3)
	first := queuedIDs(1, 2, "h")
	q.push(first)
	q.push(queuedIDs(3, 6, "h"))
	cs, _, _ := q.pop(10)
	if !slices.Equal(ids(cs), []int64{1, 2, 3}) {
		t.Fatalf("pop with 3 tokens = %v", ids(cs))
	}
	if first[0].ID != 0 || first[1].ID != 0 {
		t.Errorf("the popped push still holds %v", ids(first))
	}
	if n := q.queued(); n != 3 {
		t.Errorf("queued = %d, want 3", n)
	}
	q.done(true, q.pausedUntil)
	q.release(2)
	if cs, _, _ := q.pop(10); !slices.Equal(ids(cs), []int64{4, 5}) {
		t.Errorf("pop with 2 tokens back = %v", ids(cs))
	}
}

// dropHolder removes one holder's deliveries from every push, popped part
// or not, and keeps the order of the rest.
func TestDeliveryQueueDropHolderKeepsTheRestInOrder(t *testing.T) {
	var q deliveryQueue
	q.open(4, 100)
	q.push(append(queuedIDs(1, 3, "a"), queuedIDs(4, 5, "b")...))
	q.push(queuedIDs(6, 7, "b"))
	q.push(queuedIDs(8, 9, "a"))
	if cs, _, _ := q.pop(2); !slices.Equal(ids(cs), []int64{1, 2}) {
		t.Fatalf("pop = %v", ids(cs))
	}
	q.done(true, q.pausedUntil)
	if n := q.dropHolder("b"); n != 4 {
		t.Errorf("dropHolder = %d, want 4", n)
	}
	if n := q.queued(); n != 3 {
		t.Errorf("queued = %d, want 3", n)
	}
	if cs, _, _ := q.pop(10); !slices.Equal(ids(cs), []int64{3, 8, 9}) {
		t.Errorf("pop after the drop = %v", ids(cs))
	}
	if n := q.dropHolder("a"); n != 0 {
		t.Errorf("dropHolder on an empty queue = %d", n)
	}
}

// A closed queue drains what it holds without tokens, then reports done.
func TestDeliveryQueueDrainsAfterClose(t *testing.T) {
	var q deliveryQueue
	q.open(1, 1)
	q.push(queuedIDs(1, 2, "h"))
	q.push(queuedIDs(3, 3, "h"))
	q.close()
	if q.push(queuedIDs(4, 4, "h")) {
		t.Error("push after close accepted")
	}
	cs, tokened, ok := q.pop(10)
	if !ok || tokened || !slices.Equal(ids(cs), []int64{1, 2, 3}) {
		t.Errorf("pop after close = %v, %v, %v", ids(cs), tokened, ok)
	}
	if _, _, ok := q.pop(10); ok {
		t.Error("pop of a closed, empty queue reported ok")
	}
}
