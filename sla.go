package watchdog

import (
	"errors"
	"sort"
	"strings"
	"time"
)

// Policy is a loaded SLA file: targets by (tier, priority), stage fractions,
// status sets and calendars.
type Policy struct {
	Thresholds Thresholds
	// Escalation holds further stages after breach, as fractions of the
	// target, ascending and above Thresholds.Breach.
	Escalation []float64
	Statuses   StatusSets
	// Calendars by name, as declared in the file.
	Calendars map[string]*Calendar
	// Tiers by lower-case name.
	Tiers map[string]*TierPolicy
}

// Thresholds are the fractions of a target at which the alert and breach
// stages fire (the seed's ALERT_THRESHOLD and BREACH_THRESHOLD).
type Thresholds struct {
	Alert  float64
	Breach float64
}

// StatusSets classify ticket statuses for the clocks. Matching is
// case-insensitive.
type StatusSets struct {
	AwaitingResponse []string
	Paused           []string
	Resolved         []string
}

// TierPolicy is one customer tier: its calendar (nil for 24x7) and targets by
// lower-case priority.
type TierPolicy struct {
	Calendar   *Calendar
	Priorities map[string]Targets
}

// Targets are the response and resolution targets of a (tier, priority), in
// business time of the tier's calendar.
type Targets struct {
	Response   time.Duration
	Resolution time.Duration
}

// Target returns the target of one clock.
func (t Targets) Target(c ClockKind) time.Duration {
	if c == Response {
		return t.Response
	}
	return t.Resolution
}

// Default thresholds and status sets, as in the seed.
var (
	DefaultThresholds = Thresholds{Alert: 0.85, Breach: 1.0}
	DefaultStatuses   = StatusSets{
		AwaitingResponse: []string{"new", "open"},
		Paused:           []string{"pending", "on_hold", "waiting_on_customer"},
		Resolved:         []string{"resolved", "closed", "solved"},
	}
)

// ParsePolicy parses and validates an SLA file.
func ParsePolicy(data []byte) (*Policy, error) {
	return nil, errors.New("watchdog: SLA file parsing not implemented yet")
}

// Stages lists the policy's stages in ascending order of fraction.
func (p *Policy) Stages() []Stage {
	st := []Stage{{Name: StageAlert, Fraction: p.Thresholds.Alert}, {Name: StageBreach, Fraction: p.Thresholds.Breach}}
	for i, f := range p.Escalation {
		st = append(st, Stage{Name: EscalationStageName(i + 1), Fraction: f})
	}
	sort.SliceStable(st, func(i, j int) bool { return st[i].Fraction < st[j].Fraction })
	return st
}

// Lookup returns the targets and calendar for a (tier, priority). When the
// policy has none, ok is false and reason says why, for display.
func (p *Policy) Lookup(tier, priority string) (t Targets, cal *Calendar, reason string, ok bool) {
	tp := p.Tiers[strings.ToLower(tier)]
	if tp == nil {
		return Targets{}, nil, "no SLA policy for customer tier " + quote(tier), false
	}
	t, found := tp.Priorities[strings.ToLower(priority)]
	if !found {
		return Targets{}, nil, "no SLA policy for priority " + quote(priority) + " in tier " + quote(tier), false
	}
	return t, tp.Calendar, "", true
}

func quote(s string) string { return "\"" + s + "\"" }

func inSet(set []string, status string) bool {
	for _, s := range set {
		if strings.EqualFold(s, status) {
			return true
		}
	}
	return false
}

// IsAwaitingResponse reports whether status awaits a first response.
func (s StatusSets) IsAwaitingResponse(status string) bool { return inSet(s.AwaitingResponse, status) }

// IsPaused reports whether status pauses both clocks.
func (s StatusSets) IsPaused(status string) bool { return inSet(s.Paused, status) }

// IsResolved reports whether status stops the resolution clock.
func (s StatusSets) IsResolved(status string) bool { return inSet(s.Resolved, status) }
