package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/client"
)

// TestStreamedAlertReadsTheClientMessage holds the harness's narrow decode
// of a /ws/alerts message to the client's type: the stage and timestamp it
// reads are the ones client.AlertMessage carries.
func TestStreamedAlertReadsTheClientMessage(t *testing.T) {
	ts := time.Date(2026, 12, 6, 16, 9, 35, 123456789, time.UTC)
	policy := "gold"
	msg := client.AlertMessage{AlertID: 7, TicketID: "lt-1\"é", SLAType: client.SLAType("response"), Stage: client.Stage("escalation-2"),
		State: client.AlertState("breach"), Timestamp: ts, DueAt: ts.Add(-time.Second), Policy: &policy, Priority: "high", CustomerTier: "enterprise"}
	data, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var got streamedAlert
	if err := got.decode(data); err != nil {
		t.Fatalf("decode(%s): %v", data, err)
	}
	want := streamedAlert{TicketID: "lt-1\"é", SLAType: "response", Stage: "escalation-2", Timestamp: ts}
	if got != want {
		t.Errorf("decode(%s) = %+v, want %+v", data, got, want)
	}
	if err := new(streamedAlert).decode([]byte(`{"ticket_id":`)); err == nil {
		t.Error("decode of a cut-off message: no error")
	}
}
