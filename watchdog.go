package watchdog

import (
	"context"
)

// Watchdog is what a helpdesk backend uses: ingest ticket events, read
// tickets with their SLA clocks, list the dashboard, stream alerts, and run
// the loops that fire and deliver alerts on time. *Engine implements it.
type Watchdog interface {
	// Ingest validates the whole batch, then records it atomically and
	// returns the resulting tickets in the order of first appearance.
	Ingest(ctx context.Context, events []Event) ([]*Ticket, error)
	// Ticket returns a ticket with its history, alerts and SLA clocks evaluated
	// now. It returns ErrNotFound for an unknown id.
	Ticket(ctx context.Context, id string) (*TicketView, error)
	// Dashboard lists tickets by the query's filters and order.
	Dashboard(ctx context.Context, q DashboardQuery) (*DashboardPage, error)
	// Alerts lists recorded alerts, newest first.
	Alerts(ctx context.Context, q AlertsQuery) ([]Alert, error)
	// SLAReport aggregates the recorded SLA outcomes; see SLAReportQuery.
	SLAReport(ctx context.Context, q SLAReportQuery) ([]SLAReportRow, error)
	// SLAOutcomes streams the recorded SLA outcomes a report would count.
	SLAOutcomes(ctx context.Context, q SLAReportQuery, fn func(*Outcome) error) error
	// Subscribe streams every alert committed from now on, by any engine
	// sharing the store, until ctx is done.
	Subscribe(ctx context.Context) (<-chan Alert, error)
	// Run fires stages at their due instants and delivers alerts until ctx
	// is done.
	Run(ctx context.Context) error
}
