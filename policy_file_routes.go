package watchdog

import (
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// routes parses the ordered routes list.
func (ps *parser) routes(e *entry, n *Notifications, p *Policy) {
	items, ok := ps.sequence(e.val, e.path)
	if !ok {
		return
	}
	if len(items) == 0 {
		ps.add(e.key.Line, e.path, "no routes: add at least one (a route without match takes every alert)")
	}
	// The digest interval is per receiver: routes sharing one must agree.
	interval := map[string]*Route{}
	for i, it := range items {
		path := e.path + "[" + itoa(i) + "]"
		r := ps.route(&entry{name: path, path: path, key: it, val: it}, n, p)
		if r == nil {
			continue
		}
		n.Routes = append(n.Routes, r)
		for _, name := range r.Receivers {
			if other := interval[name]; other != nil && other.GroupInterval != r.GroupInterval {
				ps.add(r.Line, path+".group_interval", "receiver %s has group_interval %s in the route at line %d: routes sharing a receiver must agree",
					name, shortDuration(other.GroupInterval), other.Line)
				continue
			}
			interval[name] = r
		}
	}
}

func (ps *parser) route(e *entry, n *Notifications, p *Policy) *Route {
	before := ps.count()
	entries, ok := ps.mapping(e.val, e.path, exact)
	if !ok {
		return nil
	}
	r := &Route{Line: e.val.Line, Inhibit: true}
	hasReceivers, hasExcept, hasDuring := false, false, false
	for i := range entries {
		f := &entries[i]
		switch f.name {
		case "match":
			r.Match = ps.match(f, routeMatchKeys...)
		case "receivers":
			hasReceivers = true
			r.Receivers = ps.routeReceivers(f, n)
		case "continue":
			r.Continue = ps.boolean(f)
		case "inhibit":
			r.Inhibit = ps.boolean(f)
		case "group_interval":
			r.GroupInterval = ps.interval(f, time.Second, maxGroupInterval)
		case "ack_timeout":
			r.AckTimeout = ps.interval(f, time.Minute, maxAckTimeout)
		case "deliver_during":
			hasDuring = true
			r.DeliverDuringName, r.DeliverDuring = ps.deliverDuring(f, p)
		case "deliver_during_except":
			hasExcept, r.DeliverDuringExcept = true, ps.stageNames(f, p)
		default:
			ps.unknown(f, "match", "receivers", "continue", "group_interval", "deliver_during", "deliver_during_except", "inhibit", "ack_timeout")
		}
	}
	if !hasReceivers {
		ps.add(r.Line, e.path+".receivers", "missing: the receivers this route sends to")
	}
	if !hasDuring && hasExcept {
		ps.add(r.Line, e.path+".deliver_during_except", "needs deliver_during")
	}
	if ps.count() != before {
		return nil
	}
	return r
}

func (ps *parser) routeReceivers(f *entry, n *Notifications) []string {
	items, ok := ps.sequence(f.val, f.path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		ps.add(f.val.Line, f.path, "empty: name at least one receiver")
	}
	var out []string
	for _, it := range items {
		name, ok := ps.str(it, f.path)
		if !ok {
			continue
		}
		if !ps.declared[name] {
			ps.add(it.Line, f.path, "unknown receiver %s (declared: %s)", show(name), strings.Join(n.ReceiverNames(), ", "))
			continue
		}
		if slices.Contains(out, name) {
			ps.add(it.Line, f.path, "receiver %s is listed twice", show(name))
			continue
		}
		out = append(out, name)
	}
	return out
}

func (ps *parser) boolean(f *entry) bool {
	if f.val.Kind == yaml.ScalarNode && f.val.ShortTag() == "!!bool" {
		var b bool
		if err := f.val.Decode(&b); err == nil {
			return b
		}
	}
	ps.add(f.val.Line, f.path, "must be true or false, not %s", kindName(f.val))
	return false
}

// interval parses a Go duration string within [lo, hi].
func (ps *parser) interval(f *entry, lo, hi time.Duration) time.Duration {
	v, ok := ps.str(f.val, f.path)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	switch {
	case err != nil:
		ps.add(f.val.Line, f.path, "%s is not a duration (such as 5m or 1h)", show(v))
	case d < lo || d > hi:
		ps.add(f.val.Line, f.path, "%s is out of range (%s to %s)", show(v), shortDuration(lo), shortDuration(hi))
	default:
		return d
	}
	return 0
}

func (ps *parser) deliverDuring(f *entry, p *Policy) (string, *Calendar) {
	v, ok := ps.str(f.val, f.path)
	if !ok {
		return "", nil
	}
	for name, cal := range p.Calendars {
		if strings.EqualFold(name, strings.TrimSpace(v)) {
			return name, cal
		}
	}
	names := make([]string, 0, len(p.Calendars))
	for name := range p.Calendars {
		names = append(names, name)
	}
	slices.Sort(names)
	ps.add(f.val.Line, f.path, "unknown calendar %s (declared under calendars: %s)", show(v), strings.Join(names, ", "))
	return "", nil
}

// stageNames parses a list of stage names: alert, breach, escalation (every
// step) or escalation-N for a step the policy has.
func (ps *parser) stageNames(f *entry, p *Policy) []string {
	items, ok := ps.sequence(f.val, f.path)
	if !ok {
		return nil
	}
	var out []string
	for _, it := range items {
		v, ok := ps.str(it, f.path)
		if !ok {
			continue
		}
		v = strings.ToLower(strings.TrimSpace(v))
		if r := stageRank(v); v != "escalation" && (r < 0 || r-1 > len(p.Escalation)) {
			known := "alert, breach or escalation"
			if len(p.Escalation) > 0 {
				known = "alert, breach, escalation, or escalation-1 to escalation-" + itoa(len(p.Escalation))
			}
			ps.add(it.Line, f.path, "unknown stage %s (%s)", show(v), known)
			continue
		}
		out = append(out, v)
	}
	return out
}

func itoa(i int) string { return fmtFloat(float64(i)) }
