package sqlstore

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

// TestHandoffsRecordings: the store's memory of its hand-offs. Outcomes
// whose recording failed are given back for the retry; a hand-off row is
// deleted by the recording of its last outcomes only when no other
// recording of it is in flight, else by the next recording once both
// committed, so that no read sees a delivery neither handed off nor
// written.
func TestHandoffsRecordings(t *testing.T) {
	var h Handoffs
	until := time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)
	h.Add([]Handoff{{ID: 7, Holder: "h", Notifier: "n", Until: until, Deliveries: []int64{1, 2, 3}, Alerts: []int64{10, 20, 30}}})
	ids := func(b HandoffBatch) []int64 {
		var out []int64
		for _, o := range b.Handed {
			out = append(out, o.ID)
		}
		return out
	}
	check := func(what string, b HandoffBatch, handed, deletes []int64) {
		t.Helper()
		if d := cmp.Diff(handed, ids(b)); d != "" {
			t.Errorf("%s: handed outcomes (-want +got):\n%s", what, d)
		}
		if d := cmp.Diff(deletes, b.Deletes); d != "" {
			t.Errorf("%s: hand-off rows deleted (-want +got):\n%s", what, d)
		}
	}
	rest, b := h.Take([]watchdog.DeliveryOutcome{{ID: 1, Attempt: 1}, {ID: 2, Attempt: 2}, {ID: 9, Attempt: 1}})
	if len(rest) != 2 || rest[0].ID != 2 || rest[1].ID != 9 || b.Handed[0].Alert != 10 {
		t.Fatalf("take left %v with rows, handed %v; want 2 and 9 with rows, 1 handed off from alert 10", rest, b.Handed)
	}
	check("first take", b, []int64{1}, nil)
	h.Settle(b, false) // the recording failed: 1 is handed off again

	// Two recordings in flight: the one taking the last outcomes deletes
	// nothing while the other is uncommitted.
	_, b1 := h.Take([]watchdog.DeliveryOutcome{{ID: 1, Attempt: 1}})
	_, b2 := h.Take([]watchdog.DeliveryOutcome{{ID: 2, Attempt: 1}, {ID: 3, Attempt: 1}, {ID: 2, Attempt: 1}})
	check("first of two", b1, []int64{1}, nil)
	check("second of two", b2, []int64{2, 3}, nil)
	h.Settle(b2, true)
	h.Settle(b1, true)
	_, b3 := h.Take(nil)
	check("next recording", b3, nil, []int64{7})
	h.Settle(b3, false)
	if got := h.TakeDeletable(); len(got) != 1 || got[0] != 7 {
		t.Errorf("after a failed deletion, deletable = %v, want [7]", got)
	}

	// Alone, the recording of the last outcomes deletes the row itself;
	// failing, it gives back both.
	h.Add([]Handoff{{ID: 8, Holder: "h", Notifier: "n", Until: until, Deliveries: []int64{4}, Alerts: []int64{40}}})
	_, b4 := h.Take([]watchdog.DeliveryOutcome{{ID: 4, Attempt: 1}})
	check("last outcome alone", b4, []int64{4}, []int64{8})
	h.Settle(b4, false)
	_, b5 := h.Take([]watchdog.DeliveryOutcome{{ID: 4, Attempt: 1}})
	check("retry of the last outcome", b5, []int64{4}, []int64{8})
	h.Settle(b5, true)
	if d, r, del := h.Remembered(); d+r+del != 0 {
		t.Errorf("left: %d deliveries, %d records, %d to delete", d, r, del)
	}
}
