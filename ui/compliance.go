package ui

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ComplianceSource gives the compliance page its figures: for each tier
// and week, how many SLA clocks stopped and how many of those met their
// target. The SLA reports (GET /reports/sla?group_by=tier,week) answer
// it; Config.Compliance takes an adapter over them.
type ComplianceSource interface {
	WeeklyCompliance(ctx context.Context, q ComplianceQuery) ([]ComplianceRow, error)
}

// ComplianceQuery asks for the weeks in [From, To): From and To are
// Mondays at 00:00 in Location.
type ComplianceQuery struct {
	From, To time.Time
	Location *time.Location
}

// ComplianceRow is one tier's week. A tier without stopped clocks in a
// week may be left out.
type ComplianceRow struct {
	Tier string
	// Week is the Monday the week starts, 00:00 in the query's location.
	Week    time.Time
	Stopped int
	Met     int
}

// Achieved is Met / Stopped; ok is false when nothing stopped.
func (r ComplianceRow) Achieved() (ratio float64, ok bool) {
	if r.Stopped == 0 {
		return 0, false
	}
	return float64(r.Met) / float64(r.Stopped), true
}

// Compliance page bounds.
const (
	defaultWeeks = 12
	maxWeeks     = 104
)

// complianceRange reads the page's weeks and tz parameters.
func (h *Handler) complianceRange(vals url.Values) (ComplianceQuery, int, error) {
	weeks := defaultWeeks
	if s := vals.Get("weeks"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxWeeks {
			return ComplianceQuery{}, 0, fmt.Errorf("weeks must be a whole number from 1 to %d", maxWeeks)
		}
		weeks = n
	}
	loc := time.UTC
	if s := vals.Get("tz"); s != "" && !strings.EqualFold(s, "local") {
		l, err := time.LoadLocation(s)
		if err != nil {
			return ComplianceQuery{}, 0, fmt.Errorf("tz %q is not a time zone name such as Europe/Berlin", s)
		}
		loc = l
	}
	now := h.cfg.Clock.Now().In(loc)
	monday := time.Date(now.Year(), now.Month(), now.Day()-(int(now.Weekday())+6)%7, 0, 0, 0, 0, loc)
	to := monday.AddDate(0, 0, 7)
	return ComplianceQuery{From: to.AddDate(0, 0, -7*weeks), To: to, Location: loc}, weeks, nil
}

// compliancePage is the compliance page's content.
type compliancePage struct {
	Available bool
	Weeks     int
	TZ        string
	CSV       string
	Chart     *chart
	Rows      []complianceLine
}

// complianceLine is a row of the page's table.
type complianceLine struct {
	Tier, Week, Achieved string
	Stopped, Met         int
}

func (h *Handler) compliance(w http.ResponseWriter, r *http.Request) {
	page := compliancePage{Available: h.cfg.Compliance != nil}
	if !page.Available {
		h.render(w, r, http.StatusOK, "compliance", layout{Title: "Compliance", Nav: "compliance", Page: page})
		return
	}
	q, weeks, rows, ok := h.weeklyRows(w, r)
	if !ok {
		return
	}
	page.Weeks, page.TZ = weeks, q.Location.String()
	page.CSV = "/ui/compliance.csv?" + url.Values{"weeks": {strconv.Itoa(weeks)}, "tz": {page.TZ}}.Encode()
	page.Chart = newChart(q, rows)
	for _, row := range rows {
		l := complianceLine{Tier: row.Tier, Week: row.Week.Format("2006-01-02"), Stopped: row.Stopped, Met: row.Met, Achieved: "–"}
		if a, ok := row.Achieved(); ok {
			l.Achieved = percent(a)
		}
		page.Rows = append(page.Rows, l)
	}
	h.render(w, r, http.StatusOK, "compliance", layout{Title: "Compliance", Nav: "compliance", Page: page})
}

// weeklyRows reads the request's weeks from the source, sorted by tier and
// week; it answers the request itself and returns false when it cannot.
func (h *Handler) weeklyRows(w http.ResponseWriter, r *http.Request) (ComplianceQuery, int, []ComplianceRow, bool) {
	q, weeks, err := h.complianceRange(r.URL.Query())
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return q, 0, nil, false
	}
	rows, err := h.cfg.Compliance.WeeklyCompliance(r.Context(), q)
	if err != nil {
		h.serviceError(w, r, err)
		return q, 0, nil, false
	}
	sortCompliance(rows)
	return q, weeks, rows, true
}

func sortCompliance(rows []ComplianceRow) {
	slices.SortFunc(rows, func(a, b ComplianceRow) int {
		if c := strings.Compare(a.Tier, b.Tier); c != 0 {
			return c
		}
		return a.Week.Compare(b.Week)
	})
}

// complianceCSV serves the page's figures as CSV, one row per tier and
// week.
func (h *Handler) complianceCSV(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Compliance == nil {
		h.fail(w, r, http.StatusNotFound, "Reports are not available on this server.")
		return
	}
	_, weeks, rows, ok := h.weeklyRows(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="sla-compliance-%dw.csv"`, weeks))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"tier", "week_start", "stopped", "met", "missed", "achieved_percent"})
	for _, row := range rows {
		achieved := ""
		if a, ok := row.Achieved(); ok {
			achieved = strconv.FormatFloat(a*100, 'f', 2, 64)
		}
		_ = cw.Write([]string{spreadsheetSafe(row.Tier), row.Week.Format("2006-01-02"), strconv.Itoa(row.Stopped),
			strconv.Itoa(row.Met), strconv.Itoa(row.Stopped - row.Met), achieved})
	}
	cw.Flush()
}

// spreadsheetSafe keeps a spreadsheet from running a cell as a formula.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
