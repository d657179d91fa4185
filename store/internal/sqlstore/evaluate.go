package sqlstore

import (
	"cmp"
	"slices"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// NewAlerts returns the alerts of a plan for t that t has not recorded yet
// (by StageKey, t.Alerts holding those recorded), ready to insert: each
// raises t's escalation level by one and carries the new level, t's id, no
// ID and no Deliveries, and times to the microsecond in UTC. An alert
// without a priority, a tier or a firing instant takes t's and now.
func NewAlerts(t *watchdog.Ticket, planned []watchdog.Alert, now time.Time) []watchdog.Alert {
	rec := newKeySet(len(t.Alerts) + len(planned))
	for _, a := range t.Alerts {
		rec.add(a.Key())
	}
	var out []watchdog.Alert
	for i, a := range planned {
		if rec.has(a.Key()) {
			continue
		}
		rec.add(a.Key())
		if out == nil {
			out = make([]watchdog.Alert, 0, len(planned)-i)
		}
		t.EscalationLevel++
		a.ID, a.TicketID, a.EscalationLevel, a.Deliveries = 0, t.ID, t.EscalationLevel, nil
		a.Priority = cmp.Or(a.Priority, t.Priority)
		a.CustomerTier = cmp.Or(a.CustomerTier, t.CustomerTier)
		if a.FiredAt.IsZero() {
			a.FiredAt = now
		}
		a.DueAt, a.FiredAt = micro(a.DueAt), micro(a.FiredAt)
		out = append(out, a)
	}
	return out
}

// Target is one delivery to enqueue for each alert a plan records.
type Target struct {
	Notifier string
	// Claimed marks a delivery the caller sends itself (watchdog.Plan.Claimed):
	// it is stored with one attempt, held by Holder, next attempted at Until.
	Claimed bool
	Holder  string
	Until   time.Time
	// Status is the row's status: "pending", or a status recorded without
	// sending (superseded, acknowledged).
	Status watchdog.DeliveryStatus
	// HeldUntil, when set, is the held row's next attempt (and held_until).
	HeldUntil time.Time
}

// Row is the deliveries row of t for the recorded alert a, under id: due
// at t.At(a.FiredAt), with one attempt when claimed, held until
// t.HeldUntil, times to the microsecond in UTC. The row keeps its due
// instant whatever its status; Returned gives the delivery as a read of
// the row does.
func (t Target) Row(id int64, a *watchdog.Alert) watchdog.Delivery {
	d := watchdog.Delivery{ID: id, AlertID: a.ID, Notifier: t.Notifier, Status: t.Status, NextAttemptAt: micro(t.At(a.FiredAt))}
	if t.Claimed {
		d.Attempts = 1
	}
	if !t.HeldUntil.IsZero() {
		held := micro(t.HeldUntil)
		d.HeldUntil = &held
	}
	return d
}

// Returned is a freshly written deliveries row d as a read of it gives it:
// no next attempt unless pending.
func Returned(d watchdog.Delivery) watchdog.Delivery {
	if d.Status != watchdog.DeliveryPending {
		d.NextAttemptAt = time.Time{}
	}
	return d
}

// At is when the delivery of a, fired at firedAt, is first due: its
// claim's lease, its hold, or its firing instant.
func (t Target) At(firedAt time.Time) time.Time {
	switch {
	case t.Claimed:
		return t.Until
	case !t.HeldUntil.IsZero():
		return t.HeldUntil
	}
	return firedAt
}

// TargetsFor lists the deliveries of alert a under plan p: p.Routed's for
// a when the plan routes, else Targets(p, now). Only pending rows due at
// once are claimed.
func TargetsFor(p watchdog.Plan, a watchdog.Alert, now time.Time) []Target {
	if p.Routed == nil {
		return Targets(p, now)
	}
	planned := p.Routed[a.Key()]
	until := p.ClaimedUntil
	if until.IsZero() {
		until = now
	}
	out := make([]Target, 0, len(planned))
	for _, d := range planned {
		t := Target{Notifier: d.Notifier, Status: cmp.Or(d.Status, watchdog.DeliveryPending)}
		switch {
		case t.Status != watchdog.DeliveryPending:
		case !d.HeldUntil.IsZero():
			t.HeldUntil = micro(d.HeldUntil)
		case slices.Contains(p.Claimed, d.Notifier):
			t.Claimed, t.Holder, t.Until = true, p.ClaimedBy, micro(until)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Target) int { return cmp.Compare(a.Notifier, b.Notifier) })
	return slices.CompactFunc(out, func(a, b Target) bool { return a.Notifier == b.Notifier })
}

// Targets lists p's notifiers once each, in name order, with those the
// caller claimed leased until p.ClaimedUntil (now when unset).
func Targets(p watchdog.Plan, now time.Time) []Target {
	names := slices.Clone(p.Notifiers)
	slices.Sort(names)
	names = slices.Compact(names)
	until := p.ClaimedUntil
	if until.IsZero() {
		until = now
	}
	out := make([]Target, len(names))
	for i, n := range names {
		out[i].Notifier, out[i].Status = n, watchdog.DeliveryPending
		if slices.Contains(p.Claimed, n) {
			out[i].Claimed, out[i].Holder, out[i].Until = true, p.ClaimedBy, micro(until)
		}
	}
	return out
}

// micro truncates t to the microsecond, the precision every store keeps, in
// UTC, so that what a store returns equals what a later read gives.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// keySet is a set of stage keys: a slice searched in order for the
// handful of alerts most tickets have, a map for more. A pass asks it
// for every ticket it fires.
type keySet struct {
	list []watchdog.StageKey
	set  map[watchdog.StageKey]bool
}

func newKeySet(n int) keySet {
	if n > 16 {
		return keySet{set: make(map[watchdog.StageKey]bool, n)}
	}
	return keySet{list: make([]watchdog.StageKey, 0, n)}
}

func (s *keySet) has(k watchdog.StageKey) bool {
	if s.set != nil {
		return s.set[k]
	}
	return slices.Contains(s.list, k)
}

func (s *keySet) add(k watchdog.StageKey) {
	switch {
	case s.set != nil:
		s.set[k] = true
	case !slices.Contains(s.list, k):
		s.list = append(s.list, k)
	}
}
