package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// Record a ticket, read its alerts' details and page the dashboard. (The
// server here is the API in-process, on a scratch SQLite file; a program
// would name its watchdogd's URL.)
func Example() {
	ctx := context.Background()
	url, fire, stop := exampleServer()
	defer stop()

	c, err := client.New(url, &client.Config{Token: os.Getenv("WATCHDOG_API_TOKEN")})
	if err != nil {
		fmt.Println(err)
		return
	}
	created := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	tickets, err := c.Ingest(ctx, client.Event{ID: "1", Priority: "high", CustomerTier: "gold",
		Status: "open", CreatedAt: created, UpdatedAt: created})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tickets[0].ID, tickets[0].SLAState, *tickets[0].BreachAt)

	fire() // the server's scheduler fires the four stages, long due
	t, err := c.Ticket(ctx, "1")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range t.Alerts {
		fmt.Println(a.SLAType, a.Stage, a.Details.ElapsedMinutes, a.Details.TargetMinutes, a.Details.PercentUsed)
	}
	page, err := c.Dashboard(ctx, client.DashboardQuery{State: "breach"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(page.Total, "breached")
	_, err = c.Ticket(ctx, "2")
	fmt.Println(client.IsNotFound(err))
	// Output:
	// 1 breach 2025-06-18 12:30:00 +0000 UTC
	// response alert 25.5 30 0.85
	// response breach 30 30 1
	// resolution alert 153 180 0.85
	// resolution breach 180 180 1
	// 1 breached
	// true
}

// exampleServer serves the API over an engine that fires due stages when
// fire is called.
func exampleServer() (url string, fire, stop func()) {
	dir, err := os.MkdirTemp("", "client-example-")
	if err != nil {
		panic(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "watchdog.db"), nil)
	if err != nil {
		panic(err)
	}
	eng, err := watchdog.New(st, nil)
	if err != nil {
		panic(err)
	}
	h, err := api.New(eng, nil)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	fire = func() { _, _ = eng.Hooks().EvaluateDue(context.Background(), time.Now()) }
	return srv.URL, fire, func() {
		srv.Close()
		_ = st.Close()
		_ = os.RemoveAll(dir)
	}
}
