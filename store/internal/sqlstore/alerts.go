package sqlstore

import (
	"context"
	"math"

	"github.com/ticket-watchdog/watchdog"
)

// RecentAlerts runs a store's query of recorded alerts, whose three
// parameters are the exclusive lower and upper id bounds and the limit, for
// Store.Alerts: highest id first, never nil.
func RecentAlerts(ctx context.Context, q Queryer, scan func(Scanner) (watchdog.Alert, error), query string, aq watchdog.AlertsQuery) ([]watchdog.Alert, error) {
	before := aq.BeforeID
	if before == 0 {
		before = math.MaxInt64
	}
	out, err := QueryAll(ctx, q, scan, query, aq.AfterID, before, aq.Limit)
	if out == nil && err == nil {
		out = []watchdog.Alert{}
	}
	return out, err
}
