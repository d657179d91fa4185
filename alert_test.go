package watchdog_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// An alert's details object is computed from its Target, Elapsed and
// Message: business minutes to 2 decimals, their ratio to 4.
func TestAlertDetailsFromTargetAndElapsed(t *testing.T) {
	a := watchdog.Alert{Target: 2*time.Hour + 20*time.Second, Elapsed: 119*time.Minute + 17*time.Second, Message: "m"}
	want := watchdog.AlertDetails{ElapsedMinutes: 119.28, TargetMinutes: 120.33, PercentUsed: 0.9913, Message: "m"}
	if got := a.Details(); got != want {
		t.Errorf("Details() = %+v, want %+v", got, want)
	}
	if got := (watchdog.Alert{}).Details(); got != (watchdog.AlertDetails{}) {
		t.Errorf("zero alert's details %+v", got)
	}
	// JSON carries the object under "details", in the seed's shape.
	b, err := json.Marshal(watchdog.Alert{ID: 3, Target: 30 * time.Minute, Elapsed: 1530 * time.Second, Message: "Response SLA at 85% of its 30m target"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID      int64          `json:"id"`
		Details map[string]any `json:"details"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != 3 || got.Details["elapsed_minutes"] != 25.5 || got.Details["target_minutes"] != 30.0 ||
		got.Details["percent_used"] != 0.85 || got.Details["message"] != "Response SLA at 85% of its 30m target" {
		t.Errorf("alert JSON %s", b)
	}
}
