package bench

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

func TestSummarizeNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(s)
	want := Latency{N: 100, MeanMs: 50.5, P50Ms: 50, P99Ms: 99, MaxMs: 100, MinMs: 1}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if (Summarize(nil) != Latency{}) {
		t.Error("Summarize(nil) is not zero")
	}
	if one := Summarize([]time.Duration{3 * time.Millisecond}); one.P50Ms != 3 || one.P99Ms != 3 {
		t.Errorf("one sample: %+v", one)
	}
}

func TestWorkloadIsDeterministicAndUpdatesOwnTickets(t *testing.T) {
	w := Workload{Events: 10001, Batch: 1000, Streams: 3, UpdateFraction: 0.2, RunID: "t", Seed: 1, Base: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	total, updates := 0, 0
	for s := range w.Streams {
		a, b := w.Stream(s), w.Stream(s)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("stream %d differs between calls", s)
		}
		latest := map[string]time.Time{}
		for i, batch := range a {
			if len(batch) > w.Batch || (len(batch) < w.Batch && i != len(a)-1) {
				t.Errorf("stream %d batch %d has %d events", s, i, len(batch))
			}
			for _, ev := range batch {
				total++
				if prev, ok := latest[ev.ID]; ok {
					updates++
					if !ev.UpdatedAt.After(prev) {
						t.Errorf("update of %s at %v is not after %v", ev.ID, ev.UpdatedAt, prev)
					}
				}
				latest[ev.ID] = ev.UpdatedAt
				if err := watchdog.ValidateBatch([]watchdog.Event{ev}); err != nil {
					t.Fatalf("generated an invalid event: %v", err)
				}
			}
		}
	}
	if total != w.Events {
		t.Errorf("%d events, want %d", total, w.Events)
	}
	if share := float64(updates) / float64(total); share < 0.17 || share > 0.23 {
		t.Errorf("update share %.3f, want about 0.2", share)
	}
}

func TestPolicyYAMLParses(t *testing.T) {
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		t.Fatal(err)
	}
	if p.Thresholds.Alert != latenessAlertFrac {
		t.Errorf("alert threshold %v, the lateness mode assumes %v", p.Thresholds.Alert, latenessAlertFrac)
	}
}

func TestSlackStagesReadsTheNotifierMessage(t *testing.T) {
	payload := `{"text":"x","attachments":[{"fields":[{"title":"Ticket","value":"LATE-1"},{"title":"State","value":"BREACH"},{"title":"SLA","value":"response"}]}]}`
	ks, err := slackStages(mockslack.Message{Payload: json.RawMessage(payload)})
	if err != nil || len(ks) != 1 || ks[0] != (stageKey{"LATE-1", "response", "breach"}) {
		t.Errorf("slackStages = %+v, %v", ks, err)
	}
	// Alerts sent together: one attachment each.
	ks, err = slackStages(mockslack.Message{Payload: json.RawMessage(`{"text":"2 SLA alerts","attachments":[` +
		`{"fields":[{"title":"Ticket","value":"A"},{"title":"State","value":"ESCALATION 2"},{"title":"SLA","value":"resolution"}]},` +
		`{"fields":[{"title":"Ticket","value":"B"},{"title":"State","value":"ALERT"},{"title":"SLA","value":"response"}]}]}`)})
	if err != nil || len(ks) != 2 || ks[0] != (stageKey{"A", "resolution", "escalation-2"}) || ks[1] != (stageKey{"B", "response", "alert"}) {
		t.Errorf("slackStages of two alerts = %+v, %v", ks, err)
	}
	if _, err := slackStages(mockslack.Message{Payload: json.RawMessage(`{"text":"hello"}`)}); err == nil {
		t.Error("a message without the fields was accepted")
	}
	if _, err := slackStages(mockslack.Message{Payload: json.RawMessage(`{"attachments":[{"fields":[{"title":"Ticket","value":"A"}]}]}`)}); err == nil {
		t.Error("an attachment without SLA and State was accepted")
	}
}

func TestArrivalCountsMissingDuplicateAndUnexpected(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b, c := stageKey{"a", "response", "alert"}, stageKey{"b", "response", "alert"}, stageKey{"c", "response", "alert"}
	due := map[stageKey]time.Time{a: t0, b: t0, c: t0}
	got := []receipt{
		{key: a, at: t0.Add(100 * time.Millisecond)},
		{key: a, at: t0.Add(900 * time.Millisecond)}, // duplicate: not a lateness sample
		{key: b, at: t0.Add(300 * time.Millisecond)},
		{key: stageKey{"z", "response", "alert"}, at: t0},
	}
	r := arrival(due, got)
	if r.Received != 4 || r.Missing != 1 || r.Duplicates != 1 || r.Unexpected != 1 || r.ok() {
		t.Errorf("arrival = %+v", r)
	}
	if r.Lateness.N != 2 || r.Lateness.MaxMs != 300 {
		t.Errorf("lateness = %+v, want 2 samples, max 300 ms", r.Lateness)
	}
}

func TestReadMemoryOfThisProcess(t *testing.T) {
	m, ok := ReadMemory(os.Getpid())
	if !ok || m.PeakMB <= 0 || m.CurrentMB <= 0 || m.CurrentMB > m.PeakMB {
		t.Errorf("ReadMemory(self) = %+v, %v", m, ok)
	}
	if _, ok := ReadMemory(0); ok {
		t.Error("pid 0 reported memory")
	}
}
