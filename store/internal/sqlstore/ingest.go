package sqlstore

import "github.com/ticket-watchdog/watchdog"

// Batch is an Ingest batch grouped by ticket.
type Batch struct {
	IDs    []string                    // in order of first appearance
	Events map[string][]watchdog.Event // per ticket, in batch order
}

// GroupBatch groups events by ticket id. The groups share one array (ingest
// is a hot path), each capped so that appending to one copies it.
func GroupBatch(events []watchdog.Event) Batch {
	type group struct{ start, next, end int }
	index := make(map[string]int)
	var groups []group
	b := Batch{}
	for _, ev := range events {
		i, seen := index[ev.ID]
		if !seen {
			i = len(groups)
			index[ev.ID] = i
			groups = append(groups, group{})
			b.IDs = append(b.IDs, ev.ID)
		}
		groups[i].end++ // a count until the ranges are laid out
	}
	n := 0
	for i := range groups {
		g := &groups[i]
		g.start, g.next, g.end = n, n, n+g.end
		n = g.end
	}
	all := make([]watchdog.Event, len(events))
	for _, ev := range events {
		g := &groups[index[ev.ID]]
		all[g.next] = ev
		g.next++
	}
	b.Events = make(map[string][]watchdog.Event, len(groups))
	for i, id := range b.IDs {
		g := groups[i]
		b.Events[id] = all[g.start:g.end:g.end]
	}
	return b
}

// MergeNew merges events, in order, into t's timeline with
// watchdog.Ticket.Merge, the one statement of the merge rules, and returns
// those it added: the events a store has to write. t's current fields follow
// the merged timeline.
func MergeNew(t *watchdog.Ticket, events []watchdog.Event) []watchdog.Event {
	var added []watchdog.Event
	for _, ev := range events {
		if t.Merge(ev) {
			added = append(added, ev)
		}
	}
	return added
}

// AlertedIDs returns the ids of the tickets that have alerts: every
// recorded alert raised its ticket's escalation level, so level 0 means
// none, and their alerts need not be read.
func AlertedIDs(tickets []*watchdog.Ticket) []string {
	var ids []string
	for _, t := range tickets {
		if t.EscalationLevel > 0 {
			ids = append(ids, t.ID)
		}
	}
	return ids
}
