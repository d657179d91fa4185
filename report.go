package watchdog

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report period keys of SLAReportQuery.GroupBy: calendar days, weeks
// (starting on Monday) and months in the query's time zone.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
)

// Report selections of SLAReportQuery.By.
const (
	// ByStopped selects stopped clocks by the instant they stopped, and
	// clocks in progress by the instant they started.
	ByStopped = "stopped"
	// ByStarted selects every clock by the instant it started.
	ByStarted = "started"
)

// SLAReportKeys are the non-period keys a report may group by, in the
// order rows are sorted.
var SLAReportKeys = []string{"policy", "tier", "priority", "sla_type", "calendar"}

// Report limits and defaults.
const (
	DefaultReportRange = 30 * 24 * time.Hour
	// MaxReportRange bounds [From, To): five years of 366 days.
	MaxReportRange = 5 * 366 * 24 * time.Hour
)

// SLAReportQuery asks for SLA outcomes aggregated by group. Ranges are
// [From, To).
type SLAReportQuery struct {
	From, To time.Time
	// By is ByStopped (the default) or ByStarted.
	By string
	// GroupBy lists keys among SLAReportKeys and at most one period
	// (PeriodDay, PeriodWeek, PeriodMonth); none gives one row.
	GroupBy []string
	// Location is the time zone periods are laid out in; nil is UTC.
	Location *time.Location
	// Now is the instant clocks in progress are judged at (already
	// breached or not); the engine sets it.
	Now time.Time
}

// Validate checks the query and fills defaults: To defaults to Now and From
// to 30 days before To; By to ByStopped; Location to UTC.
func (q *SLAReportQuery) Validate() error {
	var errs []FieldError
	if q.Location == nil {
		q.Location = time.UTC
	}
	if q.To.IsZero() {
		q.To = q.Now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultReportRange)
	}
	switch {
	case q.From.After(q.To):
		errs = append(errs, FieldError{Field: "from", Message: "must not be after to"})
	case q.To.Sub(q.From) > MaxReportRange:
		errs = append(errs, FieldError{Field: "to", Message: "the range from..to must be at most 5 years"})
	}
	switch q.By {
	case "":
		q.By = ByStopped
	case ByStopped, ByStarted:
	default:
		errs = append(errs, FieldError{Field: "by", Message: "must be stopped or started"})
	}
	seen := map[string]bool{}
	periods := 0
	for _, k := range q.GroupBy {
		switch {
		case k == PeriodDay || k == PeriodWeek || k == PeriodMonth:
			periods++
		case !slices.Contains(SLAReportKeys, k):
			errs = append(errs, FieldError{Field: "group_by", Message: fmt.Sprintf("unknown key %q: use policy, tier, priority, sla_type, calendar and one of day, week, month", k)})
			continue
		}
		if seen[k] {
			errs = append(errs, FieldError{Field: "group_by", Message: fmt.Sprintf("key %q given twice", k)})
		}
		seen[k] = true
	}
	if periods > 1 {
		errs = append(errs, FieldError{Field: "group_by", Message: "at most one of day, week, month"})
	}
	if len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}

// Groups reports whether the query groups by key.
func (q *SLAReportQuery) Groups(key string) bool { return slices.Contains(q.GroupBy, key) }

// Period is the query's period key, "" when it groups by none.
func (q *SLAReportQuery) Period() string {
	for _, k := range q.GroupBy {
		if k == PeriodDay || k == PeriodWeek || k == PeriodMonth {
			return k
		}
	}
	return ""
}

// Bounds (for Store implementations) returns the starts of the periods
// that [From, To) touches, in order, the first at or before From; with no
// period key, just From. Stores put an instant in the last bound at or
// before it. Periods are calendar days, Monday weeks and months of the
// query's Location, so they follow its DST changes.
func (q *SLAReportQuery) Bounds() []time.Time {
	p := q.Period()
	if p == "" {
		return []time.Time{q.From}
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	f := q.From.In(loc)
	start := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	switch p {
	case PeriodWeek:
		start = time.Date(f.Year(), f.Month(), f.Day()-(int(f.Weekday())+6)%7, 0, 0, 0, 0, loc)
	case PeriodMonth:
		start = time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, loc)
	}
	var out []time.Time
	for i := 0; ; i++ {
		var b time.Time
		switch p {
		case PeriodDay:
			b = time.Date(start.Year(), start.Month(), start.Day()+i, 0, 0, 0, 0, loc)
		case PeriodWeek:
			b = time.Date(start.Year(), start.Month(), start.Day()+7*i, 0, 0, 0, 0, loc)
		default:
			b = time.Date(start.Year(), start.Month()+time.Month(i), 1, 0, 0, 0, 0, loc)
		}
		if i > 0 && !b.Before(q.To) {
			return out
		}
		out = append(out, b)
	}
}

