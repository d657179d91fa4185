package watchdog_test

import (
	"fmt"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// A two-hour response target on a New York business-hours calendar with US
// public holidays: a ticket opened on Thursday 2 July 2026 at 16:30 gets 30
// minutes that day; Friday 3 July is the observed Independence Day (4 July
// is a Saturday) and the weekend is closed, so the clock runs out on Monday
// at 10:30.
func ExampleCalendar_Add() {
	cal, err := watchdog.NewCalendar("us-business", watchdog.CalendarConfig{
		TimeZone: "America/New_York",
		Hours: map[time.Weekday][]string{
			time.Monday:    {"09:00-17:00"},
			time.Tuesday:   {"09:00-12:00", "13:00-18:00"},
			time.Wednesday: {"09:00-17:00"},
			time.Thursday:  {"09:00-17:00"},
			time.Friday:    {"09:00-17:00"},
		},
		Holidays: []string{"2026-12-24"},
		Country:  "US",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	opened := time.Date(2026, 7, 2, 16, 30, 0, 0, cal.Location())
	due := cal.Add(opened, 2*time.Hour)
	fmt.Println("due:", due.Format(time.RFC3339))
	fmt.Println("business time:", cal.Between(opened, due))
	fmt.Println("open on the 3rd:", cal.IsOpen(time.Date(2026, 7, 3, 12, 0, 0, 0, cal.Location())))

	// A target that ends exactly at closing time is due at closing.
	fmt.Println("8h from Monday 09:00:", cal.Add(time.Date(2026, 7, 6, 9, 0, 0, 0, cal.Location()), 8*time.Hour).Format(time.RFC3339))
	// Output:
	// due: 2026-07-06T10:30:00-04:00
	// business time: 2h0m0s
	// open on the 3rd: false
	// 8h from Monday 09:00: 2026-07-06T17:00:00-04:00
}

// Errors name the offending item.
func ExampleNewCalendar() {
	_, err := watchdog.NewCalendar("support", watchdog.CalendarConfig{
		TimeZone: "Europe/Berlin",
		Hours:    map[time.Weekday][]string{time.Tuesday: {"09:00-12:00", "13:00-12:00"}},
	})
	fmt.Println(err)
	// Output:
	// calendar "support": hours.tue[1] "13:00-12:00": end before start
}
