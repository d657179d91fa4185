package ui

import (
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// PolicyStatus is where the policy in force came from and how its last
// reload went, for the policy page (package server fills it from the SLA
// file watcher).
type PolicyStatus struct {
	// Path is the SLA file; Source says what is in force: "file" or
	// "built-in default".
	Path   string
	Source string
	// LoadedAt is when the file's policy was put in force, Generation how
	// many times one was, Hash the hex SHA-256 of its content.
	LoadedAt   time.Time
	Generation int
	Hash       string
	// LastAttempt is when the file was last read; LastError why that
	// failed ("" when it did not), and LastErrorSummary the same without
	// anything read from the file. The page shows LastError only when
	// sign-in is required, the summary otherwise.
	LastAttempt      time.Time
	LastError        string
	LastErrorSummary string
}

// policyPage is the policy page's content.
type policyPage struct {
	Status    *PolicyStatus
	Error     string
	Stages    []stageLine
	Statuses  watchdog.StatusSets
	Targets   []watchdog.PolicyRow
	Policies  []policyLine
	Calendars []calendarView
}

// policyLine is one of the file's policies, tried in order before the
// tiers.
type policyLine struct {
	Name, Match, Calendar string
	Targets               watchdog.Targets
}

type stageLine struct {
	Name, At string
}

// calendarView is one calendar: its zone, hours by weekday and next
// closed days.
type calendarView struct {
	Name, Zone string
	Days       []dayHours
	Holidays   []string
}

type dayHours struct {
	Day   string
	Hours []string
}

// holidaysShown is how many coming closed days the page lists per
// calendar.
const holidaysShown = 6

func (h *Handler) policy(w http.ResponseWriter, r *http.Request) {
	p := h.svc.Policy()
	page := policyPage{Statuses: p.Statuses, Targets: p.Summary()}
	if h.cfg.PolicyStatus != nil {
		st := h.cfg.PolicyStatus()
		page.Status = &st
		page.Error = st.LastErrorSummary
		if h.cfg.APIToken != "" && st.LastError != "" {
			page.Error = st.LastError
		}
	}
	for _, st := range p.Stages() {
		page.Stages = append(page.Stages, stageLine{Name: st.Name, At: percent(st.Fraction) + " of the target"})
	}
	now := h.cfg.Clock.Now()
	cals := map[string]*watchdog.Calendar{}
	for name, c := range p.Calendars {
		cals[name] = c
	}
	for _, tp := range p.Tiers {
		if tp != nil && tp.Calendar == nil {
			cals["24x7"] = nil
		}
	}
	for _, sp := range p.Policies {
		page.Policies = append(page.Policies, policyLine{Name: sp.Name, Match: sp.Match.String(), Calendar: sp.Calendar.Name(), Targets: sp.Targets})
		if sp.Calendar == nil {
			cals["24x7"] = nil
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cals)) {
		page.Calendars = append(page.Calendars, newCalendarView(name, cals[name], now))
	}
	h.render(w, r, http.StatusOK, "policy", layout{Title: "SLA policy", Nav: "policy", Page: page})
}

func newCalendarView(name string, c *watchdog.Calendar, now time.Time) calendarView {
	v := calendarView{Name: name, Zone: c.Location().String()}
	hours := c.Hours()
	for i := range 7 {
		day := time.Weekday((i + 1) % 7) // Monday first
		d := dayHours{Day: day.String()}
		for _, r := range hours[day] {
			d.Hours = append(d.Hours, r.String())
		}
		v.Days = append(v.Days, d)
	}
	for _, hd := range c.NextHolidays(now, holidaysShown) {
		v.Holidays = append(v.Holidays, hd.Format("Mon 2 Jan 2006"))
	}
	return v
}
