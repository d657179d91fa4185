package watchdog

import (
	"time"
)

// StatusChange is one entry of a ticket's status history.
type StatusChange struct {
	Status    string    `json:"status"`
	Timestamp time.Time `json:"timestamp"`
}

// Ticket is a ticket's stored state: its current fields (from the event with
// the latest updated_at), the derived SLA columns the engine wrote at its last
// evaluation, and, when read whole, its event timeline and alerts.
type Ticket struct {
	ID              string     `json:"id"`
	Priority        string     `json:"priority"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	Status          string     `json:"status"`
	CustomerTier    string     `json:"customer_tier"`
	EscalationLevel int        `json:"escalation_level"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	// Attributes and Tags are those of the latest event (by updated_at)
	// that carried them; nil when none did or the latest cleared them.
	Attributes map[string]string `json:"attributes,omitempty"`
	Tags       []string          `json:"tags,omitempty"`

	// Derived by the engine and stored for queries.
	State     TicketState `json:"sla_state"`
	Untracked string      `json:"untracked_reason,omitempty"`
	// Policy names the SLA policy in force: a policies entry's name, or
	// "tiers.<tier>.<priority>" for the tiers table; empty when untracked.
	Policy    string     `json:"policy,omitempty"`
	Open      bool       `json:"open"`
	NextDueAt *time.Time `json:"next_due_at"`
	BreachAt  *time.Time `json:"breach_at"`
	// BackfilledAt is the instant of the last ingest or policy change that
	// found stages of the ticket already due (see Plan.BackfilledAt); nil
	// when none did.
	BackfilledAt *time.Time `json:"-"`

	// Events is the ticket's timeline, one entry per distinct updated_at,
	// in updated_at order. Filled by Store.Ticket and given to PlanFunc.
	Events []Event `json:"-"`
	// Alerts are the alerts fired for the ticket, oldest first. Filled by
	// Store.Ticket and given to PlanFunc.
	Alerts []Alert `json:"-"`
	// Messages are the ticket's public messages merged from all its
	// events, in time order (customer before agent at the same instant).
	// Filled with Events.
	Messages []Message `json:"-"`
	// Acks are the ticket's acknowledgements, one per clock at most, in
	// clock order. Filled by Store.Ticket and given to the PlanFunc of
	// Store.EvaluateDue.
	Acks []Ack `json:"-"`
}

// History is the ticket's status history in time order.
func (t *Ticket) History() []StatusChange {
	h := make([]StatusChange, len(t.Events))
	for i, ev := range t.Events {
		h[i] = StatusChange{Status: ev.Status, Timestamp: ev.UpdatedAt}
	}
	return h
}

// TicketView is a ticket with its SLA clocks evaluated at an instant.
type TicketView struct {
	*Ticket
	// SLAClocks holds the response and resolution SLA clocks; nil for an untracked
	// ticket.
	SLAClocks map[SLAClock]*SLAClockView
	// EvaluatedAt is the instant the clocks were evaluated at.
	EvaluatedAt time.Time
}

// TicketState is a ticket's overall SLA state: the worst of its SLA clocks, with
// missed counting as breach. Untracked tickets have no SLA clocks.
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
