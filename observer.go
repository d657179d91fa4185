package watchdog

import (
	"time"
)

// Observer is told what the engine does, for metrics. Implementations must
// be fast and safe for concurrent use; embed NopObserver to implement part.
type Observer interface {
	// EventsIngested reports a committed batch: events received and
	// tickets changed.
	EventsIngested(events, changed int)
	// AlertFired reports a recorded alert and how long after its due
	// instant it was recorded. backfilled reports that the stage was
	// already due when the ingest or policy change that made it due
	// committed (a ticket imported after its deadlines, or a target
	// shortened into the past): its lateness then measures the data's age,
	// not the engine's delay.
	AlertFired(a Alert, lateness time.Duration, backfilled bool)
	// DeliveryFinished reports one delivery attempt's outcome.
	DeliveryFinished(notifier string, status DeliveryStatus, took time.Duration)
	// Evaluated reports one scheduler pass: tickets evaluated, alerts
	// recorded and the time it took.
	Evaluated(tickets, alerts int, took time.Duration)
	// OutcomeRecorded reports an SLA clock's outcome recorded stopped (met
	// or missed) for the first time: once per (ticket, clock, cycle), even
	// when a late event or a reopen records it again.
	OutcomeRecorded(o Outcome)
}

// NopObserver ignores everything.
type NopObserver struct{}

// EventsIngested does nothing.
func (NopObserver) EventsIngested(int, int) {}

// AlertFired does nothing.
func (NopObserver) AlertFired(Alert, time.Duration, bool) {}

// DeliveryFinished does nothing.
func (NopObserver) DeliveryFinished(string, DeliveryStatus, time.Duration) {}

// Evaluated does nothing.
func (NopObserver) Evaluated(int, int, time.Duration) {}

// OutcomeRecorded does nothing.
func (NopObserver) OutcomeRecorded(Outcome) {}

// IngestHeldObserver is an Observer that is also told of every Ingest call
// that waited for its turn while the evaluation was behind (see
// Config.IngestWhileBehind), and for how long. The engine checks for it
// with a type assertion, so Observers without it keep working.
type IngestHeldObserver interface {
	IngestHeld(waited time.Duration)
}
