package watchdog_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ticket-watchdog/watchdog"
)

func TestCalendarHoursAndNextHolidays(t *testing.T) {
	t.Parallel()
	cal, err := watchdog.NewCalendar("eu", watchdog.CalendarConfig{
		TimeZone: "Europe/Berlin",
		Hours: map[time.Weekday][]string{
			time.Monday:  {"13:00-17:00", "09:00-12:00"},
			time.Tuesday: {"09:00-17:00"},
		},
		Holidays: []string{"2026-12-31", "2026-12-24"},
		Country:  "DE",
	})
	if err != nil {
		t.Fatal(err)
	}
	h := cal.Hours()
	want := [7][]watchdog.TimeRange{
		time.Monday:  {{Start: 9 * time.Hour, End: 12 * time.Hour}, {Start: 13 * time.Hour, End: 17 * time.Hour}},
		time.Tuesday: {{Start: 9 * time.Hour, End: 17 * time.Hour}},
	}
	if d := cmp.Diff(want, h); d != "" {
		t.Errorf("Hours (-want +got):\n%s", d)
	}
	berlin := cal.Location()
	// 23:30 UTC on 23 December is already the 24th in Berlin.
	got := cal.NextHolidays(time.Date(2026, 12, 23, 23, 30, 0, 0, time.UTC), 4)
	wantDays := []time.Time{
		time.Date(2026, 12, 24, 0, 0, 0, 0, berlin),
		time.Date(2026, 12, 25, 0, 0, 0, 0, berlin), // Christmas (DE)
		time.Date(2026, 12, 26, 0, 0, 0, 0, berlin),
		time.Date(2026, 12, 31, 0, 0, 0, 0, berlin),
	}
	if d := cmp.Diff(wantDays, got); d != "" {
		t.Errorf("NextHolidays (-want +got):\n%s", d)
	}
	var nilCal *watchdog.Calendar
	if got := nilCal.NextHolidays(time.Now(), 3); got != nil {
		t.Errorf("24x7 holidays %v", got)
	}
	if h := nilCal.Hours(); len(h[time.Sunday]) != 1 || h[time.Sunday][0].String() != "00:00-24:00" {
		t.Errorf("24x7 hours %v", h)
	}
}
