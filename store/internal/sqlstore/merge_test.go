package sqlstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

func TestMerge(t *testing.T) {
	e0, e1, e2 := storetest.NewEvent("a", 0), storetest.NewEvent("a", time.Minute), storetest.NewEvent("a", 2*time.Minute)
	e1.Status = "pending"
	e1dup := e1
	e1dup.Status = "closed"

	// A stored ticket gains the events whose updated_at it lacks.
	stored := &watchdog.Ticket{ID: "a", Status: "pending", UpdatedAt: e1.UpdatedAt, EscalationLevel: 2}
	c, changed := merge("a", stored, []watchdog.Event{e1}, []watchdog.Event{e2, e1dup, e0, e2})
	if !changed || c.New || c.T != stored {
		t.Fatalf("merge into a stored ticket = %+v, %v; want it changed in place", c, changed)
	}
	if d := cmp.Diff([]watchdog.Event{e2, e0}, c.Fresh); d != "" {
		t.Errorf("fresh (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]watchdog.Event{e0, e1, e2}, stored.Events); d != "" {
		t.Errorf("timeline (-want +got):\n%s", d)
	}
	if stored.Status != "open" || !stored.UpdatedAt.Equal(e2.UpdatedAt) || stored.EscalationLevel != 2 {
		t.Errorf("merged ticket %+v: want the latest event's fields and the stored level", stored)
	}
	if _, changed := merge("a", stored, stored.Events, []watchdog.Event{e1dup, e0}); changed {
		t.Error("replayed events changed the ticket")
	}

	// A new ticket takes every event but the later duplicates.
	c, changed = merge("a", nil, nil, []watchdog.Event{e2, e1, e1dup, e0})
	if !changed || !c.New || c.T.ID != "a" || c.T.Status != "open" {
		t.Fatalf("merge of a new ticket = %+v, %v", c, changed)
	}
	if d := cmp.Diff([]watchdog.Event{e0, e1, e2}, c.Fresh); d != "" {
		t.Errorf("new ticket's fresh events (-want +got):\n%s", d)
	}
}
