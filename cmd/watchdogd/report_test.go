package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store"
)

// watchdogd report prints the report of the configured store as a table
// or CSV, and the outcomes as CSV; bad flags exit 2 naming them.
func TestReportCommand(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:///" + filepath.Join(t.TempDir(), "watchdog.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := watchdog.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ev := func(id, status string, at time.Duration) watchdog.Event {
		return watchdog.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: status, CreatedAt: c, UpdatedAt: c.Add(at)}
	}
	if _, err := eng.Ingest(ctx, []watchdog.Event{ev("T-1", "open", 0), ev("T-1", "in_progress", 10*time.Minute),
		ev("T-1", "resolved", 210*time.Minute), ev("T-2", "open", 0), ev("T-2", "in_progress", 40*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	none := func(string) (string, bool) { return "", false }
	report := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"report", "-database-url", db, "-from", "2026-11-02", "-to", "2026-11-09"}, args...), &out, &errOut, none)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := report("-group-by", "sla_type", "-format", "csv")
	want := "sla_type,stopped,met,missed,achieved_percent,open,open_breached,p50_seconds,p90_seconds,past_target_seconds,avg_past_target_seconds\n" +
		"resolution,1,0,1,0,1,1,12600,12600,1800,1800\n" +
		"response,2,1,1,50,0,0,600,2400,600,600\n"
	if code != 0 || out != want {
		t.Errorf("csv: exit %d, %s\n%s\nwant:\n%s", code, errOut, out, want)
	}
	code, out, _ = report("-group-by", "tier,week", "-tz", "Europe/Berlin")
	for _, s := range []string{"SLA report 2026-11-02T00:00:00+01:00", "tier", "week", "gold", "2026-11-02", "33.33%", "40m0s", "3h30m0s", "20m0s"} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("table lacks %q (exit %d):\n%s", s, code, out)
		}
	}
	code, out, _ = report("-outcomes")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[1], "T-1,response,0,tiers.gold.high,gold,high,24x7,met,1800,") {
		t.Errorf("outcomes (exit %d):\n%s", code, out)
	}
	for _, bad := range [][]string{{"-group-by", "colour", "group_by"}, {"-tz", "Mars/Olympus", "-tz"}, {"-format", "xml", "-format"}, {"-to", "tomorrow", "-to"}} {
		if code, _, errOut := report(bad[:2]...); code != 2 || !strings.Contains(errOut, bad[2]) {
			t.Errorf("%v: exit %d, %s", bad, code, errOut)
		}
	}
}
