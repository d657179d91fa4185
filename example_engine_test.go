package watchdog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// exampleSeedEvent is the ticket of the seed README's curl example.
func exampleSeedEvent() watchdog.Event {
	created := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	return watchdog.Event{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created}
}

// openExampleStore opens a SQLite store in a fresh temporary directory and
// returns a function that closes it and removes the directory.
func openExampleStore(ctx context.Context) (*sqlite.Store, func(), error) {
	dir, err := os.MkdirTemp("", "watchdog-example-")
	if err != nil {
		return nil, nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "watchdog.db"), nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return st, func() {
		st.Close()
		os.RemoveAll(dir)
	}, nil
}

// ExampleEngineHooks_EvaluateDue ingests the seed's example ticket (gold, high:
// 30 minutes to first response) into an engine on a fake clock, moves the
// clock past the alert instant (85% of 30 minutes) and fires the stages due.
// Nothing sleeps: the engine asks its Clock for the time, and tests move it.
func ExampleEngineHooks_EvaluateDue() {
	ctx := context.Background()
	st, cleanup, err := openExampleStore(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	ev := exampleSeedEvent()
	clock := watchdogtest.NewClock(ev.CreatedAt)
	eng, err := watchdog.New(st, &watchdog.Config{Clock: clock}) // the seed's policy
	if err != nil {
		fmt.Println(err)
		return
	}
	tickets, err := eng.Ingest(ctx, []watchdog.Event{ev})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("next due:", tickets[0].NextDueAt.Format(time.TimeOnly))

	clock.Advance(26 * time.Minute)
	for range 2 { // the second pass finds the stage already fired
		alerts, err := eng.Hooks().EvaluateDue(ctx, clock.Now())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("fired:", len(alerts))
		for _, a := range alerts {
			fmt.Printf("  %s %s due %s, level %d: %s\n", a.SLAClock, a.Stage, a.DueAt.Format(time.TimeOnly), a.EscalationLevel, a.Message)
		}
	}

	view, err := eng.Ticket(ctx, "1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("escalation level:", view.EscalationLevel, "state:", view.State)
	for _, kind := range watchdog.SLAClocks {
		c := view.SLAClocks[kind]
		fmt.Printf("%s: %s, %ds of %ds used, breach at %s\n", kind, c.State, c.ElapsedSeconds, c.TargetSeconds, c.BreachAt.Format(time.TimeOnly))
	}
	// Output:
	// next due: 12:25:30
	// fired: 1
	//   response alert due 12:25:30, level 1: Response SLA at 85% of its 30m target
	// fired: 0
	// escalation level: 1 state: alert
	// response: alert, 1560s of 1800s used, breach at 12:30:00
	// resolution: ok, 1560s of 10800s used, breach at 15:00:00
}

// ExampleEvaluate evaluates a ticket's timeline without any store: Evaluate
// is a pure function of the ticket, the policy and the instant. The first
// agent reply (open → in_progress) stops the response clock; waiting on the
// customer pauses the resolution clock, which resumes where it stopped, so
// its alert and breach instants move by the length of the pause.
func ExampleEvaluate() {
	at := func(hhmm string) time.Time {
		t, err := time.Parse(time.DateTime, "2025-06-18 "+hhmm+":00")
		if err != nil {
			panic(err)
		}
		return t
	}
	event := func(status, hhmm string) watchdog.Event {
		return watchdog.Event{ID: "7", Priority: "high", CustomerTier: "gold", Status: status, CreatedAt: at("12:00"), UpdatedAt: at(hhmm)}
	}
	policy := watchdog.DefaultPolicy() // gold high: response 30m, resolution 3h
	t := &watchdog.Ticket{}
	t.Merge(
		event("open", "12:00"),
		event("in_progress", "12:10"),         // first response after 10 minutes
		event("waiting_on_customer", "13:00"), // pause after 1h of resolution time
	)
	show := func(now time.Time) {
		ev := watchdog.Evaluate(t, policy, now)
		fmt.Printf("at %s: ticket %s\n", now.Format("15:04"), ev.State)
		for _, kind := range watchdog.SLAClocks {
			c := ev.SLAClocks[kind]
			line := fmt.Sprintf("  %-10s %-6s used %v", kind, c.State, c.Elapsed)
			if c.AlertAt != nil {
				line += fmt.Sprintf(", alert at %s, breach at %s", c.AlertAt.Format(time.TimeOnly), c.BreachAt.Format(time.TimeOnly))
			}
			fmt.Println(line)
		}
	}
	show(at("14:00"))
	t.Merge(event("in_progress", "15:00")) // the customer answered: resume
	show(at("16:00"))
	// Output:
	// at 14:00: ticket ok
	//   response   met    used 10m0s
	//   resolution paused used 1h0m0s
	// at 16:00: ticket ok
	//   response   met    used 10m0s
	//   resolution ok     used 2h0m0s, alert at 16:33:00, breach at 17:00:00
}

// ExampleEngine_Subscribe streams alerts as they are committed. A SQLite
// store's subscribers see the alerts recorded through the same store; a
// Postgres store's see every process's, through LISTEN/NOTIFY. The engine's
// Run loop calls EvaluateDue at each due instant; here the example calls it
// after moving a fake clock past the breach.
func ExampleEngine_Subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, cleanup, err := openExampleStore(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	ev := exampleSeedEvent()
	clock := watchdogtest.NewClock(ev.CreatedAt)
	eng, err := watchdog.New(st, &watchdog.Config{Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	alerts, err := eng.Subscribe(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := eng.Ingest(ctx, []watchdog.Event{ev}); err != nil {
		fmt.Println(err)
		return
	}

	clock.Advance(31 * time.Minute) // past both response stages at once
	if _, err := eng.Hooks().EvaluateDue(ctx, clock.Now()); err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		select {
		case a := <-alerts:
			fmt.Printf("ticket %s: %s %s (%s), escalation level %d\n", a.TicketID, a.SLAClock, a.Stage, a.State, a.EscalationLevel)
		case <-time.After(5 * time.Second):
			fmt.Println("no alert")
			return
		}
	}
	// Output:
	// ticket 1: response alert (alert), escalation level 1
	// ticket 1: response breach (breach), escalation level 2
}
