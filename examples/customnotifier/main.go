// Command customnotifier shows how to write your own watchdog.Notifier: a
// generic JSON webhook that makes one attempt per Deliver and tells the
// engine's outbox whether a failure is worth retrying.
//
// It posts one alert to a local test server that fails once with 503 and a
// Retry-After, then accepts, and prints each outcome.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify"
)

// JSONWebhook posts each alert as JSON to URL.
type JSONWebhook struct {
	URL    string
	Client *http.Client
}

// Deliver makes one POST and classifies the outcome for the outbox.
func (h *JSONWebhook) Deliver(ctx context.Context, a watchdog.Alert) (retry bool, err error) {
	body, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("webhook: encoding alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.Client.Do(req)
	if err != nil {
		// Network errors and timeouts may pass. Real code should not return
		// err as is when the URL holds a secret: *url.Error quotes it.
		return true, fmt.Errorf("webhook: POST failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	err = fmt.Errorf("webhook: HTTP %d", resp.StatusCode)
	if d, ok := notify.RetryAfter(resp.Header, time.Now()); ok {
		// The outbox waits at least this long before the next attempt.
		err = &watchdog.RetryAfterError{After: d, Err: err}
	}
	return notify.HTTPStatusRetryable(resp.StatusCode), err
}

func main() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "2")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var a watchdog.Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Printf("server: received %s alert for ticket %s\n", a.State, a.TicketID)
	}))
	defer srv.Close()

	var n watchdog.Notifier = &JSONWebhook{URL: srv.URL, Client: &http.Client{Timeout: 5 * time.Second}}
	alert := watchdog.Alert{ID: 1, TicketID: "42", Clock: watchdog.Resolution, Stage: "breach", State: "breach"}

	// The engine's delivery loop does this with backoff; two attempts here.
	for attempt := 1; attempt <= 2; attempt++ {
		retry, err := n.Deliver(context.Background(), alert)
		var rae *watchdog.RetryAfterError
		switch {
		case err == nil:
			fmt.Printf("attempt %d: delivered\n", attempt)
		case errors.As(err, &rae):
			fmt.Printf("attempt %d: %v; retry=%v, wait at least %s\n", attempt, err, retry, rae.After)
		default:
			fmt.Printf("attempt %d: %v; retry=%v\n", attempt, err, retry)
		}
		if err == nil || !retry {
			return
		}
	}
	log.Fatal("not delivered")
}
