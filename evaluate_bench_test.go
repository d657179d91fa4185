package watchdog_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// BenchmarkEvaluate200Events evaluates one ticket whose history has 200
// events alternating between open and pending, on a business-hours
// calendar when the calendar is available, else 24x7.
func BenchmarkEvaluate200Events(b *testing.B) {
	for _, tc := range []struct {
		name string
		cal  func() (*watchdog.Calendar, error)
	}{
		{"24x7", func() (*watchdog.Calendar, error) { return nil, nil }},
		{"business-hours", func() (*watchdog.Calendar, error) {
			return watchdog.NewCalendar("ny", watchdog.CalendarConfig{
				TimeZone: "America/New_York",
				Hours: map[time.Weekday][]string{
					time.Monday: {"09:00-17:00"}, time.Tuesday: {"09:00-12:00", "13:00-18:00"}, time.Wednesday: {"09:00-17:00"},
					time.Thursday: {"09:00-17:00"}, time.Friday: {"09:00-17:00"},
				},
				Holidays: []string{"2026-07-03"},
			})
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cal, err := tc.cal()
			if err != nil {
				b.Skipf("calendar: %v", err)
			}
			p := testPolicy(1.5, 2.0)
			p.Tiers["gold"].Calendar = cal
			tk := &watchdog.Ticket{}
			var evs []watchdog.Event
			for i := 0; i < 200; i++ {
				status := "open"
				if i%2 == 1 {
					status = "pending"
				}
				evs = append(evs, watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: status,
					CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(i) * 7 * time.Minute)})
			}
			tk.Merge(evs...)
			now := t0.Add(30 * 24 * time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ev := watchdog.Evaluate(tk, p, now)
				if ev.SLAClocks == nil {
					b.Fatal(fmt.Sprint(ev))
				}
			}
		})
	}
}
