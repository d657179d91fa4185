package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestCountOpenTicketsReadsTheTable: the open-tickets gauge is counted by
// one read of the table in its order, not through an index that sends it
// to the table once per stored ticket: that took three seconds of a
// reader at a million stored tickets, at every scrape of /metrics.
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
	if !strings.HasPrefix(got, "SCAN tickets") || strings.Contains(got, "INDEX") {
		t.Errorf("the count of open tickets by state is planned as %q: want one scan of the table, no index", got)
	}
}
