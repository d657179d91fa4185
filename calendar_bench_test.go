package watchdog

import (
	"testing"
	"time"
)

// benchCalendar is the calendar the benchmarks use: Mon–Fri 09:00–17:00 in
// a DST zone with the US public holidays and an explicit holiday.
func benchCalendar(b *testing.B) *Calendar {
	b.Helper()
	return mustCalendar(b, "bench", CalendarConfig{
		TimeZone: "America/New_York",
		Hours:    hoursOn(monFri, "09:00-17:00"),
		Holidays: []string{"2026-03-10", "2026-08-14"},
		Country:  "US",
	})
}

var benchSink time.Time

// BenchmarkCalendarAdd4Weeks adds four weeks (672h) of business time, that
// is 84 working days, from starts spread over a year so that DST changes and
// holidays are crossed.
func BenchmarkCalendarAdd4Weeks(b *testing.B) {
	c := benchCalendar(b)
	start := time.Date(2026, 1, 5, 10, 30, 0, 0, c.Location())
	c.Add(start, time.Hour) // warm the holiday cache
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchSink = c.Add(start.Add(time.Duration(i%365)*24*time.Hour), 4*7*24*time.Hour)
		i++
	}
}

// BenchmarkCalendarAddHour is the common case: a one-hour target.
func BenchmarkCalendarAddHour(b *testing.B) {
	c := benchCalendar(b)
	start := time.Date(2026, 1, 5, 10, 30, 0, 0, c.Location())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchSink = c.Add(start.Add(time.Duration(i%8760)*time.Hour), time.Hour)
		i++
	}
}

// BenchmarkCalendarAddSplitDay uses a split day in Sydney for 16 hours.
func BenchmarkCalendarAddSplitDay(b *testing.B) {
	c := mustCalendar(b, "split", CalendarConfig{TimeZone: "Australia/Sydney",
		Hours: hoursOn(monFri, "09:00-12:00", "13:00-18:00"), Country: "AU-NSW"})
	start := time.Date(2026, 1, 5, 10, 30, 0, 0, c.Location())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchSink = c.Add(start.Add(time.Duration(i%8760)*time.Hour), 16*time.Hour)
		i++
	}
}

var benchDuration time.Duration

// BenchmarkCalendarBetweenYear measures a whole year of business time.
func BenchmarkCalendarBetweenYear(b *testing.B) {
	c := benchCalendar(b)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, c.Location())
	end := start.AddDate(1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		benchDuration = c.Between(start, end)
	}
}

// BenchmarkCalendarBetweenDay measures a typical one-day span.
func BenchmarkCalendarBetweenDay(b *testing.B) {
	c := benchCalendar(b)
	start := time.Date(2026, 3, 9, 8, 0, 0, 0, c.Location())
	b.ReportAllocs()
	for b.Loop() {
		benchDuration = c.Between(start, start.Add(26*time.Hour))
	}
}

// BenchmarkCalendarBetweenDecade spans ten years.
func BenchmarkCalendarBetweenDecade(b *testing.B) {
	c := benchCalendar(b)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, c.Location())
	end := start.AddDate(10, 0, 0)
	c.Between(start, end)
	b.ReportAllocs()
	for b.Loop() {
		benchDuration = c.Between(start, end)
	}
}
