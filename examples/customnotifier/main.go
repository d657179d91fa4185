// Command customnotifier shows how to write your own watchdog.Notifier and
// run it in an engine. JSONWebhook (webhook.go) posts each alert as JSON and
// tells the engine's outbox whether a failure is worth retrying.
//
// The program runs a real engine on a SQLite file in a temporary directory,
// with a policy whose gold/high first-response target is 2 seconds, and
// delivers to a local test server that refuses the first POST with 503 and
// Retry-After: 1. Within about three seconds the ticket's alert (85% of the
// target) and breach fire, the outbox retries the refused alert a second
// later, and both are delivered:
//
//	go run ./examples/customnotifier
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// policy gives gold/high tickets 2 seconds to a first response, so that
// the example fires alerts without waiting or a fake clock.
const policy = `tiers:
  gold:
    high:
      response: 2s
      resolution: 1h
`

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	// The webhook's receiver: busy once, then it accepts.
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if posts.Add(1) == 1 {
			fmt.Println("server: busy, answering 503 with Retry-After: 1")
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var a watchdog.Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Printf("server: received %s/%s for ticket %s (escalation level %d)\n", a.SLAClock, a.Stage, a.TicketID, a.EscalationLevel)
	}))
	defer srv.Close()

	dir, err := os.MkdirTemp("", "customnotifier")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "watchdog.db"), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := watchdog.ParsePolicy([]byte(policy))
	if err != nil {
		return err
	}
	eng, err := watchdog.New(st, &watchdog.Config{
		Policy:    p,
		Notifiers: map[string]watchdog.Notifier{"webhook": &JSONWebhook{URL: srv.URL + "/hooks/alerts"}},
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	// Stop the engine, which finishes the deliveries in flight, before the
	// store closes.
	defer func() { stop(); <-done }()

	now := time.Now().Truncate(time.Millisecond)
	ticket := watchdog.Event{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: now, UpdatedAt: now}
	if _, err := eng.Ingest(ctx, []watchdog.Event{ticket}); err != nil {
		return err
	}
	fmt.Println("ingested ticket 1 (gold, high): first response due in 2s")

	// Wait for the outbox to record both deliveries.
	deadline := time.Now().Add(10 * time.Second)
	for {
		view, err := eng.Ticket(ctx, "1")
		if err != nil {
			return err
		}
		if settled(view.Alerts, 2) {
			for _, a := range view.Alerts {
				for _, d := range a.Deliveries {
					fmt.Printf("outbox: %s/%s %s after %d attempt(s)\n", a.SLAClock, a.Stage, d.Status, d.Attempts)
				}
			}
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the alerts were not delivered within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settled reports whether n alerts fired and none of their deliveries is
// still pending.
func settled(alerts []watchdog.Alert, n int) bool {
	if len(alerts) < n {
		return false
	}
	for _, a := range alerts {
		for _, d := range a.Deliveries {
			if d.Status == watchdog.DeliveryPending {
				return false
			}
		}
	}
	return true
}
