package websocket

import (
	"encoding/json"
	"strconv"
	"time"

	watchdog "github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/jsonappend"
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

// appendMessage appends m as json.Marshal encodes it, without reflection:
// the hub encodes one message per alert, and this takes less than half of
// json.Marshal's time, with one allocation where it made four
// (BenchmarkEncodeMessage).
// TestMessageJSONMatchesMarshal and FuzzMessageJSON hold it to
// json.Marshal's bytes. ok is false when m holds a value json.Marshal
// refuses (an instant outside years 0-9999, a number that is not finite).
func appendMessage(b []byte, m *Message) ([]byte, bool) {
	ok := true
	b = append(b, `{"ticket_id":`...)
	b = jsonappend.String(b, m.TicketID)
	b = append(b, `,"sla_type":`...)
	b = jsonappend.String(b, m.SLAType)
	b = append(b, `,"state":`...)
	b = jsonappend.String(b, m.State)
	b = append(b, `,"details":{"elapsed_minutes":`...)
	b, ok = jsonappend.Float(b, m.Details.ElapsedMinutes, ok)
	b = append(b, `,"target_minutes":`...)
	b, ok = jsonappend.Float(b, m.Details.TargetMinutes, ok)
	b = append(b, `,"percent_used":`...)
	b, ok = jsonappend.Float(b, m.Details.PercentUsed, ok)
	b = append(b, `,"message":`...)
	b = jsonappend.String(b, m.Details.Message)
	b = append(b, `},"timestamp":`...)
	b, ok = jsonappend.Time(b, m.Timestamp, ok)
	b = append(b, `,"escalation_level":`...)
	b = strconv.AppendInt(b, int64(m.EscalationLevel), 10)
	b = append(b, `,"priority":`...)
	b = jsonappend.String(b, m.Priority)
	b = append(b, `,"customer_tier":`...)
	b = jsonappend.String(b, m.CustomerTier)
	b = append(b, `,"stage":`...)
	b = jsonappend.String(b, m.Stage)
	b = append(b, `,"due_at":`...)
	b, ok = jsonappend.Time(b, m.DueAt, ok)
	b = append(b, `,"alert_id":`...)
	b = strconv.AppendInt(b, m.AlertID, 10)
	if m.Policy != "" {
		b = append(b, `,"policy":`...)
		b = jsonappend.String(b, m.Policy)
	}
	if m.Cycle != 0 {
		b = append(b, `,"cycle":`...)
		b = strconv.AppendInt(b, int64(m.Cycle), 10)
	}
	if m.CycleStartedAt != nil {
		b = append(b, `,"cycle_started_at":`...)
		b, ok = jsonappend.Time(b, *m.CycleStartedAt, ok)
	}
	if m.AcknowledgedBy != "" {
		b = append(b, `,"acknowledged_by":`...)
		b = jsonappend.String(b, m.AcknowledgedBy)
	}
	return append(b, '}'), ok
}

// encodeMessage is the hub's text message for a: appendMessage's bytes, or
// json.Marshal's error for a message it refuses.
func encodeMessage(a watchdog.Alert) ([]byte, error) {
	m := MessageFor(a)
	if b, ok := appendMessage(make([]byte, 0, 512), &m); ok {
		return b, nil
	}
	return json.Marshal(m)
}
