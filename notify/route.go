package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/ticket-watchdog/watchdog"
)

// Match selects alerts by their fields. Each non-empty list must contain the
// alert's value (compared case-insensitively); an empty list matches any
// value, so the zero Match matches every alert. A pattern ending in "*"
// matches by prefix, e.g. Stages: []string{"escalation-*"} for every
// escalation step after breach.
type Match struct {
	// Tiers are customer tiers (Alert.CustomerTier), e.g. "gold".
	Tiers []string
	// Priorities are ticket priorities (Alert.Priority), e.g. "high".
	Priorities []string
	// States are alert states (Alert.State): "alert" or "breach".
	States []string
	// Stages are stage names (Alert.Stage): "alert", "breach", "escalation-N".
	Stages []string
	// SLAClocks are SLA clocks (Alert.Clock): response or resolution.
	SLAClocks []watchdog.SLAClock
}

// Matches reports whether a satisfies every non-empty list of m.
func (m Match) Matches(a watchdog.Alert) bool {
	if !matchAny(m.Tiers, a.CustomerTier) || !matchAny(m.Priorities, a.Priority) ||
		!matchAny(m.States, a.State) || !matchAny(m.Stages, a.Stage) {
		return false
	}
	if len(m.SLAClocks) == 0 {
		return true
	}
	for _, c := range m.SLAClocks {
		if matchOne(string(c), string(a.SLAClock)) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, v string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if matchOne(p, v) {
			return true
		}
	}
	return false
}

func matchOne(pattern, v string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return len(v) >= len(prefix) && strings.EqualFold(v[:len(prefix)], prefix)
	}
	return strings.EqualFold(pattern, v)
}

// Route sends the alerts its Match selects to its Notifier.
type Route struct {
	Match    Match
	Notifier watchdog.Notifier
	// Continue keeps matching later routes after this one matched, so one
	// alert can go to several notifiers. By default the first matching route
	// wins, as in Alertmanager.
	Continue bool
}

// Router returns a Notifier that sends each alert to the notifier of the
// first route whose Match selects it, and also to later matching routes
// while the matched route has Continue set. An alert no route selects goes to
// fallback; with a nil fallback it is dropped and Deliver reports success,
// since there is nothing to deliver. Routes with a nil Notifier match but
// deliver nothing, which makes them a way to silence alerts.
//
// When an alert goes to several notifiers, Router behaves like Fanout: the
// notifiers are called concurrently and, for an outbox retry, only those that
// have not succeeded or failed permanently are called again.
func Router(routes []Route, fallback watchdog.Notifier) watchdog.Notifier {
	g := newGroup(DefaultRemembered)
	// member[i] is the group index of route i's notifier, -1 when it has none.
	member := make([]int, len(routes))
	for i, r := range routes {
		member[i] = -1
		if r.Notifier != nil {
			member[i] = g.add(fmt.Sprintf("route %d", i), r.Notifier)
		}
	}
	fb := -1
	if fallback != nil {
		fb = g.add("fallback", fallback)
	}
	// Routes are copied so that a caller changing its slice later does not
	// change routing under a running engine.
	rs := append([]Route(nil), routes...)
	return watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
		var idx []int
		matched := false
		for i, r := range rs {
			if !r.Match.Matches(a) {
				continue
			}
			matched = true
			if member[i] >= 0 {
				idx = append(idx, member[i])
			}
			if !r.Continue {
				break
			}
		}
		if !matched && fb >= 0 {
			idx = append(idx, fb)
		}
		return g.deliver(ctx, a, idx)
	})
}
