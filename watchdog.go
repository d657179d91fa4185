package watchdog

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Stores translate their drivers' errors into these at their
// boundary; check them with errors.Is.
var (
	// ErrNotFound reports an unknown ticket.
	ErrNotFound = errors.New("watchdog: not found")
	// ErrInvalid reports bad input; the error is usually a *ValidationError.
	ErrInvalid = errors.New("watchdog: invalid input")
	// ErrClosed reports use of a closed store or engine.
	ErrClosed = errors.New("watchdog: closed")
	// ErrConflict reports a write that lost a race it cannot retry by itself.
	ErrConflict = errors.New("watchdog: conflict")
)

// Watchdog is what a helpdesk backend uses: ingest ticket events, read
// tickets with their SLA clocks, list the dashboard, stream alerts, and run
// the loops that fire and deliver alerts on time. *Engine implements it.
type Watchdog interface {
	// Ingest validates the whole batch, then records it atomically and
	// returns the resulting tickets in the order of first appearance.
	Ingest(ctx context.Context, events []Event) ([]*Ticket, error)
	// Ticket returns a ticket with its history, alerts and clocks evaluated
	// now. It returns ErrNotFound for an unknown id.
	Ticket(ctx context.Context, id string) (*TicketView, error)
	// Dashboard lists tickets by the query's filters and order.
	Dashboard(ctx context.Context, q DashboardQuery) (*DashboardPage, error)
	// Subscribe streams every alert committed from now on, by any engine
	// sharing the store, until ctx is done.
	Subscribe(ctx context.Context) (<-chan Alert, error)
	// Run fires stages at their due instants and delivers alerts until ctx
	// is done.
	Run(ctx context.Context) error
}

// Clock tells the time and makes timers. The engine and scheduler use it for
// every decision about time, so tests can drive them with a fake clock
// (package watchdogtest) instead of sleeping. Its methods use only standard
// types so that any package can declare the same interface.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once after d, and a stop
	// function that reports whether it stopped the timer before it fired.
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (SystemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Notifier delivers one alert to one destination (Slack, a webhook, ...).
// When Deliver fails it says whether a later attempt may succeed; the error
// may also carry a wait (see RetryAfterError), as for HTTP 429.
type Notifier interface {
	Deliver(ctx context.Context, a Alert) (retry bool, err error)
}

// BatchNotifier is a Notifier that can also deliver several alerts as one
// message, as Slack needs when many alerts come due at once: its rate
// limits (about one message per second per webhook or channel) would spread
// a burst of single-alert messages over hours. The engine groups only
// alerts already queued for the notifier when a sender becomes free, so a
// lone alert always goes through Deliver, at once.
type BatchNotifier interface {
	Notifier
	// DeliverBatch delivers 2 to MaxBatch alerts as one unit: all or none,
	// with the same retry decision as Deliver.
	DeliverBatch(ctx context.Context, alerts []Alert) (retry bool, err error)
	// MaxBatch is the most alerts one DeliverBatch call takes; below 2
	// means alerts are always delivered one by one.
	MaxBatch() int
}

// NotifierFunc adapts a function to the Notifier interface.
type NotifierFunc func(ctx context.Context, a Alert) (retry bool, err error)

// Deliver calls f.
func (f NotifierFunc) Deliver(ctx context.Context, a Alert) (bool, error) { return f(ctx, a) }

// RetryAfterError is a retryable delivery failure whose destination asked
// for a wait before the next attempt (HTTP 429 Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	msg := "retry after " + e.After.String()
	if e.Err == nil {
		return msg
	}
	return e.Err.Error() + " (" + msg + ")"
}

// Unwrap returns the cause.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PlanFunc decides a ticket's derived columns and new alerts. Stores call it
// inside their transaction with the ticket's current fields, its whole
// timeline (Events) and its alerts so far (Alerts), and persist the Plan.
type PlanFunc func(t *Ticket) Plan

// Plan is what the engine decided for one ticket.
type Plan struct {
	State     TicketState
	Untracked string
	Open      bool
	NextDueAt *time.Time
	BreachAt  *time.Time
	// Alerts to record. The store skips any whose (ticket, clock, stage,
	// cycle) is already recorded; for each it records, it raises the
	// ticket's escalation level by one (setting Alert.EscalationLevel to the
	// new level), enqueues one pending delivery per name in Notifiers with
	// NextAttemptAt = the alert's FiredAt, and publishes the alert to
	// subscribers after commit. Only Store.EvaluateDue records alerts.
	Alerts    []Alert
	Notifiers []string
	// Claimed names those of Notifiers whose deliveries the caller sends
	// itself right after the commit (the engine's hand-off). The store
	// records them already claimed until ClaimedUntil, as ClaimDeliveries
	// would have: Attempts 1 and NextAttemptAt = ClaimedUntil, so that no
	// other claimer takes them before their lease ends.
	Claimed      []string
	ClaimedUntil time.Time
}

