package watchdog

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Alert records that one stage of one SLA clock of a ticket was reached. Each
// (ticket, SLA clock, stage, cycle) has at most one alert.
type Alert struct {
	ID       int64    `json:"id"`
	TicketID string   `json:"ticket_id"`
	SLAClock SLAClock `json:"sla_type"`
	Stage    string   `json:"stage"`
	// Cycle numbers the clock's cycles for display. The response and
	// resolution clocks have a single cycle (0): the resolution clock
	// resumes on reopen, so a stage fired stays fired. Cycles of the next
	// reply and periodic update clocks count from 1, and an alert keeps the
	// number its cycle had when it fired.
	Cycle int `json:"cycle"`
	// CycleStartedAt is the start of the cycle of a next reply or periodic
	// update alert: the cycle's identity (see StageKey); nil for the
	// response and resolution clocks.
	CycleStartedAt *time.Time `json:"cycle_started_at,omitempty"`
	// Policy names the SLA policy in force when the alert fired.
	Policy string `json:"policy,omitempty"`
	// State is the seed's alert state: "alert" or "breach".
	State string `json:"state"`
	// DueAt is the instant the stage was reached; FiredAt when it was recorded.
	DueAt   time.Time `json:"due_at"`
	FiredAt time.Time `json:"created_at"`
	// EscalationLevel is the ticket's level after this alert's bump.
	EscalationLevel int    `json:"escalation_level"`
	Priority        string `json:"priority"`
	CustomerTier    string `json:"customer_tier"`
	// Target and Elapsed are the clock's target and business time used at DueAt.
	Target  time.Duration `json:"-"`
	Elapsed time.Duration `json:"-"`
	// Message is a sentence about the stage reached, such as "Response SLA
	// at 85% of its 30m target": Slack's text and Details().Message.
	Message string `json:"-"`
	// AcknowledgedBy names who had acknowledged the alert's clock cycle
	// when the alert was recorded ("" for nobody): under a notification
	// policy its deliveries were then recorded as acknowledged, not sent.
	AcknowledgedBy string `json:"acknowledged_by,omitempty"`
	// Deliveries are the alert's outbox rows; filled by Store.Ticket and
	// on the alerts Store.EvaluateDue returns.
	Deliveries []Delivery `json:"deliveries,omitempty"`
	// DeliveryID is the outbox row an attempt delivers, set by the engine
	// on the alerts it hands to a Notifier, so that a receiver can tell a
	// retry from a new alert (a grouped retry's body may differ).
	DeliveryID int64 `json:"-"`
}

// AlertDetails is an alert's "details" object in the API and on the
// WebSocket: the seed's three keys, computed from the alert's Target and
// Elapsed, plus its Message.
type AlertDetails struct {
	// ElapsedMinutes is the SLA clock's business time at the stage's due
	// instant, in minutes to 2 decimals.
	ElapsedMinutes float64 `json:"elapsed_minutes"`
	// TargetMinutes is the clock's target in business minutes, to 2
	// decimals.
	TargetMinutes float64 `json:"target_minutes"`
	// PercentUsed is ElapsedMinutes / TargetMinutes as a plain ratio (0.85
	// at the alert stage, 1 at breach), to 4 decimals: the seed's name and
	// the seed's value.
	PercentUsed float64 `json:"percent_used"`
	// Message is the alert's Message.
	Message string `json:"message"`
}

// Details returns the alert's details object. Stores keep Target, Elapsed
// and Message; the object is computed from them, so alerts stored before
// it existed have one too.
func (a Alert) Details() AlertDetails {
	d := AlertDetails{
		ElapsedMinutes: roundTo(a.Elapsed.Minutes(), 2),
		TargetMinutes:  roundTo(a.Target.Minutes(), 2),
		Message:        a.Message,
	}
	if a.Target > 0 {
		d.PercentUsed = roundTo(float64(a.Elapsed)/float64(a.Target), 4)
	}
	return d
}

func roundTo(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// alertJSON is Alert's fields without its methods, for MarshalJSON.
type alertJSON Alert

// MarshalJSON encodes the alert with its Details object under "details",
// the seed's shape.
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		alertJSON
		Details AlertDetails `json:"details"`
	}{alertJSON(a), a.Details()})
}

// Key identifies the stage an alert is for.
func (a Alert) Key() StageKey {
	c := int64(a.Cycle)
	if a.CycleStartedAt != nil {
		c = a.CycleStartedAt.UnixMicro()
	}
	return StageKey{SLAClock: a.SLAClock, Stage: a.Stage, Cycle: c}
}

// StageKey identifies one stage of one SLA clock cycle of a ticket, the
// unique key of its alert in a store.
type StageKey struct {
	SLAClock SLAClock
	Stage    string
	// Cycle is the cycle's identity: its start instant in Unix
	// microseconds for a cycle of next reply or periodic update (the
	// alert's CycleStartedAt), else the alert's Cycle (0).
	Cycle int64
}

func alertMessage(c SLAClock, st Stage, target time.Duration) string {
	var b strings.Builder
	name := c.title()
	switch st.Name {
	case StageAlert:
		fmt.Fprintf(&b, "%s SLA at %.0f%% of its %s target", name, st.Fraction*100, formatTarget(target))
	case StageBreach:
		fmt.Fprintf(&b, "%s SLA breached: %s target reached", name, formatTarget(target))
	default:
		fmt.Fprintf(&b, "%s SLA escalation (%s): %.0f%% of its %s target", name, st.Name, st.Fraction*100, formatTarget(target))
	}
	return b.String()
}

func formatTarget(d time.Duration) string { return shortDuration(d) }
