package watchdog

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxPolicies bounds the entries of an SLA file's policies.
const maxPolicies = 500

// policies parses the ordered policies list.
func (ps *parser) policies(e *entry, p *Policy, declared map[string]string) {
	items, ok := ps.sequence(e.val, e.path)
	if !ok {
		return
	}
	if len(items) > maxPolicies {
		ps.add(e.val.Line, e.path, "%d policies is more than the maximum of %d", len(items), maxPolicies)
		return
	}
	names := map[string]int{} // lower-case name -> line
	for i, it := range items {
		path := fmt.Sprintf("%s[%d]", e.path, i)
		sp, ok := ps.policy(&entry{name: path, path: path, key: it, val: it}, p.Calendars, declared)
		if !ok {
			continue
		}
		norm := strings.ToLower(sp.Name)
		if line, dup := names[norm]; dup {
			ps.add(it.Line, path+".name", "policy name %s is used twice (first at line %d)", show(sp.Name), line)
			continue
		}
		names[norm] = it.Line
		p.Policies = append(p.Policies, sp)
	}
}

// policy parses one policies entry: name, match, calendar and targets.
func (ps *parser) policy(e *entry, cals map[string]*Calendar, declared map[string]string) (*SLAPolicy, bool) {
	before := ps.count()
	if e.val.Kind != yaml.MappingNode {
		ps.add(e.val.Line, e.path, "a policy must be a mapping with name, match and targets, not %s", kindName(e.val))
		return nil, false
	}
	entries, ok := ps.mapping(e.val, e.path, exact)
	if !ok {
		return nil, false
	}
	sp := &SLAPolicy{Line: e.val.Line}
	hasName, hasTargets := false, false
	for i := range entries {
		pe := &entries[i]
		switch pe.name {
		case "name":
			v, ok := ps.str(pe.val, pe.path)
			if !ok {
				continue
			}
			hasName = true
			switch name := strings.TrimSpace(v); {
			case name == "":
				ps.add(pe.val.Line, pe.path, "must not be empty")
			case len(name) > 64:
				ps.add(pe.val.Line, pe.path, "%s is longer than 64 bytes", show(name))
			case textProblem(name) != "":
				ps.add(pe.val.Line, pe.path, "%s", textProblem(name))
			case strings.Contains(name, ","):
				// A comma separates the values of a filter (?policy=a,b on
				// /ws/alerts), so such a name could not be filtered on.
				ps.add(pe.val.Line, pe.path, "%s: a name must not contain a comma", show(name))
			case strings.HasPrefix(strings.ToLower(name), "tiers."):
				ps.add(pe.val.Line, pe.path, "%s: names starting with tiers. are those of the tiers table", show(name))
			default:
				sp.Name = name
			}
		case "match":
			sp.Match = ps.match(pe, slaPolicyMatchKeys...)
		case "calendar":
			sp.Calendar, _ = ps.calendarRef(pe, cals, declared)
		case "targets":
			hasTargets = true
			sp.Targets = ps.policyTargets(pe)
		default:
			ps.unknown(pe, "name", "match", "calendar", "targets")
		}
	}
	if !hasName {
		ps.add(e.val.Line, e.path+".name", "missing: every policy needs a name")
	}
	if !hasTargets {
		ps.add(e.val.Line, e.path+".targets", "missing (%s for response, resolution, next_reply or periodic_update)", targetHint)
	}
	return sp, ps.count() == before
}

// policyTargets parses a policy's targets: any of response, resolution,
// next_reply and periodic_update, at least one.
func (ps *parser) policyTargets(pe *entry) Targets {
	var t Targets
	entries, ok := ps.mapping(pe.val, pe.path, exact)
	if !ok {
		return t
	}
	known := make([]string, len(targetKeys))
	for i, k := range targetKeys {
		known[i] = k.key
	}
	n := 0
	for i := range entries {
		f := &entries[i]
		var clock SLAClock
		for _, k := range targetKeys {
			if k.key == f.name {
				clock = k.clock
			}
		}
		if clock == "" {
			ps.unknown(f, known...)
			continue
		}
		if d, ok := ps.duration(f); ok {
			t.set(clock, d)
			n++
		}
	}
	if len(entries) == 0 {
		ps.add(pe.val.Line, pe.path, "no targets: a policy needs at least one of %s", strings.Join(known, ", "))
	}
	_ = n
	return t
}
