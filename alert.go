package watchdog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ClockKind names one of a ticket's two SLA clocks. Its string is the seed's
// sla_type.
type ClockKind string

// The two SLA clocks every tracked ticket has.
const (
	Response   ClockKind = "response"
	Resolution ClockKind = "resolution"
)

// Clocks lists the clock kinds in evaluation order.
var Clocks = [...]ClockKind{Response, Resolution}

// ClockState is the state of one clock at an instant.
type ClockState string

// Per-clock states: running clocks are ok, alert or breach by the time they
// have used; a stopped clock is met or missed.
const (
	StateOK     ClockState = "ok"
	StateAlert  ClockState = "alert"
	StateBreach ClockState = "breach"
	StatePaused ClockState = "paused"
	StateMet    ClockState = "met"
	StateMissed ClockState = "missed"
)

// TicketState is a ticket's overall SLA state: the worst of its clocks, with
// missed counting as breach. Untracked tickets have no clocks.
type TicketState string

// Ticket-level states, ordered from best to worst except untracked.
const (
	TicketOK        TicketState = "ok"
	TicketAlert     TicketState = "alert"
	TicketBreach    TicketState = "breach"
	TicketUntracked TicketState = "untracked"
)

func (s TicketState) rank() int {
	switch s {
	case TicketAlert:
		return 1
	case TicketBreach:
		return 2
	}
	return 0
}

// Stage is a point on a clock, a fraction of its target, at which an alert
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

// Offset is the business time into a clock at which the stage is reached
// for the given target, rounded to the millisecond.
func (s Stage) Offset(target time.Duration) time.Duration {
	return time.Duration(float64(target) * s.Fraction).Round(time.Millisecond)
}

// Alert records that one stage of one clock of a ticket was reached. Each
// (ticket, clock, stage, cycle) has at most one alert.
type Alert struct {
	ID       int64     `json:"id"`
	TicketID string    `json:"ticket_id"`
	Clock    ClockKind `json:"sla_type"`
	Stage    string    `json:"stage"`
	// Cycle numbers the clock's cycles. Both clocks have a single cycle (0):
	// the resolution clock resumes on reopen, so a stage fired stays fired.
	Cycle int `json:"cycle"`
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
	Details string        `json:"details"`
	// Deliveries are the alert's outbox rows; filled by Store.Ticket and
	// on the alerts Store.EvaluateDue returns.
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

// Key identifies the stage an alert is for.
func (a Alert) Key() StageKey {
	return StageKey{Clock: a.Clock, Stage: a.Stage, Cycle: a.Cycle}
}

// StageKey identifies one stage of one clock cycle of a ticket.
type StageKey struct {
	Clock ClockKind
	Stage string
	Cycle int
}

func alertDetails(c ClockKind, st Stage, target time.Duration) string {
	var b strings.Builder
	name := strings.ToUpper(string(c[:1])) + string(c[1:])
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

// DeliveryStatus is the state of one alert's delivery to one notifier.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one outbox row: an alert to be sent to one named notifier.
type Delivery struct {
	ID       int64          `json:"id"`
	AlertID  int64          `json:"alert_id"`
	Notifier string         `json:"notifier"`
	Status   DeliveryStatus `json:"status"`
	Attempts int            `json:"attempts"`
	// NextAttemptAt is when a pending delivery is tried next (while one is
	// in flight, when its lease ends); zero once delivered or failed.
	NextAttemptAt time.Time  `json:"next_attempt_at,omitzero"`
	LastError     string     `json:"last_error,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	// Alert is filled by Store.ClaimDeliveries.
	Alert *Alert `json:"-"`
}

// DeliveryOutcome is what became of one delivery attempt, as reported to
// Store.FinishDelivery.
type DeliveryOutcome struct {
	ID int64
	// Attempt is the Delivery.Attempts value of the claim this outcome is
	// for; the store ignores the outcome when the delivery was claimed again
	// since (its attempts no longer equal Attempt).
	Attempt int
	// Status is DeliveryDelivered, DeliveryFailed (given up), or
	// DeliveryPending to retry at RetryAt.
	Status   DeliveryStatus
	RetryAt  time.Time
	Error    string
	Finished time.Time
	// Unsent marks a pending outcome for a claimed delivery handed back
	// without an attempt (the engine stopping, or a claim too old to send
	// safely): the store takes back the attempt the claim counted and
	// keeps the last error, so that only real attempts count towards the
	// limit. Error is ignored.
	Unsent bool
}
