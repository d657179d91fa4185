package watchdog

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// SLAClock names one of a ticket's two SLA clocks. Its string is the seed's
// sla_type.
type SLAClock string

// The SLA clocks. Response and resolution run once per ticket; next reply
// and periodic update run in cycles, one per customer message awaiting an
// answer and per agent message awaiting the next update.
const (
	Response       SLAClock = "response"
	Resolution     SLAClock = "resolution"
	NextReply      SLAClock = "next_reply"
	PeriodicUpdate SLAClock = "periodic_update"
)

// SLAClocks lists the once-per-ticket SLA clocks in evaluation order.
var SLAClocks = [...]SLAClock{Response, Resolution}

// CycleClocks lists the SLA clocks that run in cycles.
var CycleClocks = [...]SLAClock{NextReply, PeriodicUpdate}

// AllSLAClocks lists every SLA clock in evaluation order.
var AllSLAClocks = [...]SLAClock{Response, Resolution, NextReply, PeriodicUpdate}

// Cyclic reports whether the clock runs in cycles (next reply, periodic
// update).
func (c SLAClock) Cyclic() bool { return c == NextReply || c == PeriodicUpdate }

// title is the clock's name in sentences: "Response", "Next reply".
func (c SLAClock) title() string {
	s := strings.ReplaceAll(string(c), "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// SLAClockState is the state of one SLA clock at an instant.
type SLAClockState string

// SLA clock states: running clocks are ok, alert or breach by the time they
// have used; a stopped clock is met or missed.
const (
	StateOK     SLAClockState = "ok"
	StateAlert  SLAClockState = "alert"
	StateBreach SLAClockState = "breach"
	StatePaused SLAClockState = "paused"
	StateMet    SLAClockState = "met"
	StateMissed SLAClockState = "missed"
	// StateIdle is a cycle clock with no cycle yet.
	StateIdle SLAClockState = "idle"
)

// Stage is a point on an SLA clock, a fraction of its target, at which an alert
// fires: alert (default 0.85), breach (1.0) and any further escalation steps.
type Stage struct {
	// Name is "alert", "breach", or "escalation-N" for the N-th step after breach.
	Name string `json:"name"`
	// Fraction of the target at which the stage is reached.
	Fraction float64 `json:"fraction"`
}

// Stage names of the two built-in stages.
const (
	StageAlert  = "alert"
	StageBreach = "breach"
)

// EscalationStageName is the name of the n-th (1-based) escalation step.
func EscalationStageName(n int) string { return "escalation-" + strconv.Itoa(n) }

// AlertState is the seed's alert "state" of a stage: "alert" before breach,
// "breach" from breach on.
func (s Stage) AlertState() string {
	if s.Name == StageAlert {
		return "alert"
	}
	return "breach"
}

// Offset is the business time into an SLA clock at which the stage is reached
// for the given target, rounded to the millisecond.
func (s Stage) Offset(target time.Duration) time.Duration {
	return time.Duration(float64(target) * s.Fraction).Round(time.Millisecond)
}

// SLAClockView is one SLA clock of a ticket evaluated at an instant.
type SLAClockView struct {
	SLAClock SLAClock      `json:"-"`
	State    SLAClockState `json:"state"`
	// Target is the clock's target in business time.
	TargetSeconds    int64 `json:"target_seconds"`
	ElapsedSeconds   int64 `json:"elapsed_seconds"`
	RemainingSeconds int64 `json:"remaining_seconds"`
	// AlertAt and BreachAt are the instants of the alert and breach stages
	// while the clock runs; nil when it is paused or stopped.
	AlertAt  *time.Time `json:"alert_at"`
	BreachAt *time.Time `json:"breach_at"`
	Calendar string     `json:"calendar"`

	Target  time.Duration `json:"-"`
	Elapsed time.Duration `json:"-"`

	// For a cycle clock (next reply, periodic update): the current cycle's
	// ordinal (1, 2, ...; 0 before the first), its start instant (its
	// identity), and how many stopped cycles met and missed the target.
	Cycle          int        `json:"-"`
	CycleStartedAt *time.Time `json:"-"`
	CyclesMet      int        `json:"-"`
	CyclesMissed   int        `json:"-"`
}

// slaClockViewJSON is SLAClockView's fields without its methods.
type slaClockViewJSON SLAClockView

// MarshalJSON encodes the clock; a cycle clock also gets cycle,
// cycle_started_at, cycles_met and cycles_missed, which the response and
// resolution clocks do not have.
func (v SLAClockView) MarshalJSON() ([]byte, error) {
	if !v.SLAClock.Cyclic() {
		return json.Marshal(slaClockViewJSON(v))
	}
	return json.Marshal(struct {
		slaClockViewJSON
		Cycle          int        `json:"cycle"`
		CycleStartedAt *time.Time `json:"cycle_started_at"`
		CyclesMet      int        `json:"cycles_met"`
		CyclesMissed   int        `json:"cycles_missed"`
	}{slaClockViewJSON(v), v.Cycle, v.CycleStartedAt, v.CyclesMet, v.CyclesMissed})
}
