package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

// TestCountOpenTicketsReadsTheTable: the open-tickets gauge is counted by
// one read of the table in its order, not through an index that sends it
// to the table once per stored ticket (that took three seconds of a
// reader at a million stored tickets, at every scrape of /metrics), and
// with no sort of the open tickets' states (a grouping by state held them
// all in memory: 18 MB more at the server's peak at a million).
func TestCountOpenTicketsReadsTheTable(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "count.db"))
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+countOpenSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "; ")
	if got != "SCAN tickets" {
		t.Errorf("the count of open tickets by state is planned as %q: want one scan of the table, no index and no temporary b-tree", got)
	}
}

// TestCountOpenTicketsOtherStates: a state outside those the engine
// writes (a row of another version) is still counted, by state.
func TestCountOpenTicketsOtherStates(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "count.db"))
	insert := func(id, state string, open bool) {
		t.Helper()
		if _, err := s.w.ExecContext(ctx, `INSERT INTO tickets (id, priority, customer_tier, status, created_at, updated_at, sla_state, open)
			VALUES (?, 'high', 'gold', 'open', 0, 0, ?, ?)`, id, state, open); err != nil {
			t.Fatal(err)
		}
	}
	insert("a", "ok", true)
	insert("b", "alert", true)
	insert("c", "breach", true)
	insert("d", "breach", true)
	insert("e", "untracked", true)
	insert("f", "ok", false)
	want := map[watchdog.TicketState]int{watchdog.TicketOK: 1, watchdog.TicketAlert: 1, watchdog.TicketBreach: 2, watchdog.TicketUntracked: 1}
	check := func() {
		t.Helper()
		got, err := s.CountOpenTickets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("CountOpenTickets (-want +got):\n%s", d)
		}
	}
	check()
	insert("g", "paused", true)
	insert("h", "paused", false)
	want["paused"] = 1
	check()
}
