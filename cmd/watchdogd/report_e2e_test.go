package main

import (
	"net/http"
	"strings"
	"testing"
)

// checkReport posts a week of gold/low tickets (response 1h, resolution 8h
// in twoSecondSLA) and reads their report through the running watchdogd:
// R-1 answers in 30m and resolves in 9h (missed by 1h), R-2 answers in 2h
// (missed by 1h) and is still open; the CSV has the hand-computed row.
func checkReport(t *testing.T, srv *liveServer) {
	t.Helper()
	ev := func(id, status, at string) string {
		return `{"id":"` + id + `","priority":"low","customer_tier":"gold","status":"` + status +
			`","created_at":"2026-11-02T09:00:00Z","updated_at":"2026-11-02T` + at + `:00Z"}`
	}
	body := "[" + strings.Join([]string{ev("R-1", "open", "09:00"), ev("R-1", "in_progress", "09:30"), ev("R-1", "resolved", "18:00"),
		ev("R-2", "open", "09:00"), ev("R-2", "in_progress", "11:00")}, ",") + "]"
	mustStatus(t, srv.do(t, "POST", "/tickets", body), http.StatusOK)
	r := srv.do(t, "GET", "/reports/sla?from=2026-11-02&to=2026-11-09&group_by=priority,sla_type&tz=Europe/Berlin&format=csv", "")
	mustStatus(t, r, http.StatusOK)
	want := "priority,sla_type,stopped,met,missed,achieved_percent,open,open_breached,p50_seconds,p90_seconds,past_target_seconds,avg_past_target_seconds\n" +
		"low,resolution,1,0,1,0,1,1,32400,32400,3600,3600\n" +
		"low,response,2,1,1,50,0,0,1800,7200,3600,3600\n"
	if string(r.body) != want {
		t.Errorf("report:\n%s\nwant:\n%s", r.body, want)
	}
	r = srv.do(t, "GET", "/reports/sla?group_by=shoe_size", "")
	mustStatus(t, r, http.StatusBadRequest)
}
