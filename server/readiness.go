package server

import (
	"context"
	"errors"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/metrics"
)

// readiness answers /readyz: ready when the store answers and a policy is
// in force, with details of the policy and of the start-up recompute.
func readiness(st watchdog.Store, ps *policyStartup) func(context.Context) (map[string]any, error) {
	return func(ctx context.Context) (map[string]any, error) {
		details := map[string]any{}
		policyErr := ps.details(details)
		if err := st.Ping(ctx); err != nil {
			return details, errors.New("store unreachable")
		}
		return details, policyErr
	}
}

// openTickets counts the engine's open tickets by state for the
// open_tickets gauge.
func openTickets(eng *watchdog.Engine) metrics.OpenTicketsFunc {
	return func(ctx context.Context) (map[string]int, error) {
		open := true
		counts := map[string]int{}
		for _, state := range []watchdog.TicketState{watchdog.TicketOK, watchdog.TicketAlert, watchdog.TicketBreach, watchdog.TicketUntracked} {
			page, err := eng.Dashboard(ctx, watchdog.DashboardQuery{State: string(state), Open: &open, Limit: 1})
			if err != nil {
				return nil, err
			}
			counts[string(state)] = page.Total
		}
		// The dashboard's alert filter includes breaches.
		counts[string(watchdog.TicketAlert)] -= counts[string(watchdog.TicketBreach)]
		return counts, nil
	}
}