// Store persists tickets, their timelines, alerts and the delivery outbox.
// Implementations must be safe for concurrent use, and several processes may
// share one (the Postgres store): claims skip rows another holds and unique
// keys make each stage fire once. No method reads every ticket.
type Store interface {
	// Ingest merges validated events into the stored timelines (an event
	// whose (id, updated_at) is stored changes nothing; events of one id in
	// one batch are all merged) and calls plan once per ticket the batch
	// changed, with the merged ticket, storing the result. All in one
	// transaction: on error nothing of the batch is written. It returns the
	// batch's tickets (changed or not, without Events and Alerts), in order
	// of first appearance in the batch.
	Ingest(ctx context.Context, events []Event, plan PlanFunc) ([]*Ticket, error)

	// EvaluateDue claims up to limit tickets with NextDueAt <= now, skipping
	// tickets another evaluator holds, calls plan for each and stores the
	// results with their alerts and deliveries, atomically. It returns the
	// alerts recorded, each with the deliveries recorded for it (Alert unset)
	// in notifier name order.
	EvaluateDue(ctx context.Context, now time.Time, limit int, plan PlanFunc) ([]Alert, error)

	// NextDue returns the earliest NextDueAt of any ticket; ok is false when
	// no ticket is due ever.
	NextDue(ctx context.Context) (at time.Time, ok bool, err error)

	// Replan calls plan for up to limit open tickets with id > after, in id
	// order, and stores the results (not alerts). It returns the last id seen
	// and how many tickets it visited; a visit count below limit means the
	// pass is over. The engine calls it after a policy change.
	Replan(ctx context.Context, after string, limit int, plan PlanFunc) (last string, n int, err error)

	// Ticket returns one ticket with Events and Alerts (each with its
	// Deliveries), or ErrNotFound.
	Ticket(ctx context.Context, id string) (*Ticket, error)

	// Dashboard returns a page of tickets (without Events and Alerts) and the
	// number of tickets matching the filters.
	Dashboard(ctx context.Context, q DashboardQuery) (tickets []*Ticket, total int, err error)

	// ClaimDeliveries leases up to limit pending deliveries to the named
	// notifier whose NextAttemptAt <= now, for lease: they are not claimed
	// again until now+lease. Each claim increments Attempts. Delivery.Alert
	// is filled. Claims are per notifier so that a slow notifier's backlog
	// never holds up the others.
	ClaimDeliveries(ctx context.Context, notifier string, now time.Time, limit int, lease time.Duration) ([]Delivery, error)

	// FinishDeliveries records the outcomes of attempts, all in one
	// transaction. An outcome is ignored when its delivery was claimed again
	// since (Attempt differs) or is no longer pending.
	FinishDeliveries(ctx context.Context, outcomes []DeliveryOutcome) error

	// NextDelivery returns the earliest NextAttemptAt of any pending
	// delivery to the named notifier.
	NextDelivery(ctx context.Context, notifier string) (at time.Time, ok bool, err error)

	// SubscribeAlerts streams alerts recorded from now on by any process
	// sharing the store, until ctx is done. A subscriber that falls behind
	// may miss alerts; it never blocks the writer.
	SubscribeAlerts(ctx context.Context) (<-chan Alert, error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// DashboardOrder is the order of dashboard rows.
type DashboardOrder string

// Dashboard orders.
const (
	// OrderCreated lists newest tickets first (created_at descending, then id).
	OrderCreated DashboardOrder = "created"
	// OrderUrgency lists soonest breach first (BreachAt ascending, tickets
	// with no breach instant last, then id).
	OrderUrgency DashboardOrder = "urgency"
)

// DashboardQuery filters and pages the dashboard.
type DashboardQuery struct {
	Offset int
	// Limit is the page size; 0 means DefaultDashboardLimit.
	Limit int
	// State filters by ticket state: "" (any), "ok", "alert" (alert or
	// breach, as the seed did), "breach", or "untracked".
	State    string
	Tier     string
	Priority string
	// Open filters open (true) or closed (false) tickets; nil means both.
	Open  *bool
	Order DashboardOrder
}

// Dashboard limits.
const (
	DefaultDashboardLimit = 100
	MaxDashboardLimit     = 1000
)

// Validate checks the query and fills defaults.
func (q *DashboardQuery) Validate() error {
	var errs []FieldError
	if q.Offset < 0 {
		errs = append(errs, FieldError{Field: "offset", Message: "must be 0 or more"})
	}
	if q.Limit == 0 {
		q.Limit = DefaultDashboardLimit
	}
	if q.Limit < 0 || q.Limit > MaxDashboardLimit {
		errs = append(errs, FieldError{Field: "limit", Message: "must be between 1 and 1000"})
	}
	switch q.State {
	case "", "ok", "alert", "breach", "untracked":
	default:
		errs = append(errs, FieldError{Field: "state", Message: "must be one of ok, alert, breach, untracked"})
	}
	switch q.Order {
	case "":
		q.Order = OrderCreated
	case OrderCreated, OrderUrgency:
	default:
		errs = append(errs, FieldError{Field: "order", Message: "must be created or urgency"})
	}
	if len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}

// DashboardPage is one page of the dashboard.
type DashboardPage struct {
	Tickets []*Ticket
	Total   int
}
