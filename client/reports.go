package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// SLAReportQuery asks for an SLA report (GET /reports/sla) or its outcomes
// (GET /reports/sla/outcomes). Zero fields take the server's defaults.
type SLAReportQuery struct {
	// From and To bound the range [From, To); zero: the last 30 days.
	From, To time.Time
	// By is "stopped" (default) or "started".
	By string
	// GroupBy lists keys among policy, tier, priority, sla_type, calendar and at
	// most one of day, week, month (ignored by the outcomes export).
	GroupBy []string
	// TZ is the time zone of periods: an IANA name or an offset (+05:30).
	TZ string
}

func (q SLAReportQuery) params() (from *ReportFrom, to *ReportTo, tz *ReportTZ) {
	if !q.From.IsZero() {
		s := q.From.Format(time.RFC3339Nano)
		from = &s
	}
	if !q.To.IsZero() {
		s := q.To.Format(time.RFC3339Nano)
		to = &s
	}
	if q.TZ != "" {
		tz = &q.TZ
	}
	return from, to, tz
}

// SLAReport asks for the SLA report as JSON.
func (c *Client) SLAReport(ctx context.Context, q SLAReportQuery) (*SLAReport, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	p := &GetSLAReportParams{}
	p.From, p.To, p.Tz = q.params()
	if q.By != "" {
		by := GetSLAReportParamsBy(q.By)
		p.By = &by
	}
	if len(q.GroupBy) > 0 {
		g := strings.Join(q.GroupBy, ",")
		p.GroupBy = &g
	}
	resp, err := c.raw.GetSLAReportWithResponse(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("client: GET /reports/sla: %w", err)
	}
	if resp.JSON200 == nil {
		return nil, answerError(resp.HTTPResponse, resp.Body)
	}
	return resp.JSON200, nil
}

// SLAOutcomesCSV copies the outcomes export, as CSV with a header row, to
// w as it streams in. It is bounded by ctx only (not Config.Timeout), since
// an export of a million rows takes a while, and is not retried once rows
// have arrived.
func (c *Client) SLAOutcomesCSV(ctx context.Context, q SLAReportQuery, w io.Writer) error {
	p := &GetSLAOutcomesParams{}
	p.From, p.To, p.Tz = q.params()
	if q.By != "" {
		by := GetSLAOutcomesParamsBy(q.By)
		p.By = &by
	}
	format := GetSLAOutcomesParamsFormat("csv")
	p.Format = &format
	resp, err := c.raw.GetSLAOutcomes(ctx, p)
	if err != nil {
		return fmt.Errorf("client: GET /reports/sla/outcomes: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return answerError(resp, body)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("client: GET /reports/sla/outcomes: %w", err)
	}
	return nil
}
