package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// A delivery an evaluation hands to its caller (watchdog.Plan.Claimed) is
// written once, when its outcome is recorded, rather than inserted claimed
// and updated when sent. Until then a hand-off record, written by the
// evaluation's transaction, stands for it: every read shows it as the
// claimed row it replaces (pending, attempt 1, due at its backstop), the
// rescue of its dead holder and a claim after its backstop write the row
// it would have had, and the store that handed it off remembers it
// (Handoffs) to record its outcome with an insert. Both stores keep their
// records their own way; this file is what they share.

// Handoff is one hand-off record: the deliveries to one notifier an
// evaluation handed to Holder until Until, by id, with their alerts' ids.
type Handoff struct {
	ID       int64
	Holder   string
	Notifier string
	Until    time.Time
	// Deliveries and Alerts are the deliveries' ids and their alerts'.
	Deliveries, Alerts []int64
}

// HandoffKey is what an evaluation's handed-off deliveries are grouped
// into records by.
type HandoffKey struct {
	Holder, Notifier string
	Until            time.Time
}

// Key is t's record key; t is claimed.
func (t Target) Key() HandoffKey {
	return HandoffKey{Holder: t.Holder, Notifier: t.Notifier, Until: t.Until}
}

// HandoffList collects an evaluation's hand-off records.
type HandoffList struct {
	List []Handoff
	at   map[HandoffKey]int
}

// Add adds delivery id of alert alertID, claimed as t says, to its record.
func (l *HandoffList) Add(t Target, id, alertID int64) {
	k := t.Key()
	i, ok := l.at[k]
	if !ok {
		if l.at == nil {
			l.at = map[HandoffKey]int{}
		}
		i = len(l.List)
		l.at[k] = i
		l.List = append(l.List, Handoff{Holder: k.Holder, Notifier: k.Notifier, Until: k.Until})
	}
	h := &l.List[i]
	h.Deliveries, h.Alerts = append(h.Deliveries, id), append(h.Alerts, alertID)
}

// Handoffs are the deliveries a store handed off whose outcomes it has not
// recorded: what its FinishDeliveries inserts. A record is deleted once
// every delivery it names has its row committed: by the transaction that
// records the last of them when no other recording of the record is in
// flight (a notifier records two batches at once), else by the next
// transaction that records outcomes or a heartbeat (see TakeDeletable), so
// that no read ever sees a delivery neither handed off nor written.
type Handoffs struct {
	mu sync.Mutex
	// byID holds no pointers, so that the collector need not scan it: a
	// catch-up hands off hundreds of thousands of deliveries.
	byID      map[int64]handedRef // by delivery id
	records   map[int64]*handoffState
	deletable []int64 // records whose deliveries all have rows
}

// handedRef is a handed-off delivery's record and alert.
type handedRef struct {
	handoff, alert int64
}

// handoffState is what is left of one record: deliveries whose outcomes no
// recording has taken, and recordings of it in flight; and its notifier
// and backstop.
type handoffState struct {
	left, recording int
	notifier        string
	until           time.Time
}

// HandedOff is one handed-off delivery without a row.
type HandedOff struct {
	Handoff  int64 // its record
	Alert    int64
	Notifier string
	Until    time.Time
}

// Add remembers the deliveries of committed records.
func (h *Handoffs) Add(list []Handoff) {
	if len(list) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byID == nil {
		h.byID, h.records = map[int64]handedRef{}, map[int64]*handoffState{}
	}
	for _, r := range list {
		for i, id := range r.Deliveries {
			h.byID[id] = handedRef{handoff: r.ID, alert: r.Alerts[i]}
		}
		h.records[r.ID] = &handoffState{left: len(r.Deliveries), notifier: r.Notifier, until: r.Until}
	}
}

// HandedOutcome is an outcome of a handed-off delivery.
type HandedOutcome struct {
	watchdog.DeliveryOutcome
	HandedOff
}

// HandoffBatch is what one recording took from Handoffs.
type HandoffBatch struct {
	Handed  []HandedOutcome
	Deletes []int64 // records the recording deletes
	touched []int64 // the records of Handed
}

