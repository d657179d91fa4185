package watchdogtest_test

import (
	"fmt"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// ExampleClock shows the fake clock: time stands still until the test moves
// it, and a timer fires when the clock passes its deadline, never before.
// Code under test takes a watchdog.Clock, so it cannot tell the difference.
func ExampleClock() {
	start := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(start)

	c, stop := clock.NewTimer(30 * time.Minute)
	next, _ := clock.NextTimer()
	fmt.Println("timers waiting:", clock.Timers(), "next at", next.Format(time.TimeOnly))

	clock.Advance(29 * time.Minute)
	select {
	case <-c:
		fmt.Println("fired early")
	default:
		fmt.Println("12:29: not yet")
	}

	clock.Advance(time.Minute)
	select {
	case at := <-c:
		fmt.Println("fired at", at.Format(time.TimeOnly), "- clock reads", clock.Now().Format(time.TimeOnly))
	default:
		fmt.Println("did not fire")
	}
	fmt.Println("stopped a fired timer:", stop(), "- timers waiting:", clock.Timers())
	// Output:
	// timers waiting: 1 next at 12:30:00
	// 12:29: not yet
	// fired at 12:30:00 - clock reads 12:30:00
	// stopped a fired timer: false - timers waiting: 0
}

// ExampleStartEngine tests a notifier against the real engine on a fake
// clock: the seed's gold/high ticket is due a first response in 30 minutes,
// with an alert at 85% (12:25:30). The harness lets the engine settle
// around each move of the clock, so whatever was due by then has fired and
// been delivered when Advance returns.
func ExampleStartEngine() {
	t := newExampleTB() // in a test, the test's t
	defer t.done()
	store := openSQLite(t) // any watchdog.Store

	created := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	rec := watchdogtest.NewRecorder(nil) // or NewRecorder(yourNotifier)
	h := watchdogtest.StartEngine(t, store, watchdogtest.NewClock(created),
		&watchdog.Config{Notifiers: map[string]watchdog.Notifier{"rec": rec}})
	h.Ingest(watchdog.Event{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created})

	h.Advance(25 * time.Minute)
	fmt.Println("12:25:00 delivered:", len(rec.Alerts()))
	h.Advance(time.Minute)
	for _, a := range rec.Alerts() {
		fmt.Printf("12:26:00 delivered: ticket %s %s %s, level %d\n", a.TicketID, a.SLAClock, a.Stage, a.EscalationLevel)
	}

	h.AdvanceTo(created.Add(time.Hour))
	for _, a := range h.Alerts("1") {
		d := a.Deliveries[0]
		fmt.Printf("recorded: %s %s due %s, to %s: %s after %d attempt\n", a.SLAClock, a.Stage, a.DueAt.Format(time.TimeOnly), d.Notifier, d.Status, d.Attempts)
	}
	// Output:
	// 12:25:00 delivered: 0
	// 12:26:00 delivered: ticket 1 response alert, level 1
	// recorded: response alert due 12:25:30, to rec: delivered after 1 attempt
	// recorded: response breach due 12:30:00, to rec: delivered after 1 attempt
}
