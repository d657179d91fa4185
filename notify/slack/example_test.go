package slack_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/slack"
)

func ExampleNewWebhook() {
	// A stand-in for Slack that rate-limits the first post.
	posts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts++
		if posts == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	n, err := slack.NewWebhook(srv.URL+"/services/T000/B000/XXXX", &slack.Config{
		DashboardURL: "https://watchdog.example.com/tickets/{id}",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := watchdog.Alert{
		ID: 1, TicketID: "42", SLAClock: watchdog.Resolution, Stage: watchdog.StageBreach, State: "breach",
		CustomerTier: "gold", Priority: "high", EscalationLevel: 2,
		Target: 3 * time.Hour, Elapsed: 3 * time.Hour,
	}
	for range 2 {
		retry, err := n.Deliver(context.Background(), a)
		var rae *watchdog.RetryAfterError
		if errors.As(err, &rae) {
			fmt.Printf("retry=%v after %s: %v\n", retry, rae.After, rae.Err)
			continue
		}
		fmt.Printf("retry=%v err=%v\n", retry, err)
	}
	// Output:
	// retry=true after 30s: slack webhook: HTTP 429: rate limited
	// retry=false err=<nil>
}