// Take splits outcomes into those of deliveries with a row (rest) and
// those of the store's hand-offs (b.Handed), and picks the records the
// recording deletes (b.Deletes). The caller settles b once its recording
// committed or failed. The outcome of a hand-off's delivery is for attempt
// 1; one for another attempt stays with the rest, as does the second of
// two outcomes for one delivery (which finds no row to update).
func (h *Handoffs) Take(outcomes []watchdog.DeliveryOutcome) (rest []watchdog.DeliveryOutcome, b HandoffBatch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.byID) == 0 && len(h.deletable) == 0 {
		return outcomes, b
	}
	for _, o := range outcomes {
		ref, ok := h.byID[o.ID]
		if !ok || o.Attempt != 1 {
			rest = append(rest, o)
			continue
		}
		if b.Handed == nil {
			b.Handed = make([]HandedOutcome, 0, len(outcomes))
		}
		delete(h.byID, o.ID)
		st := h.records[ref.handoff]
		b.Handed = append(b.Handed, HandedOutcome{o, HandedOff{Handoff: ref.handoff, Alert: ref.alert, Notifier: st.notifier, Until: st.until}})
		st.left--
		if !slices.Contains(b.touched, ref.handoff) {
			b.touched = append(b.touched, ref.handoff)
			st.recording++
		}
	}
	for _, id := range b.touched {
		if st := h.records[id]; st.left == 0 && st.recording == 1 {
			delete(h.records, id)
			b.Deletes = append(b.Deletes, id)
		}
	}
	b.Deletes = append(b.Deletes, h.deletable...)
	h.deletable = nil
	return rest, b
}

// Settle ends the recording of b: committed, the records it finished are
// deleted by the next recording; failed, its outcomes and deletions are
// given back for the retry.
func (h *Handoffs) Settle(b HandoffBatch, committed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if committed {
		for _, id := range b.touched {
			st, ok := h.records[id]
			if !ok {
				continue // deleted by b
			}
			if st.recording--; st.left == 0 && st.recording == 0 {
				delete(h.records, id)
				h.deletable = append(h.deletable, id)
			}
		}
		return
	}
	for _, o := range b.Handed {
		st, ok := h.records[o.Handoff]
		if !ok { // b was to delete it
			st = &handoffState{recording: 1, notifier: o.Notifier, until: o.Until}
			h.records[o.Handoff] = st
			b.Deletes = slices.DeleteFunc(b.Deletes, func(d int64) bool { return d == o.Handoff })
		}
		h.byID[o.ID] = handedRef{handoff: o.Handoff, alert: o.Alert}
		st.left++
	}
	for _, id := range b.touched {
		h.records[id].recording--
	}
	h.deletable = append(h.deletable, b.Deletes...)
}

// TakeDeletable returns the records ready to delete; the caller gives them
// back (GiveDeletable) when its statement fails.
func (h *Handoffs) TakeDeletable() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.deletable
	h.deletable = nil
	return d
}

// GiveDeletable gives back what TakeDeletable returned.
func (h *Handoffs) GiveDeletable(ids []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deletable = append(h.deletable, ids...)
}

// Remembered reports how many deliveries and records h still holds.
func (h *Handoffs) Remembered() (deliveries, records, deletable int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byID), len(h.records), len(h.deletable)
}

// HandedRow is the row a handed-off delivery's outcome writes: attempts
// (0 for an unsent one, whose hand-off attempt does not count), its next
// attempt (the retry's for a pending outcome, else the backstop, which
// reads hide) and its delivery instant (nil unless delivered). The error
// is the store's to take from o.
func (o HandedOutcome) HandedRow() (attempts int, next time.Time, delivered *time.Time) {
	attempts, next = 1, micro(o.Until)
	if o.Unsent {
		attempts = 0
	}
	switch o.Status {
	case watchdog.DeliveryPending:
		next = micro(o.RetryAt)
	case watchdog.DeliveryDelivered:
		at := micro(o.Finished)
		delivered = &at
	}
	return attempts, next, delivered
}

// WithHandedOff adds to alerts (at by alert id) their handed-off
// deliveries without a row, as the store's load reads them for the
// alerts' ids, keeping each alert's Deliveries ordered by cmp.
func WithHandedOff(ctx context.Context, q Queryer, alerts []watchdog.Alert, at map[int64]int, cmp func(a, b watchdog.Delivery) int,
	load func(ctx context.Context, q Queryer, alertIDs []int64) ([]watchdog.Delivery, error)) error {
	ids := make([]int64, len(alerts))
	for i := range alerts {
		ids[i] = alerts[i].ID
	}
	ds, err := load(ctx, q, ids)
	if err != nil {
		return fmt.Errorf("handed-off deliveries: %w", err)
	}
	touched := map[int]bool{}
	for _, d := range ds {
		i := at[d.AlertID]
		alerts[i].Deliveries = append(alerts[i].Deliveries, d)
		touched[i] = true
	}
	for i := range touched {
		slices.SortFunc(alerts[i].Deliveries, cmp)
	}
	return nil
}
