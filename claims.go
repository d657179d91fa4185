package watchdog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/scheduler"
)

// claimKeeper keeps this engine's claim on the deliveries it holds alive,
// and frees those of claimers that died.
//
// Every claim of a delivery names a holder: this engine's current holder
// id. The keeper renews the holder's heartbeat in the store every third of
// Config.ClaimTTL; a holder whose heartbeat is older than ClaimTTL is dead,
// and any engine's keeper frees its pending deliveries for the next claim
// (Store.RescueDeliveries). So a delivery queued by a process killed with
// SIGKILL waits at most ClaimTTL, not a long lease.
//
// A holder that cannot renew stops sending before its heartbeat runs out:
// a send starts only while the heartbeat is good for at least claimMargin
// more. Once it has run out, the keeper drops the deliveries queued under
// it (another engine, or this one, will claim them again after the rescue)
// and claims from then on under a new holder id. Two live engines that both
// reach the store therefore never send the same delivery.
type claimKeeper struct {
	e    *Engine
	loop *scheduler.Loop

	beat       sync.Mutex // one heartbeat at a time
	mu         sync.Mutex
	holder     string
	validUntil time.Time // zero until the first heartbeat
	healthy    bool      // the last heartbeat succeeded
	// orphans are outcomes of claimed deliveries that no delivery loop
	// will record any more (its notifier was removed or its loop stopped
	// while the store failed): the keeper records them, retrying while
	// the engine runs. Left unrecorded, a live holder's claim would keep
	// them until the claim's backstop (an hour) ran out.
	orphans []DeliveryOutcome
}

// claimMargin is how long before its heartbeat runs out a holder stops
// starting sends.
func (k *claimKeeper) margin() time.Duration { return k.e.cfg.ClaimTTL / 5 }

func newClaimKeeper(e *Engine) *claimKeeper {
	k := &claimKeeper{e: e, holder: newHolderID(), healthy: true}
	k.loop = e.newLoop(k.step, e.cfg.SweepInterval, e.cfg.ClaimTTL/10, "freeing of dead claimers' deliveries")
	return k
}

func newHolderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ensure returns the holder id to claim under, and whether deliveries
// claimed under it may be sent or claimed at now: only while its heartbeat
// is good for more than the margin. A heartbeat about to run out is renewed
// first, so that a clock that jumped (a fake one in tests, or a machine
// resuming from suspend) does not make the engine give up good claims.
func (k *claimKeeper) ensure(ctx context.Context, now time.Time) (holder string, ok bool) {
	k.mu.Lock()
	holder, ok = k.holder, now.Add(k.margin()).Before(k.validUntil)
	k.mu.Unlock()
	if ok {
		return holder, true
	}
	k.beat.Lock()
	defer k.beat.Unlock()
	k.heartbeat(ctx, now)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.holder, now.Add(k.margin()).Before(k.validUntil)
}

// step renews the heartbeat while the engine holds deliveries, then frees
// the deliveries of dead holders. It runs again a third of ClaimTTL later
// while holding, and when the next holder's heartbeat runs out; an engine
// that holds nothing and knows of no other holder sleeps until woken.
func (k *claimKeeper) step(ctx context.Context, now time.Time) (time.Time, error) {
	ttl := k.e.cfg.ClaimTTL
	holding := k.e.holding()
	if holding {
		k.beat.Lock()
		k.heartbeat(ctx, now)
		k.beat.Unlock()
	}
	k.recordOrphans(ctx)
	rctx, cancel := context.WithTimeout(ctx, ttl/3)
	freed, next, err := k.e.store.RescueDeliveries(rctx, now, k.currentHolder())
	cancel()
	if err != nil {
		return time.Time{}, err
	}
	if freed > 0 {
		k.e.log.Info("freed the deliveries of a claimer whose heartbeat ran out", "deliveries", freed)
		k.wakeDeliveries()
	}
	var at time.Time
	if holding {
		at = now.Add(ttl / 3)
	}
	if !next.IsZero() && (at.IsZero() || next.Before(at)) {
		at = next
	}
	return at, nil
}

