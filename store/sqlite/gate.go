package sqlite

import (
	"context"
	"slices"
	"sync"
)

// writeGate hands the one writer connection to the write transactions
// waiting for it, in order of arrival within two classes: the urgent ones
// (a notifier's delivery bookkeeping: recording outcomes, claiming,
// heartbeats, freeing a dead holder's claims) before any other. A notifier
// may send only so many deliveries before their outcomes are recorded, so
// a recording stuck behind evaluation passes and imports holds up its
// sends: under a bulk import, Slack trailed the WebSocket stream by a
// second. database/sql, left to itself, hands a freed connection to a
// random waiter.
type writeGate struct {
	mu     sync.Mutex
	held   bool
	urgent []chan struct{}
	normal []chan struct{}
}

// enter waits until the caller holds the gate, or ctx is done.
func (g *writeGate) enter(ctx context.Context, urgent bool) error {
	g.mu.Lock()
	if !g.held {
		g.held = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if urgent {
		g.urgent = append(g.urgent, ch)
	} else {
		g.normal = append(g.normal, ch)
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	queued := false
	for _, q := range []*[]chan struct{}{&g.urgent, &g.normal} {
		if i := slices.Index(*q, ch); i >= 0 {
			*q = slices.Delete(*q, i, i+1)
			queued = true
		}
	}
	g.mu.Unlock()
	if !queued {
		g.leave() // handed over as ctx ended: pass it on
	}
	return ctx.Err()
}

// leave hands the gate to the next waiter, urgent ones first.
func (g *writeGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var next chan struct{}
	switch {
	case len(g.urgent) > 0:
		next, g.urgent = g.urgent[0], g.urgent[1:]
	case len(g.normal) > 0:
		next, g.normal = g.normal[0], g.normal[1:]
	default:
		g.held = false
		return
	}
	close(next)
}
