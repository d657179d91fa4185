package watchdog

import "context"

// OpenTicketCounter is implemented by a Store that counts its open
// tickets in each state with one read (both stores of this module do).
// Engine.CountOpenTickets uses it when the store has it, and otherwise
// counts each state through Dashboard: one count per state, each reading
// every open ticket of it. With a million tickets stored, those four
// counts took longer than a /metrics scrape may (two seconds), every time.
type OpenTicketCounter interface {
	Store
	// CountOpenTickets returns how many open tickets are in each state,
	// from one snapshot. A state no open ticket is in may be missing.
	CountOpenTickets(ctx context.Context) (map[TicketState]int, error)
}

// CountOpenTickets returns how many open tickets are in each of the states
// ok, alert, breach and untracked (alert not counting breaches), zero for
// a state none is in: the open-tickets gauge of /metrics.
func (e *Engine) CountOpenTickets(ctx context.Context) (map[TicketState]int, error) {
	states := []TicketState{TicketOK, TicketAlert, TicketBreach, TicketUntracked}
	counts := make(map[TicketState]int, len(states))
	if c, ok := e.store.(OpenTicketCounter); ok {
		got, err := c.CountOpenTickets(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range states {
			counts[s] = got[s]
		}
		return counts, nil
	}
	open := true
	for _, s := range states {
		_, total, err := e.store.Dashboard(ctx, DashboardQuery{State: string(s), Open: &open, Limit: 1})
		if err != nil {
			return nil, err
		}
		counts[s] = total
	}
	// The dashboard's alert filter includes breaches.
	counts[TicketAlert] -= counts[TicketBreach]
	return counts, nil
}
