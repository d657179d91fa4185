package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ticket-watchdog/watchdog"
)

// reportEvents: on Monday 2026-11-02 (seed policy, gold/high: response 30m,
// resolution 3h, 24x7), T-1 answers in 10m and resolves in 3h30m (missed by
// 30m); T-2 answers in 40m (missed by 10m) and resolves in 1h; "=1+1" is
// still open, both its clocks long past target.
const reportEvents = `[
 {"id":"T-1","priority":"high","customer_tier":"gold","status":"open","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:00:00Z"},
 {"id":"T-1","priority":"high","customer_tier":"gold","status":"in_progress","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:10:00Z"},
 {"id":"T-1","priority":"high","customer_tier":"gold","status":"resolved","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T12:30:00Z"},
 {"id":"T-2","priority":"high","customer_tier":"gold","status":"open","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:00:00Z"},
 {"id":"T-2","priority":"high","customer_tier":"gold","status":"in_progress","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:40:00Z"},
 {"id":"T-2","priority":"high","customer_tier":"gold","status":"resolved","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T10:00:00Z"},
 {"id":"=1+1","priority":"high","customer_tier":"gold","status":"open","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:00:00Z"}]`

func TestSLAReportHandComputed(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	mustStatus(t, e.do(t, "POST", "/tickets", reportEvents), http.StatusOK)

	r := e.do(t, "GET", "/reports/sla?from=2026-11-02&to=2026-11-09&group_by=tier,sla_type&format=csv", "")
	mustStatus(t, r, http.StatusOK)
	want := "tier,sla_type,stopped,met,missed,achieved_percent,open,open_breached,p50_seconds,p90_seconds,past_target_seconds,avg_past_target_seconds\n" +
		"gold,resolution,2,1,1,50,1,1,3600,12600,1800,1800\n" +
		"gold,response,2,1,1,50,1,1,600,2400,600,600\n"
	if got := string(r.body); got != want {
		t.Errorf("CSV report:\n%s\nwant:\n%s", got, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	// Accept: text/csv asks for the same.
	r = e.do(t, "GET", "/reports/sla?from=2026-11-02&to=2026-11-09&group_by=tier,sla_type", "", "Accept", "text/csv")
	if string(r.body) != want {
		t.Errorf("Accept: text/csv answered:\n%s", r.body)
	}

	// Weeks in Berlin, JSON.
	r = e.do(t, "GET", "/reports/sla?from=2026-11-02&to=2026-11-09&group_by=week&tz=Europe/Berlin", "")
	mustStatus(t, r, http.StatusOK)
	var body struct {
		From, TZ string
		GroupBy  []string `json:"group_by"`
		Rows     []map[string]any
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.From != "2026-11-02T00:00:00+01:00" || body.TZ != "Europe/Berlin" || len(body.Rows) != 1 {
		t.Fatalf("report: %s", r.body)
	}
	row, _ := json.Marshal(body.Rows[0])
	wantRow := `{"achieved_percent":50,"avg_past_target_seconds":1200,"met":2,"missed":2,"open":2,"open_breached":2,` +
		`"p50_seconds":2400,"p90_seconds":12600,"past_target_seconds":2400,"period":"2026-11-02T00:00:00+01:00","stopped":4}`
	if string(row) != wantRow {
		t.Errorf("row %s\nwant %s", row, wantRow)
	}

	// A week with nothing: no rows.
	r = e.do(t, "GET", "/reports/sla?from=2026-11-09&to=2026-11-16&group_by=week", "")
	if !strings.Contains(string(r.body), `"rows":[]`) {
		t.Errorf("empty week: %s", r.body)
	}
}

func TestSLAOutcomesExport(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	mustStatus(t, e.do(t, "POST", "/tickets", reportEvents), http.StatusOK)
	// "=1+1" answers in 5 minutes: its response outcome has a row, its
	// resolution clock (never stopped) none.
	mustStatus(t, e.do(t, "POST", "/tickets", `{"id":"=1+1","priority":"high","customer_tier":"gold","status":"in_progress",`+
		`"created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:05:00Z"}`), http.StatusOK)
	r := e.do(t, "GET", "/reports/sla/outcomes?from=2026-11-02&to=2026-11-03&format=csv", "")
	mustStatus(t, r, http.StatusOK)
	want := "ticket_id,sla_type,cycle,policy,tier,priority,calendar,result,target_seconds,started_at,stopped_at,business_seconds,paused_seconds,breached,breach_at,past_target_seconds,cycle_started_at\n" +
		"'=1+1,response,0,tiers.gold.high,gold,high,24x7,met,1800,2026-11-02T09:00:00Z,2026-11-02T09:05:00Z,300,0,false,,0,\n" +
		"T-1,response,0,tiers.gold.high,gold,high,24x7,met,1800,2026-11-02T09:00:00Z,2026-11-02T09:10:00Z,600,0,false,,0,\n" +
		"T-2,response,0,tiers.gold.high,gold,high,24x7,missed,1800,2026-11-02T09:00:00Z,2026-11-02T09:40:00Z,2400,0,true,2026-11-02T09:30:00Z,600,\n" +
		"T-2,resolution,0,tiers.gold.high,gold,high,24x7,met,10800,2026-11-02T09:00:00Z,2026-11-02T10:00:00Z,3600,0,false,,0,\n" +
		"T-1,resolution,0,tiers.gold.high,gold,high,24x7,missed,10800,2026-11-02T09:00:00Z,2026-11-02T12:30:00Z,12600,0,true,2026-11-02T12:00:00Z,1800,\n"
	if got := string(r.body); got != want {
		t.Errorf("outcomes CSV:\n%s\nwant:\n%s", got, want)
	}
	r = e.do(t, "GET", "/reports/sla/outcomes?from=2026-11-02&to=2026-11-03&by=started", "")
	mustStatus(t, r, http.StatusOK)
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 5 {
		t.Fatalf("JSON outcomes (%v): %s", err, r.body)
	}
	r = e.do(t, "GET", "/reports/sla/outcomes?from=2026-12-02&to=2026-12-03", "")
	if string(r.body) != "[]\n" {
		t.Errorf("no outcomes: %q", r.body)
	}
}

func TestSLAReportBadQueries(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	for _, tc := range []struct{ query, field string }{
		{"group_by=tier,colour", "group_by"},
		{"group_by=week,month", "group_by"},
		{"from=2026-11-09&to=2026-11-02", "from"},
		{"tz=Mars/Olympus", "tz"},
		{"tz=../../etc/passwd", "tz"},
		{"from=2019-01-01&to=2026-01-01", "to"},
		{"from=yesterday", "from"},
		{"to=2026-13-01", "to"},
		{"format=xml", "format"},
		{"by=closed", "by"},
		{"tz=%zz", "tz"},
	} {
		for _, path := range []string{"/reports/sla?", "/reports/sla/outcomes?"} {
			r := e.do(t, "GET", path+tc.query, "")
			if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
				t.Errorf("%s%s: %d %s; want 400 naming %s", path, tc.query, r.code, r.body, tc.field)
			}
		}
	}
}

// Reports by policy, and one outcome per cycle of the conversation clocks:
// v (vip) is answered at 09:10 (response met in 600s; a periodic update
// runs from then), writes at 09:20 and is answered at 09:50 (next reply
// met in 1800s, the periodic update met in 2400s, the next one running
// since, long past its 4h); s (tiers.gold.high) answers in 600s and
// resolves in 3600s.
func TestSLAReportByPolicyAndCycles(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	p, err := watchdog.ParsePolicy([]byte(cyclesPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, e.do(t, "POST", "/tickets", `[
 {"id":"v","priority":"high","customer_tier":"gold","status":"open","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:00:00Z","tags":["vip"],
  "messages":[{"at":"2026-11-02T09:10:00Z","author":"agent"},{"at":"2026-11-02T09:20:00Z","author":"customer"},{"at":"2026-11-02T09:50:00Z","author":"agent"}]},
 {"id":"s","priority":"high","customer_tier":"gold","status":"open","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:00:00Z"},
 {"id":"s","priority":"high","customer_tier":"gold","status":"in_progress","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T09:10:00Z"},
 {"id":"s","priority":"high","customer_tier":"gold","status":"resolved","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T10:00:00Z"}]`), http.StatusOK)
	r := e.do(t, "GET", "/reports/sla?from=2026-11-02&to=2026-11-09&group_by=policy,sla_type&format=csv", "")
	mustStatus(t, r, http.StatusOK)
	want := "policy,sla_type,stopped,met,missed,achieved_percent,open,open_breached,p50_seconds,p90_seconds,past_target_seconds,avg_past_target_seconds\n" +
		"tiers.gold.high,resolution,1,1,0,100,0,0,3600,3600,0,\n" +
		"tiers.gold.high,response,1,1,0,100,0,0,600,600,0,\n" +
		"vip,next_reply,1,1,0,100,0,0,1800,1800,0,\n" +
		"vip,periodic_update,1,1,0,100,1,1,2400,2400,0,\n" +
		"vip,response,1,1,0,100,0,0,600,600,0,\n"
	if got := string(r.body); got != want {
		t.Errorf("CSV report by policy:\n%s\nwant:\n%s", got, want)
	}
	r = e.do(t, "GET", "/reports/sla?from=2026-11-02&to=2026-11-09&group_by=policy", "")
	mustStatus(t, r, http.StatusOK)
	var body struct{ Rows []map[string]any }
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Rows) != 2 || body.Rows[1]["policy"] != "vip" || body.Rows[1]["stopped"] != 3.0 {
		t.Errorf("JSON report by policy (%v): %s", err, r.body)
	}
	r = e.do(t, "GET", "/reports/sla/outcomes?from=2026-11-02&to=2026-11-03&by=started", "")
	mustStatus(t, r, http.StatusOK)
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	var cycles []string
	for _, o := range list {
		if o["sla_type"] == "next_reply" || o["sla_type"] == "periodic_update" {
			cycles = append(cycles, fmt.Sprintf("%v #%v %v %v %v", o["sla_type"], o["cycle"], o["cycle_started_at"], o["result"], o["policy"]))
		}
	}
	wantCycles := []string{"periodic_update #1 2026-11-02T09:10:00Z met vip", "next_reply #1 2026-11-02T09:20:00Z met vip",
		"periodic_update #2 2026-11-02T09:50:00Z in_progress vip"}
	if strings.Join(cycles, "\n") != strings.Join(wantCycles, "\n") {
		t.Errorf("cycle outcomes:\n%s\nwant:\n%s", strings.Join(cycles, "\n"), strings.Join(wantCycles, "\n"))
	}
}
