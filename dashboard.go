package watchdog

import "time"

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
	// Policy filters by the name of the policy in force (Ticket.Policy),
	// exactly.
	Policy string
	// Open filters open (true) or closed (false) tickets; nil means both.
	Open  *bool
	Order DashboardOrder
	// CountLimit, when above 0, bounds the count of matching tickets: the
	// store counts at most CountLimit+1, and Engine.Dashboard reports more
	// than CountLimit as DashboardPage.Total = CountLimit with TotalCapped
	// set. Counting a million matching tickets takes longer than a page
	// should; 0 counts them all (the API's X-Total-Count does).
	CountLimit int
	// Clocks asks for each listed ticket's SLA clocks evaluated now
	// (DashboardPage.Views). The store then reads the page's timelines too.
	Clocks bool
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
	if q.CountLimit < 0 {
		errs = append(errs, FieldError{Field: "count_limit", Message: "must be 0 or more"})
	}
	if q.Limit < 0 || q.Limit > MaxDashboardLimit {
		errs = append(errs, FieldError{Field: "limit", Message: "must be between 1 and 1000"})
	}
	switch q.State {
	case "", "ok", "alert", "breach", "untracked":
	default:
		errs = append(errs, FieldError{Field: "state", Message: "must be one of ok, alert, breach, untracked"})
	}
	for _, f := range []struct{ name, v string }{{"tier", q.Tier}, {"priority", q.Priority}, {"policy", q.Policy}} {
		if msg := textProblem(f.v); msg != "" {
			errs = append(errs, FieldError{Field: f.name, Message: msg})
		}
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
	// Total is how many tickets match the filters; with TotalCapped, more
	// than this many (see DashboardQuery.CountLimit).
	Total       int
	TotalCapped bool
	// Views holds, when DashboardQuery.Clocks asked for them, each ticket
	// of Tickets (the same pointer, its State, Untracked and Open
	// re-derived) with its SLA clocks evaluated at EvaluatedAt.
	Views       []*TicketView
	EvaluatedAt time.Time
}
