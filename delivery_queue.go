package watchdog

import (
	"sync"
)

// deliveryQueue is the FIFO between a notifier's claimers (its claim loop
// and the evaluations handing off) and its workers. It is unbounded so that
// an evaluation never waits for a slow notifier; DeliveryBatch bounds what
// the claim loop adds and DeliveryBacklog what hand-offs add.
type deliveryQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []claimedDelivery
	head   int
	closed bool
	inited bool
}

func (q *deliveryQueue) lock() {
	q.mu.Lock()
	if !q.inited {
		q.cond, q.closed, q.inited = sync.NewCond(&q.mu), true, true
	}
}

// open starts accepting items (Run starting).
func (q *deliveryQueue) open() {
	q.lock()
	q.closed = false
	q.mu.Unlock()
}

// close stops accepting items; pop drains what is queued, then reports
// false.
func (q *deliveryQueue) close() {
	q.lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *deliveryQueue) isOpen() bool {
	q.lock()
	defer q.mu.Unlock()
	return !q.closed
}

func (q *deliveryQueue) push(cs []claimedDelivery) bool {
	q.lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.items = append(q.items, cs...)
	q.cond.Broadcast()
	return true
}

// pop waits for an item and takes it with up to max-1 more that are
// queued already; it reports false once the queue is closed and empty.
func (q *deliveryQueue) pop(max int) ([]claimedDelivery, bool) {
	q.lock()
	defer q.mu.Unlock()
	for q.head == len(q.items) && !q.closed {
		q.cond.Wait()
	}
	if q.head == len(q.items) {
		return nil, false
	}
	n := min(max, len(q.items)-q.head)
	cs := make([]claimedDelivery, n)
	copy(cs, q.items[q.head:q.head+n])
	clear(q.items[q.head : q.head+n])
	q.head += n
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 1024 && q.head*2 >= len(q.items):
		m := copy(q.items, q.items[q.head:])
		clear(q.items[m:])
		q.items, q.head = q.items[:m], 0
	}
	return cs, true
}

// tokenPool is a counting semaphore whose acquire takes n tokens at once,
// so that senders waiting for room never hold part of it.
type tokenPool struct {
	mu   sync.Mutex
	cond *sync.Cond
	used int
	max  int
}

func (p *tokenPool) init(max int) {
	p.mu.Lock()
	if p.cond == nil {
		p.cond = sync.NewCond(&p.mu)
	}
	p.used, p.max = 0, max
	p.mu.Unlock()
}

func (p *tokenPool) acquire(n int) {
	p.mu.Lock()
	for p.used+n > p.max && p.used > 0 {
		p.cond.Wait()
	}
	p.used += n
	p.mu.Unlock()
}

func (p *tokenPool) release(n int) {
	p.mu.Lock()
	p.used -= n
	p.cond.Broadcast()
	p.mu.Unlock()
}
