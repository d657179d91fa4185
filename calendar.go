package watchdog

import (
	"errors"
	"time"
)

// CalendarConfig describes a business-hours calendar as the SLA file does.
type CalendarConfig struct {
	// TimeZone is an IANA zone name such as "America/New_York".
	TimeZone string
	// Hours maps a weekday to its opening ranges, local wall-clock times
	// such as "09:00-17:00" or "00:00-24:00". A day absent or empty is closed.
	Hours map[time.Weekday][]string
	// Holidays are closed dates, "2006-01-02".
	Holidays []string
	// Country is an ISO 3166 code whose public holidays close the calendar.
	Country string
}

// Calendar counts business time: the instants inside its opening hours,
// outside its holidays. A nil *Calendar is open around the clock.
type Calendar struct {
	name string
}

// NewCalendar builds a calendar from its configuration.
func NewCalendar(name string, cfg CalendarConfig) (*Calendar, error) {
	return nil, errors.New("watchdog: calendars not implemented yet")
}

// Name is the calendar's name in the SLA file; "24x7" for the nil calendar.
func (c *Calendar) Name() string {
	if c == nil {
		return "24x7"
	}
	return c.name
}

// Add returns the earliest instant t such that the business time in
// [start, t) equals d. Add(start, 0) is start.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	return start.Add(d)
}

// Between returns the business time in [a, b); 0 when b is not after a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	return b.Sub(a)
}
