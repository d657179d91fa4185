package client_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/client"
)

// The report and the outcomes export through the client: one ticket whose
// response clock was met in 10 minutes and whose resolution clock is open.
func TestClientSLAReport(t *testing.T) {
	t.Parallel()
	_, url := serve(t, nil)
	c := newClient(t, url, nil)
	ctx := context.Background()
	answered := event("R-1")
	answered.Status, answered.UpdatedAt = "in_progress", created.Add(10*time.Minute)
	if _, err := c.Ingest(ctx, event("R-1"), answered); err != nil {
		t.Fatal(err)
	}
	q := client.SLAReportQuery{From: created.Add(-time.Hour), To: created.Add(24 * time.Hour), GroupBy: []string{"sla_type", "day"}, TZ: "+05:30"}
	rep, err := c.SLAReport(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Tz != "+05:30" {
		t.Fatalf("report: %+v", rep)
	}
	res, resp := rep.Rows[0], rep.Rows[1]
	if *res.SLAType != "resolution" || res.Open != 1 || res.Stopped != 0 || res.AchievedPercent != nil ||
		*resp.SLAType != "response" || resp.Stopped != 1 || resp.Met != 1 || *resp.AchievedPercent != 100 || *resp.P50Seconds != 600 {
		t.Errorf("rows: %+v %+v", res, resp)
	}
	if got := res.Period.Format(time.RFC3339); got != "2025-06-18T00:00:00+05:30" {
		t.Errorf("period %s", got)
	}
	var buf bytes.Buffer
	if err := c.SLAOutcomesCSV(ctx, q, &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ticket_id,sla_type,") || !strings.HasPrefix(lines[1], "R-1,response,0,tiers.gold.high,gold,high,24x7,met,1800,") {
		t.Errorf("CSV:\n%s", buf.String())
	}
	q.GroupBy = []string{"colour"}
	var apiErr *client.APIError
	if _, err := c.SLAReport(ctx, q); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("bad group_by: %v", err)
	}
}
