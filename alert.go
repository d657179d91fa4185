package watchdog

import (
	"fmt"
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
	return StageKey{SLAClock: a.SLAClock, Stage: a.Stage, Cycle: a.Cycle}
}

// StageKey identifies one stage of one SLA clock cycle of a ticket.
type StageKey struct {
	SLAClock SLAClock
	Stage    string
	Cycle    int
}

func alertDetails(c SLAClock, st Stage, target time.Duration) string {
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
