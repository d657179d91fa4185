package websocket

import (
	"time"

	watchdog "github.com/ticket-watchdog/watchdog"
)

// Message is the JSON text message the hub sends for each alert. Its first
// five fields are the seed's alert event; the rest say more about the alert
// so that clients need not look the ticket up. Clients decode it with
// encoding/json.
type Message struct {
	// TicketID is the ticket the alert is about.
	TicketID string `json:"ticket_id"`
	// SLAType is the clock: "response", "resolution", "next_reply" or
	// "periodic_update".
	SLAType string `json:"sla_type"`
	// State is "alert" before the clock's breach and "breach" from it on.
	State string `json:"state"`
	// Details is the seed's details object (elapsed_minutes,
	// target_minutes, percent_used) with the alert's message, a sentence
	// about the stage reached.
	Details watchdog.AlertDetails `json:"details"`
	// Timestamp is when the alert was recorded (the alert's FiredAt), in UTC.
	Timestamp time.Time `json:"timestamp"`
	// EscalationLevel is the ticket's escalation level after this alert.
	EscalationLevel int `json:"escalation_level"`
	// Priority and CustomerTier are the ticket's when the alert fired.
	Priority     string `json:"priority"`
	CustomerTier string `json:"customer_tier"`
	// Stage is "alert", "breach" or "escalation-N".
	Stage string `json:"stage"`
	// DueAt is the instant the stage was reached, in UTC.
	DueAt time.Time `json:"due_at"`
	// AlertID is the alert's id in the store, stable across replicas.
	AlertID int64 `json:"alert_id"`
	// Policy names the SLA policy in force when the alert fired.
	Policy string `json:"policy,omitempty"`
	// Cycle and CycleStartedAt are, for a next_reply or periodic_update
	// alert, its cycle's number and start (the cycle's identity).
	Cycle          int        `json:"cycle,omitempty"`
	CycleStartedAt *time.Time `json:"cycle_started_at,omitempty"`
	// AcknowledgedBy names who had acknowledged the alert's clock when it
	// was recorded; omitted when nobody had.
	AcknowledgedBy string `json:"acknowledged_by,omitempty"`
}

// MessageFor returns the message the hub sends for a.
func MessageFor(a watchdog.Alert) Message {
	m := Message{
		TicketID:        a.TicketID,
		SLAType:         string(a.SLAClock),
		State:           a.State,
		Details:         a.Details(),
		Timestamp:       a.FiredAt.UTC(),
		EscalationLevel: a.EscalationLevel,
		Priority:        a.Priority,
		CustomerTier:    a.CustomerTier,
		Stage:           a.Stage,
		DueAt:           a.DueAt.UTC(),
		AlertID:         a.ID,
		Policy:          a.Policy,
		AcknowledgedBy:  a.AcknowledgedBy,
	}
	if a.CycleStartedAt != nil {
		started := a.CycleStartedAt.UTC()
		m.Cycle, m.CycleStartedAt = a.Cycle, &started
	}
	return m
}
