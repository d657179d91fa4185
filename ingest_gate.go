package watchdog

import (
	"context"
	"sync"
)

// ingestGate lets alerts due now go before a bulk import. While the
// evaluation is behind (a claim of due tickets came back full with alerts
// on time, until the claims drain), at most a few Ingest calls run at once
// and the rest wait in the process, not in the database: on a machine the
// import keeps busy, every ingest transaction running beside a pass takes a
// share of the CPU and of the store's writer that the pass then lacks, and
// its tickets' alerts are late by as much. The import resumes at its full
// width as soon as the claims drain, so it loses only the time the backlog
// took.
type ingestGate struct {
	slots chan struct{} // nil: no limit

	mu     sync.Mutex
	behind int           // evaluations now draining a backlog
	clear  chan struct{} // closed when behind drops to zero
}

func newIngestGate(width int) *ingestGate {
	g := &ingestGate{}
	if width > 0 {
		g.slots = make(chan struct{}, width)
	}
	return g
}

// draining marks an evaluation behind until the returned func is called.
func (g *ingestGate) draining() (done func()) {
	if g.slots == nil {
		return func() {}
	}
	g.mu.Lock()
	if g.behind == 0 {
		g.clear = make(chan struct{})
	}
	g.behind++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			if g.behind--; g.behind == 0 {
				close(g.clear)
			}
			g.mu.Unlock()
		})
	}
}

// enter waits, while an evaluation is behind, for one of the gate's slots,
// and returns the func that gives it back; held reports that it had to
// wait. It returns at once when nothing is behind, and stops waiting when
// the backlog drains or ctx is done.
func (g *ingestGate) enter(ctx context.Context) (leave func(), held bool, err error) {
	if g.slots == nil {
		return func() {}, false, nil
	}
	g.mu.Lock()
	behind, clear := g.behind > 0, g.clear
	g.mu.Unlock()
	if !behind {
		return func() {}, false, nil
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, false, nil
	default:
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true, nil
	case <-clear:
		return func() {}, true, nil
	case <-ctx.Done():
		return nil, true, ctx.Err()
	}
}
