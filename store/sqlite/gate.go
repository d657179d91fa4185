package sqlite

import (
	"context"
	"slices"
	"sync"
)

// writeGate hands the one writer connection to the write transactions
// waiting for it, in order of arrival within four classes: the urgent ones
// (a notifier's delivery bookkeeping: recording outcomes, claiming,
// heartbeats, freeing a dead holder's claims) before any other, then an
// evaluation recorded in parts that let urgent ones in between (yield),
// then an evaluation of tickets due on time, then the rest (imports among
// them). A notifier may send only so many deliveries before their
// outcomes are recorded, so a recording stuck behind evaluation passes and
// imports holds up its sends: under a bulk import, Slack trailed the
// WebSocket stream by a second. An evaluation that waited behind an
// import's batches in arrival order was late by as many of them as had
// arrived first. database/sql, left to itself, hands a freed connection to
// a random waiter.
type writeGate struct {
	mu     sync.Mutex
	held   bool
	queues [writeClasses][]chan struct{} // by class
}

// writeClass is a write transaction's place at the gate: a higher class
// goes first.
type writeClass int

const (
	normalWrite writeClass = iota
	// dueWrite is an evaluation of tickets due on time (see
	// preloaded.class): it goes before the imports waiting.
	dueWrite
	// partWrite is a holder that let the urgent writes go first (yield)
	// and takes the gate back before anything else.
	partWrite
	urgentWrite
	writeClasses
)

// enter waits until the caller holds the gate, or ctx is done.
func (g *writeGate) enter(ctx context.Context, class writeClass) error {
	g.mu.Lock()
	if !g.held {
		g.held = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	g.queues[class] = append(g.queues[class], ch)
	g.mu.Unlock()
	return g.await(ctx, ch)
}

// await waits until ch is closed, handing its caller the gate, or ctx is
// done.
func (g *writeGate) await(ctx context.Context, ch chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	g.giveUp(ch)
	return ctx.Err()
}

// giveUp takes ch, whose caller stopped waiting, off its queue; when it was
// handed the gate meanwhile, it passes the gate on.
func (g *writeGate) giveUp(ch chan struct{}) {
	g.mu.Lock()
	queued := false
	for c := range g.queues {
		if i := slices.Index(g.queues[c], ch); i >= 0 {
			g.queues[c] = slices.Delete(g.queues[c], i, i+1)
			queued = true
		}
	}
	g.mu.Unlock()
	if !queued {
		g.leave()
	}
}

// yield lets the urgent writes waiting, if any, go before the holder's
// next transaction: it hands the gate to the first of them and waits to
// take it back once no urgent write waits (urgent ones arriving meanwhile
// go first too), before any other. It returns nil holding the gate, or
// ctx's error no longer holding it.
func (g *writeGate) yield(ctx context.Context) error {
	g.mu.Lock()
	urgent := g.queues[urgentWrite]
	if len(urgent) == 0 {
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	g.queues[partWrite] = slices.Insert(g.queues[partWrite], 0, ch)
	next := urgent[0]
	g.queues[urgentWrite] = urgent[1:]
	close(next)
	g.mu.Unlock()
	return g.await(ctx, ch)
}

// waiting is how many callers wait at the gate.
func (g *writeGate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, q := range g.queues {
		n += len(q)
	}
	return n
}

// leave hands the gate to the next waiter, the highest class first.
func (g *writeGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := writeClasses - 1; c >= 0; c-- {
		if q := g.queues[c]; len(q) > 0 {
			next := q[0]
			g.queues[c] = q[1:]
			close(next)
			return
		}
	}
	g.held = false
}
