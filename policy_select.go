package watchdog

import "time"

// The keys a policy's match may test: status is not a policy condition.
var slaPolicyMatchKeys = []string{"tier", "priority", "tags", matchAttributes}

// MatchValues returns the ticket's values for a policy's match: its
// customer tier ("tier"), priority, tags, and attributes
// ("attributes.<name>"); none when it lacks the field.
func (t *Ticket) MatchValues(key string) []string {
	switch key {
	case "tier":
		return []string{t.CustomerTier}
	case "priority":
		return []string{t.Priority}
	case "tags":
		return t.Tags
	}
	if len(key) > len(attributePrefix) && key[:len(attributePrefix)] == attributePrefix {
		if v, ok := t.Attributes[key[len(attributePrefix):]]; ok {
			return []string{v}
		}
	}
	return nil
}

// Selection is the policy in force for a ticket: its name, targets and
// calendar (nil for 24x7).
type Selection struct {
	Name     string
	Targets  Targets
	Calendar *Calendar
}

// TiersPolicyName is the name under which a tiers entry acts as a policy.
func TiersPolicyName(tier, priority string) string {
	return "tiers." + normKey(tier) + "." + normKey(priority)
}

// Select returns the policy in force for t: the first of p.Policies whose
// match holds, else the tiers entry of its tier and priority (named
// "tiers.<tier>.<priority>", with its response and resolution targets).
// When neither applies, ok is false and reason says why, for display.
func (p *Policy) Select(t *Ticket) (sel Selection, reason string, ok bool) {
	if p == nil {
		return Selection{}, "no SLA policy loaded", false
	}
	for _, sp := range p.Policies {
		if sp.Match.Matches(t) {
			return Selection{Name: sp.Name, Targets: sp.Targets, Calendar: sp.Calendar}, "", true
		}
	}
	targets, cal, reason, ok := p.Lookup(t.CustomerTier, t.Priority)
	if !ok {
		if len(p.Policies) > 0 {
			reason = "no policy matches and " + reason
		}
		return Selection{}, reason, false
	}
	return Selection{Name: TiersPolicyName(t.CustomerTier, t.Priority), Targets: targets, Calendar: cal}, "", true
}

// targetKeys are a policy's target keys with the clocks they set.
var targetKeys = []struct {
	key   string
	clock SLAClock
}{{"response", Response}, {"resolution", Resolution}, {"next_reply", NextReply}, {"periodic_update", PeriodicUpdate}}

// set sets the target of clock c.
func (t *Targets) set(c SLAClock, d time.Duration) {
	switch c {
	case Response:
		t.Response = d
	case Resolution:
		t.Resolution = d
	case NextReply:
		t.NextReply = d
	case PeriodicUpdate:
		t.PeriodicUpdate = d
	}
}
