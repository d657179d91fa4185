package watchdog

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// SLAReportCSVHeader is the header row of WriteSLAReportCSV for q: the keys
// q groups by, in its order, then the figures.
func SLAReportCSVHeader(q *SLAReportQuery) []string {
	h := append([]string(nil), q.GroupBy...)
	return append(h, "stopped", "met", "missed", "achieved_percent", "open", "open_breached",
		"p50_seconds", "p90_seconds", "past_target_seconds", "avg_past_target_seconds")
}

// SLAReportCSVRecord is one row of WriteSLAReportCSV: a period is its first
// day (2026-11-02) in q's time zone; a figure that is null is empty.
func SLAReportCSVRecord(q *SLAReportQuery, r *SLAReportRow) []string {
	rec := make([]string, 0, len(q.GroupBy)+10)
	for _, k := range q.GroupBy {
		switch k {
		case "policy":
			rec = append(rec, r.Policy)
		case "tier":
			rec = append(rec, r.Tier)
		case "priority":
			rec = append(rec, r.Priority)
		case "sla_type":
			rec = append(rec, r.SLAType)
		case "calendar":
			rec = append(rec, r.Calendar)
		default:
			p := ""
			if r.Period != nil {
				p = r.Period.In(location(q.Location)).Format(time.DateOnly)
			}
			rec = append(rec, p)
		}
	}
	return append(rec, strconv.Itoa(r.Stopped), strconv.Itoa(r.Met), strconv.Itoa(r.Missed), floatCell(r.AchievedPercent),
		strconv.Itoa(r.Open), strconv.Itoa(r.OpenBreached), intCell(r.P50Seconds), intCell(r.P90Seconds),
		strconv.FormatInt(r.PastTargetSeconds, 10), floatCell(r.AvgPastTargetSeconds))
}

// WriteSLAReportCSV writes a report as CSV with a header row, each text
// cell neutralised for spreadsheets (see CSVCell).
func WriteSLAReportCSV(w io.Writer, q *SLAReportQuery, rows []SLAReportRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(SLAReportCSVHeader(q))
	for i := range rows {
		_ = cw.Write(neutralise(SLAReportCSVRecord(q, &rows[i])))
	}
	cw.Flush()
	return cw.Error()
}

// OutcomeCSV writes outcomes as CSV, one row each after a header row.
type OutcomeCSV struct {
	w   *csv.Writer
	loc *time.Location
	rec []string
}

// OutcomeCSVHeader is the header row of OutcomeCSV.
var OutcomeCSVHeader = []string{"ticket_id", "sla_type", "cycle", "policy", "tier", "priority", "calendar", "result",
	"target_seconds", "started_at", "stopped_at", "business_seconds", "paused_seconds", "breached", "breach_at",
	"past_target_seconds", "cycle_started_at"}

// NewOutcomeCSV writes the header row to w and returns the writer; times
// are written in RFC 3339 in loc (nil: UTC).
func NewOutcomeCSV(w io.Writer, loc *time.Location) (*OutcomeCSV, error) {
	// Large writes: an export of a million rows is then a few thousand
	// writes to w (an HTTP response: each one a chunk and a system call).
	buf := bufio.NewWriterSize(w, 64<<10)
	c := &OutcomeCSV{w: csv.NewWriter(buf), loc: location(loc), rec: make([]string, len(OutcomeCSVHeader))}
	return c, c.w.Write(OutcomeCSVHeader)
}

// Write writes one outcome (buffered: Flush when done).
func (c *OutcomeCSV) Write(o *Outcome) error {
	t := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.In(c.loc).Format(time.RFC3339)
	}
	r := c.rec
	r[0], r[1], r[2], r[3] = CSVCell(o.TicketID), string(o.SLAClock), strconv.Itoa(o.Cycle), CSVCell(o.Policy)
	r[4], r[5], r[6], r[7] = CSVCell(o.Tier), CSVCell(o.Priority), CSVCell(o.Calendar), o.Result()
	r[8], r[9], r[10] = strconv.FormatInt(int64(o.Target/time.Second), 10), t(&o.StartedAt), t(o.StoppedAt)
	r[11], r[12] = strconv.FormatInt(int64(o.Business/time.Second), 10), strconv.FormatInt(int64(o.Paused/time.Second), 10)
	r[13], r[14], r[15] = strconv.FormatBool(o.Breached), t(o.BreachAt), strconv.FormatInt(int64(o.Overrun/time.Second), 10)
	r[16] = t(o.CycleStartedAt())
	return c.w.Write(r)
}

// Flush writes out what is buffered and reports any write error.
func (c *OutcomeCSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// CSVCell neutralises text a spreadsheet would run as a formula: a cell
// starting with =, +, -, @, a tab or a carriage return gets a leading '.
func CSVCell(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

func neutralise(rec []string) []string {
	for i := range rec {
		rec[i] = CSVCell(rec[i])
	}
	return rec
}

func floatCell(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func intCell(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func location(l *time.Location) *time.Location {
	if l == nil {
		return time.UTC
	}
	return l
}