// heartbeat renews the holder's heartbeat; the caller holds k.beat. When it
// fails past the point the heartbeat runs out, the holder is given up: its
// queued deliveries are dropped (the rescue frees their rows) and a new
// holder id takes over.
func (k *claimKeeper) heartbeat(ctx context.Context, now time.Time) {
	ttl := k.e.cfg.ClaimTTL
	k.mu.Lock()
	holder := k.holder
	k.mu.Unlock()
	hctx, cancel := context.WithTimeout(ctx, ttl/3)
	err := k.e.store.Heartbeat(hctx, holder, now.Add(ttl))
	cancel()
	k.mu.Lock()
	wasHealthy, wasValid := k.healthy, now.Before(k.validUntil)
	k.healthy = err == nil
	if err == nil {
		k.validUntil = now.Add(ttl)
		k.mu.Unlock()
		if !wasHealthy {
			k.e.log.Info("claim heartbeat renewed again; sending resumes", "holder", holder)
		}
		if !wasHealthy || !wasValid {
			k.wakeDeliveries()
		}
		return
	}
	lapsed := !k.validUntil.IsZero() && !now.Add(k.margin()).Before(k.validUntil)
	if lapsed {
		k.holder, k.validUntil = newHolderID(), time.Time{}
	}
	k.mu.Unlock()
	if wasHealthy {
		k.e.log.Error("claim heartbeat failed; sends stop before the claims run out", "holder", holder, "err", err)
	}
	if lapsed {
		for _, d := range k.e.loops() {
			d.dropQueued(holder)
		}
	}
}

// currentHolder is the holder id claims are made under now.
func (k *claimKeeper) currentHolder() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.holder
}

// wakeDeliveries makes every delivery loop look again at once.
func (k *claimKeeper) wakeDeliveries() {
	for _, d := range k.e.activeLoops() {
		d.loop.Wake()
	}
}

// release ends the holder's heartbeat as the engine stops, after its
// deliveries were handed back, so that nothing waits for it to run out.
func (k *claimKeeper) release(ctx context.Context) {
	k.mu.Lock()
	holder := k.holder
	k.validUntil = time.Time{}
	k.mu.Unlock()
	// Best effort and brief: should the store not answer, the heartbeat
	// runs out by itself within ClaimTTL.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(k.e.cfg.ClaimTTL, 2*time.Second))
	defer cancel()
	_ = k.e.store.Heartbeat(rctx, holder, k.e.clock.Now())
}

// adopt takes over outcomes no delivery loop will record, and wakes the
// keeper to record them.
func (k *claimKeeper) adopt(outs []DeliveryOutcome) {
	if len(outs) == 0 {
		return
	}
	k.mu.Lock()
	k.orphans = append(k.orphans, outs...)
	k.mu.Unlock()
	k.loop.Wake()
}

// orphaned reports whether adopted outcomes wait to be recorded.
func (k *claimKeeper) orphaned() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.orphans) > 0
}

// recordOrphans records the adopted outcomes; those it cannot are kept
// for the next step, which comes a third of ClaimTTL later while they
// make the engine hold deliveries.
func (k *claimKeeper) recordOrphans(ctx context.Context) {
	k.mu.Lock()
	outs := k.orphans
	k.orphans = nil
	k.mu.Unlock()
	if len(outs) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, k.e.cfg.ClaimTTL/3)
	err := k.e.store.FinishDeliveries(rctx, outs)
	cancel()
	if err == nil {
		k.e.log.Info("recorded the outcomes of deliveries whose delivery loop had stopped", "deliveries", len(outs))
		return
	}
	k.mu.Lock()
	k.orphans = append(outs, k.orphans...)
	k.mu.Unlock()
}
