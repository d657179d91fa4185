package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

const cyclesPolicy = `
policies:
  - name: vip
    match: {tier: gold, tags: vip}
    targets: {response: 30m, next_reply: 1h, periodic_update: 4h}
tiers:
  gold:
    high: {response: 30, resolution: 180}
`

// The events' attributes, tags and messages, the policy in force and the
// cycle clocks, through the API and its contract.
func TestPoliciesAndCycles(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	p, err := watchdog.ParsePolicy([]byte(cyclesPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "POST", "/tickets", `[{"id":"v","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z",
		"status":"open","customer_tier":"gold","attributes":{"group":"billing"},"tags":["vip"],
		"messages":[{"at":"2025-06-18T12:01:00Z","author":"agent"},{"at":"2025-06-18T12:10:00Z","author":"customer"}]},
		{"id":"s","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}]`)
	mustStatus(t, r, http.StatusOK)
	tickets := decode[[]map[string]json.RawMessage](t, r.body)
	if string(tickets[0]["policy"]) != `"vip"` || string(tickets[0]["attributes"]) != `{"group":"billing"}` ||
		string(tickets[0]["tags"]) != `["vip"]` || string(tickets[1]["policy"]) != `"tiers.gold.high"` {
		t.Errorf("tickets: %s", r.body)
	}
	if _, err := e.eng.Hooks().EvaluateDue(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	r = e.do(t, "GET", "/tickets/v", "")
	mustStatus(t, r, http.StatusOK)
	var view struct {
		Messages []watchdog.Message                    `json:"messages"`
		SLA      map[string]map[string]json.RawMessage `json:"sla"`
		Alerts   []map[string]json.RawMessage          `json:"alerts"`
	}
	if err := json.Unmarshal(r.body, &view); err != nil {
		t.Fatal(err)
	}
	nr := view.SLA["next_reply"]
	if len(view.Messages) != 2 || string(nr["state"]) != `"breach"` || string(nr["cycle"]) != "1" ||
		string(nr["cycle_started_at"]) != `"2025-06-18T12:10:00Z"` || string(nr["cycles_missed"]) != "0" || view.SLA["resolution"] != nil {
		t.Errorf("ticket: %s", r.body)
	}
	if _, ok := view.SLA["response"]["cycle"]; ok {
		t.Errorf("the response clock has no cycles: %s", view.SLA["response"])
	}
	var cycleAlerts int
	for _, a := range view.Alerts {
		if string(a["sla_type"]) == `"next_reply"` && string(a["cycle_started_at"]) == `"2025-06-18T12:10:00Z"` && string(a["policy"]) == `"vip"` {
			cycleAlerts++
		}
	}
	if cycleAlerts != 2 {
		t.Errorf("next reply alerts %d, want alert and breach of cycle 1: %s", cycleAlerts, r.body)
	}
	r = e.do(t, "GET", "/dashboard?policy=vip", "")
	mustStatus(t, r, http.StatusOK)
	if ids := dashboardIDs(t, r); len(ids) != 1 || ids[0] != "v" || totalCount(t, r) != 1 {
		t.Errorf("policy=vip: %v", ids)
	}
	mustStatus(t, e.do(t, "GET", "/dashboard?policy=%00", ""), http.StatusBadRequest)
	mustStatus(t, e.do(t, "GET", "/alerts", ""), http.StatusOK)

	r = e.do(t, "POST", "/tickets", `{"id":"x","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z",
		"status":"open","customer_tier":"gold","attributes":{"Group":"b"},"messages":[{"at":"2025-06-18T11:00:00Z","author":"bot"}]}`)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	eb := decode[errorBody](t, r.body)
	fields := map[string]bool{}
	for _, d := range eb.Details {
		fields[d.Field] = d.ID == "x"
	}
	if !fields["attributes.Group"] || !fields["messages[0].at"] || !fields["messages[0].author"] {
		t.Errorf("422 details %+v", eb.Details)
	}
}
