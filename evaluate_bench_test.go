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

// BenchmarkEvaluate200Messages evaluates one ticket with 200 messages, a
// customer message and an agent reply by turns (99 next-reply cycles, the
// first message being before the first response, and 100 periodic-update
// cycles), under a policy tracking all four clocks, with
// every stage so far fired: the cost of a ticket with a long conversation
// each time it is planned.
func BenchmarkEvaluate200Messages(b *testing.B) {
	p, err := watchdog.ParsePolicy([]byte(`
policies:
  - name: all
    targets: {response: 30m, resolution: 72h, next_reply: 1h, periodic_update: 4h}
tiers:
  gold:
    high: {response: 30, resolution: 180}
`))
	if err != nil {
		b.Fatal(err)
	}
	tk := &watchdog.Ticket{}
	ev := watchdog.Event{ID: "T", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0}
	for i := 0; i < 100; i++ {
		at := t0.Add(time.Duration(i) * 2 * time.Hour)
		ev.Messages = append(ev.Messages, watchdog.Message{At: at.Add(time.Minute), Author: watchdog.AuthorCustomer},
			watchdog.Message{At: at.Add(70 * time.Minute), Author: watchdog.AuthorAgent})
	}
	tk.Merge(ev)
	now := t0.Add(200*time.Hour + 30*time.Minute)
	fire(tk, watchdog.Evaluate(tk, p, now))
	if len(tk.Alerts) < 100 {
		b.Fatalf("%d alerts fired, want the missed cycles' stages", len(tk.Alerts))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := watchdog.Evaluate(tk, p, now)
		if len(ev.Due) != 0 || ev.SLAClocks[watchdog.NextReply].Cycle != 99 {
			b.Fatal(len(ev.Due), ev.SLAClocks[watchdog.NextReply].Cycle)
		}
	}
}