// SLAReportRow is one group of an SLA report. Keys the query does not
// group by are empty (Period nil). Times are business seconds.
type SLAReportRow struct {
	// Policy is the policy in force that gave the clocks' targets (a
	// tiers entry: "tiers.<tier>.<priority>").
	Policy   string     `json:"policy,omitempty"`
	Tier     string     `json:"tier,omitempty"`
	Priority string     `json:"priority,omitempty"`
	SLAType  string     `json:"sla_type,omitempty"`
	Calendar string     `json:"calendar,omitempty"`
	Period   *time.Time `json:"period,omitempty"`
	// Stopped clocks, of which Met and Missed.
	Stopped int `json:"stopped"`
	Met     int `json:"met"`
	Missed  int `json:"missed"`
	// AchievedPercent is 100 × Met / Stopped, rounded to 2 decimals; nil
	// when nothing stopped.
	AchievedPercent *float64 `json:"achieved_percent"`
	// Open clocks (in progress), of which OpenBreached already past their
	// target at the query's Now.
	Open         int `json:"open"`
	OpenBreached int `json:"open_breached"`
	// P50Seconds and P90Seconds are nearest-rank percentiles of the
	// stopped clocks' business seconds; nil when nothing stopped.
	P50Seconds *int64 `json:"p50_seconds"`
	P90Seconds *int64 `json:"p90_seconds"`
	// PastTargetSeconds totals the missed clocks' time past target;
	// AvgPastTargetSeconds is its mean over them (nil when none missed),
	// rounded to 2 decimals.
	PastTargetSeconds    int64    `json:"past_target_seconds"`
	AvgPastTargetSeconds *float64 `json:"avg_past_target_seconds"`
}

// Finish (for Store implementations) sets the derived figures of a row
// whose counts and PastTargetSeconds are set.
func (r *SLAReportRow) Finish() {
	r.Missed = r.Stopped - r.Met
	r.AchievedPercent, r.AvgPastTargetSeconds = nil, nil
	if r.Stopped > 0 {
		r.AchievedPercent = round2(100 * float64(r.Met) / float64(r.Stopped))
	}
	if r.Missed > 0 {
		r.AvgPastTargetSeconds = round2(float64(r.PastTargetSeconds) / float64(r.Missed))
	}
}

func round2(x float64) *float64 {
	v := math.Round(x*100) / 100
	return &v
}

// NearestRank returns the nearest-rank percentile p (0..1] of sorted
// values: the value at rank ceil(p × n), as PostgreSQL's percentile_disc.
func NearestRank(sorted []int64, p float64) int64 {
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// SortSLAReport orders rows by period, then policy, tier, priority, SLA
// type and calendar.
func SortSLAReport(rows []SLAReportRow) {
	slices.SortFunc(rows, func(a, b SLAReportRow) int {
		switch {
		case a.Period != nil && b.Period != nil && !a.Period.Equal(*b.Period):
			return a.Period.Compare(*b.Period)
		}
		for _, c := range [][2]string{{a.Policy, b.Policy}, {a.Tier, b.Tier}, {a.Priority, b.Priority}, {a.SLAType, b.SLAType}, {a.Calendar, b.Calendar}} {
			if c[0] != c[1] {
				return strings.Compare(c[0], c[1])
			}
		}
		return 0
	})
}

var offsetZone = regexp.MustCompile(`^(?:UTC)?([+-])(\d{2}):?(\d{2})$`)

// ParseTimeZone reads an IANA time zone name ("Europe/Berlin", "UTC") or
// a fixed offset ("+05:30", "-0800", "UTC+01:00"); "" is UTC.
func ParseTimeZone(s string) (*time.Location, error) {
	if s == "" {
		return time.UTC, nil
	}
	if m := offsetZone.FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		if h > 14 || mi > 59 {
			return nil, fmt.Errorf("offset %q out of range", s)
		}
		off := h*3600 + mi*60
		if m[1] == "-" {
			off = -off
		}
		return time.FixedZone(s, off), nil
	}
	if strings.ContainsAny(s, "\x00\\") || strings.HasPrefix(s, "/") || strings.Contains(s, "..") {
		return nil, fmt.Errorf("unknown time zone %q", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil || s == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", s)
	}
	return loc, nil
}

// ParseReportTime reads an RFC 3339 instant or a date (2006-01-02, midnight
// in loc).
func ParseReportTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("must be an RFC 3339 time (2026-11-02T00:00:00Z) or a date (2026-11-02), got %q", s)
}
