package watchdog

// AlertsQuery pages the recorded alerts of every ticket, newest first: what
// a feed shows, and what a client that lost its alert stream (a restart, a
// network cut) reads to fill the gap since the last alert it saw.
type AlertsQuery struct {
	// AfterID lists only alerts with a greater id, such as those recorded
	// since the alert a client saw last; 0 lists from the first.
	AfterID int64
	// BeforeID, when above 0, lists only alerts with a smaller id: the
	// next page back, from the oldest alert of the previous page.
	BeforeID int64
	// Limit is the most alerts listed; 0 means DefaultAlertsLimit.
	Limit int
}

// Alerts limits.
const (
	DefaultAlertsLimit = 100
	MaxAlertsLimit     = 1000
)

// Validate checks the query and fills defaults.
func (q *AlertsQuery) Validate() error {
	if q.Limit == 0 {
		q.Limit = DefaultAlertsLimit
	}
	var errs []FieldError
	for _, c := range []struct {
		field string
		bad   bool
		msg   string
	}{
		{"after_id", q.AfterID < 0, "must be 0 or more"},
		{"before_id", q.BeforeID < 0, "must be 0 or more"},
		{"limit", q.Limit < 0 || q.Limit > MaxAlertsLimit, "must be between 1 and 1000"},
	} {
		if c.bad {
			errs = append(errs, FieldError{Field: c.field, Message: c.msg})
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}
