package sqlstore

import (
	"context"

	"github.com/ticket-watchdog/watchdog"
)

// CountOpenTicketsSQL counts the open tickets by state.
const CountOpenTicketsSQL = "SELECT sla_state, count(*) FROM tickets WHERE open GROUP BY sla_state"

// CountOpenTickets counts the open tickets by state with one statement, in
// one snapshot: watchdog.OpenTicketCounter for both stores. One pass over
// the open tickets costs a fraction of the per-state counts the dashboard
// would make, each of which reads every open ticket of its state.
// The statement is the store's: CountOpenTicketsSQL or one of its own.
func CountOpenTickets(ctx context.Context, q Queryer, query string) (map[watchdog.TicketState]int, error) {
	type count struct {
		state string
		n     int
	}
	rows, err := QueryAll(ctx, q, func(sc Scanner) (c count, err error) {
		err = sc.Scan(&c.state, &c.n)
		return c, err
	}, query)
	if err != nil {
		return nil, err
	}
	counts := make(map[watchdog.TicketState]int, len(rows))
	for _, c := range rows {
		counts[watchdog.TicketState(c.state)] = c.n
	}
	return counts, nil
}
