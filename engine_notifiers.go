package watchdog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// runState is what Run shares with SetNotifiersAndPolicy while it runs:
// the context the delivery loops run under and the group Run waits on.
type runState struct {
	ctx context.Context
	wg  *sync.WaitGroup
}

// loopNotifier is the notifier a delivery loop sends with, and how many
// deliveries one send takes: MaxBatch for a BatchNotifier (within
// DeliveryBatch), else 1.
type loopNotifier struct {
	n     Notifier
	group int
}

func (e *Engine) loopNotifier(n Notifier) *loopNotifier {
	ln := &loopNotifier{n: n, group: 1}
	if bn, ok := n.(BatchNotifier); ok && bn.MaxBatch() > 1 {
		ln.group = min(bn.MaxBatch(), e.cfg.DeliveryBatch)
	}
	return ln
}

// newDeliveryLoop returns the delivery loop of notifier n named name.
func (e *Engine) newDeliveryLoop(name string, n Notifier) *deliveryLoop {
	d := &deliveryLoop{e: e, name: name, failures: newDestinationLog()}
	d.cur.Store(e.loopNotifier(n))
	d.loop = e.newLoop(d.step, e.cfg.SweepInterval, 0, "claiming of deliveries", "notifier", name)
	return d
}

// startLoop runs d under Run's context until it is done or d is cancelled
// (its notifier removed); e.mu is held and Run is running.
func (e *Engine) startLoop(d *deliveryLoop) {
	ctx, cancel := context.WithCancel(e.run.ctx)
	done := make(chan struct{})
	d.cancel, d.done = cancel, done
	e.run.wg.Add(1)
	go func() {
		defer e.run.wg.Done()
		defer close(done)
		defer cancel()
		d.run(ctx)
		e.mu.Lock()
		delete(e.retiring, d)
		e.mu.Unlock()
	}()
}

// loops returns every delivery loop, those of removed notifiers still
// finishing their sends included.
func (e *Engine) loops() []*deliveryLoop {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*deliveryLoop, 0, len(e.delivery)+len(e.retiring))
	for _, d := range e.delivery {
		out = append(out, d)
	}
	for d := range e.retiring {
		out = append(out, d)
	}
	return out
}

// activeLoops returns the delivery loops of the notifiers in the set.
func (e *Engine) activeLoops() []*deliveryLoop {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Collect(maps.Values(e.delivery))
}

// activeLoop returns the delivery loop of notifier name; nil when the set
// has none.
func (e *Engine) activeLoop(name string) *deliveryLoop {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.delivery[name]
}

// notifierNames returns the notifiers' names, sorted; the slice is never
// changed (a swap replaces it).
func (e *Engine) notifierNames() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.notifiers
}

// notifierSet returns the notifiers' names, sorted, and the notifiers by
// name; neither is ever changed (a swap replaces them).
func (e *Engine) notifierSet() ([]string, map[string]Notifier) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.notifiers, e.named
}

// notifier returns the notifier named name; nil when none.
func (e *Engine) notifier(name string) Notifier {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.named[name]
}

// SetNotifiersAndPolicy puts a new set of notifiers in force together with
// policy p, as a reload of an SLA file whose notifications section changes
// its receivers does, then recomputes the open tickets (as
// SetPolicyAndReplan) and re-routes the deliveries not yet attempted
// (Reroute).
//
// ns is the whole set, by name, as Config.Notifiers. A name new to the
// engine gets its delivery loop, running at once when Run runs. A name
// that stays keeps its loop, with its claims, pause and pacing; its
// notifier is replaced for the sends that start from now on (a changed
// URL or secret). A name no longer in ns stops claiming: its sends in
// flight finish and are recorded, what it had queued is handed back, and
// SetNotifiersAndPolicy waits for that (within ctx) before re-routing, so
// that its deliveries never attempted are cancelled (DeliveryCancelled)
// with or without a notifications section. Its deliveries that were
// attempted and wait for a retry stay pending, and resume should a
// notifier of that name come back. What was delivered is never sent again.
//
// p's notifications section must name only receivers in ns.
func (e *Engine) SetNotifiersAndPolicy(ctx context.Context, ns map[string]Notifier, p *Policy) error {
	if p == nil {
		return errors.New("watchdog: policy is nil")
	}
	if err := (&Config{Notifiers: ns}).validateNotifiers(); err != nil {
		return err
	}
	if err := checkReceivers(p, ns); err != nil {
		return err
	}
	gone, stopping, added := e.swapNotifiers(ns, p)
	for _, done := range stopping {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("watchdog: waiting for removed notifiers' sends: %w", ctx.Err())
		}
	}
	if len(gone)+len(added) > 0 {
		e.log.Info("notifiers changed", "added", added, "removed", slices.Sorted(maps.Keys(gone)))
	}
	if err := e.Replan(ctx); err != nil {
		return err
	}
	return e.reroute(ctx, gone)
}

// swapNotifiers puts ns and p in force at once, and returns the names
// removed, the done channels of their running loops, and the names added.
func (e *Engine) swapNotifiers(ns map[string]Notifier, p *Policy) (gone map[string]bool, stopping []<-chan struct{}, added []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	gone = map[string]bool{}
	for name, d := range e.delivery {
		if _, ok := ns[name]; ok {
			continue
		}
		gone[name] = true
		delete(e.delivery, name)
		if e.run != nil && d.done != nil { // running: started by this Run
			e.retiring[d] = true
			d.cancel()
			stopping = append(stopping, d.done)
		}
	}
	e.named = maps.Clone(ns)
	e.notifiers = slices.Sorted(maps.Keys(e.named))
	for _, name := range e.notifiers {
		if d := e.delivery[name]; d != nil {
			d.cur.Store(e.loopNotifier(ns[name]))
			continue
		}
		d := e.newDeliveryLoop(name, ns[name])
		e.delivery[name] = d
		added = append(added, name)
		if e.run != nil {
			e.startLoop(d)
		}
	}
	e.policy.Store(p)
	return gone, stopping, added
}
