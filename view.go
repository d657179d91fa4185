package watchdog

import "time"

// ClockView is one clock of a ticket evaluated at an instant.
type ClockView struct {
	Kind  ClockKind  `json:"-"`
	State ClockState `json:"state"`
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
}

// TicketView is a ticket with its clocks evaluated at an instant.
type TicketView struct {
	*Ticket
	// Clocks holds the response and resolution clocks; nil for an untracked
	// ticket.
	Clocks map[ClockKind]*ClockView
	// EvaluatedAt is the instant the clocks were evaluated at.
	EvaluatedAt time.Time
}
