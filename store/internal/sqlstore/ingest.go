package sqlstore

import (
	"context"

	"github.com/ticket-watchdog/watchdog"
)

// Batch is an Ingest batch grouped by ticket.
type Batch struct {
	IDs    []string                    // in order of first appearance
	Events map[string][]watchdog.Event // per ticket, in batch order
}

// GroupBatch groups events by ticket id. The groups share one array (ingest
// is a hot path), each capped so that appending to one copies it.
func GroupBatch(events []watchdog.Event) Batch {
	type group struct{ start, next, end int }
	index := make(map[string]int, len(events))
	groups := make([]group, 0, len(events))
	b := Batch{IDs: make([]string, 0, len(events))}
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

// Merged is an Ingest batch merged into the stored timelines.
type Merged struct {
	Tickets map[string]*watchdog.Ticket // every ticket of the batch, by id
	Changed []Ingested                  // those that gained events, in merge order
}

// Ingested is a ticket that gained events.
type Ingested struct {
	// T is the merged ticket, with its timeline and (if stored) its
	// alerts, for plan. Its other columns are still the stored ones.
	T     *watchdog.Ticket
	New   bool             // T is not stored yet
	Fresh []watchdog.Event // the events to write to the timeline rows (see Loaders.EventOnRow)
	// FreshMessages are the messages to write.
	FreshMessages []watchdog.Message
}

// MergeBatch merges b into the batch's stored tickets (stored, read by the
// caller with whatever lock it needs) and their timelines, ticket by ticket
// in the order of ids, with watchdog.Ticket.Merge: the one statement of the
// merge rules. It loads with l the timelines of stored and the alerts of
// those that changed, and their outcomes.
func MergeBatch(ctx context.Context, q Queryer, l *Loaders, b Batch, ids []string, stored []*watchdog.Ticket) (*Merged, error) {
	m := &Merged{Tickets: make(map[string]*watchdog.Ticket, len(ids))}
	storedIDs := make([]string, len(stored))
	for i, t := range stored {
		m.Tickets[t.ID] = t
		storedIDs[i] = t.ID
	}
	timelines, onRow, err := l.Timelines(ctx, q, stored)
	if err != nil {
		return nil, err
	}
	msgs, err := l.Messages(ctx, q, storedIDs)
	if err != nil {
		return nil, err
	}
	for _, t := range stored {
		t.Messages = msgs[t.ID]
	}
	var alerted []*watchdog.Ticket
	for _, id := range ids {
		var rowEvent watchdog.Event
		if onRow[id] {
			rowEvent = timelines[id][0] // before the merge inserts into the timeline
		}
		c, changed := merge(id, m.Tickets[id], timelines[id], b.Events[id])
		if !changed {
			continue
		}
		if onRow[id] && len(c.Fresh) > 0 {
			// The row's one event joins the timeline rows with the new
			// ones: once the merge has applied the latest event, the
			// row no longer holds it.
			c.Fresh = append(c.Fresh, rowEvent)
		}
		m.Tickets[id] = c.T
		m.Changed = append(m.Changed, c)
		if !c.New {
			alerted = append(alerted, c.T)
		}
	}
	alerts, err := l.Alerts(ctx, q, alertedIDs(alerted))
	if err != nil {
		return nil, err
	}
	for _, t := range alerted {
		t.Alerts = alerts[t.ID]
	}
	if err := l.fillOutcomes(ctx, q, alerted); err != nil {
		return nil, err
	}
	return m, nil
}

// merge merges the batch's events of ticket id into its stored row and
// timeline (stored nil: a new ticket) and reports whether it gained any.
func merge(id string, stored *watchdog.Ticket, timeline, events []watchdog.Event) (Ingested, bool) {
	if stored == nil {
		t := &watchdog.Ticket{ID: id}
		t.Merge(events...)
		return Ingested{T: t, New: true, Fresh: t.Events, FreshMessages: t.Messages}, true
	}
	stored.Events = timeline
	c := Ingested{T: stored}
	for _, ev := range events {
		added, msgs := stored.MergeEvent(ev)
		if added {
			ev.Messages = nil
			c.Fresh = append(c.Fresh, ev)
		}
		c.FreshMessages = append(c.FreshMessages, msgs...)
	}
	return c, len(c.Fresh) > 0 || len(c.FreshMessages) > 0
}
