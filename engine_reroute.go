package watchdog

import (
	"context"
	"fmt"
	"time"
)

// rerouteBatch is how many alerts one step of a re-routing reads.
const rerouteBatch = 500

// Reroute re-routes the deliveries not yet attempted under the
// notifications section of the policy in force, after a policy change:
// a pending delivery never attempted whose receiver the routes no longer
// pick is cancelled (DeliveryCancelled), a receiver they now pick gains a
// delivery, and a delivery's hold follows its route's delivery hours. What
// was attempted or delivered is never touched, so nothing is sent again.
// Without a notifications section it does nothing. SetPolicyAndReplan
// and SetNotifiersAndPolicy call it.
func (e *Engine) Reroute(ctx context.Context) error {
	return e.reroute(ctx, nil)
}

// reroute is Reroute that also cancels the deliveries not yet attempted of
// the notifiers in gone, which the engine no longer has, with or without a
// notifications section.
func (e *Engine) reroute(ctx context.Context, gone map[string]bool) error {
	p := e.policy.Load()
	n := p.Notifications
	if n == nil && len(gone) == 0 {
		return nil
	}
	var (
		after   int64
		changed = map[string]bool{}
		total   int
	)
	for {
		if e.policy.Load() != p {
			return nil // a newer policy's own re-routing takes over
		}
		alerts, err := e.store.UnsentAlerts(ctx, after, rerouteBatch)
		if err != nil {
			return fmt.Errorf("watchdog: re-route unsent deliveries: %w", err)
		}
		if len(alerts) == 0 {
			break
		}
		now := e.clock.Now()
		r := Reroute{Now: now}
		for _, a := range alerts {
			t, err := e.rerouteTicket(ctx, n, a)
			if err != nil {
				return err
			}
			rerouteAlert(n, a, t, now, gone, &r)
			after = a.ID
		}
		if len(r.Cancel)+len(r.Hold)+len(r.Add) > 0 {
			if err := e.store.Reroute(ctx, r); err != nil {
				return fmt.Errorf("watchdog: re-route unsent deliveries: %w", err)
			}
			total += len(r.Cancel) + len(r.Hold) + len(r.Add)
			for _, h := range r.Hold {
				changed[h.Notifier] = true
			}
			for _, a := range r.Add {
				changed[a.Notifier] = true
			}
		}
		if len(alerts) < rerouteBatch {
			break
		}
	}
	if total > 0 {
		e.log.Info("unsent deliveries re-routed after a policy change", "changes", total)
	}
	for name := range changed {
		if d := e.activeLoop(name); d != nil {
			d.loop.Wake()
		}
	}
	return nil
}

// rerouteAlert adds to r the changes that re-route alert a's unsent
// deliveries under n (nil: only those to the notifiers in gone, which are
// cancelled).
func rerouteAlert(n *Notifications, a Alert, t *Ticket, now time.Time, gone map[string]bool, r *Reroute) {
	if n == nil {
		for _, d := range a.Deliveries {
			if d.Status == DeliveryPending && d.Attempts == 0 && gone[d.Notifier] {
				r.Cancel = append(r.Cancel, DeliveryRef{AlertID: a.ID, Notifier: d.Notifier})
			}
		}
		return
	}
	wanted := map[string]*Route{}
	for _, rd := range n.Resolve(a, t) {
		wanted[rd.Receiver] = rd.Route
	}
	have := map[string]Delivery{}
	for _, d := range a.Deliveries {
		have[d.Notifier] = d
	}
	for _, d := range a.Deliveries {
		if d.Status != DeliveryPending || d.Attempts != 0 {
			continue
		}
		route, ok := wanted[d.Notifier]
		ref := DeliveryRef{AlertID: a.ID, Notifier: d.Notifier}
		if !ok {
			r.Cancel = append(r.Cancel, ref)
			continue
		}
		held := route.heldUntil(a, now)
		if !sameHold(d.HeldUntil, held) {
			r.Hold = append(r.Hold, DeliveryHold{DeliveryRef: ref, HeldUntil: held})
		}
	}
	for name, route := range wanted {
		if _, ok := have[name]; !ok {
			r.Add = append(r.Add, DeliveryAdd{AlertID: a.ID, PlannedDelivery: PlannedDelivery{Notifier: name, HeldUntil: route.heldUntil(a, now)}})
		}
	}
}

// sameHold reports whether a stored hold equals a computed one (zero: none).
func sameHold(stored *time.Time, held time.Time) bool {
	if stored == nil {
		return held.IsZero()
	}
	return stored.Equal(held.Truncate(time.Microsecond))
}

// rerouteTicket reads alert a's ticket when the routes match on its tags
// or attributes (which alerts do not carry); nil otherwise.
func (e *Engine) rerouteTicket(ctx context.Context, n *Notifications, a Alert) (*Ticket, error) {
	if !n.usesTicketFields() {
		return nil, nil
	}
	t, err := e.store.Ticket(ctx, a.TicketID)
	if err != nil {
		return nil, fmt.Errorf("watchdog: re-route unsent deliveries: %w", err)
	}
	return t, nil
}
