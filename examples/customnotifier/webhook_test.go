package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/notifytest"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// secretPath and secretQuery stand for the credentials webhook URLs carry.
const (
	secretPath  = "/hooks/T000/s3cr3tP4th"
	secretQuery = "?token=s3cr3tT0k3n"
)

// secrets are the forms in which a webhook URL could leak into an error.
func secrets(hook string) []string {
	return []string{hook, secretPath, secretQuery, "s3cr3tP4th", "s3cr3tT0k3n"}
}

// receiver is an httptest server that records each POST's body and answers
// with the statuses given, in turn, then 200.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	arrived  chan struct{}
	statuses []int
	header   http.Header
}

func newReceiver(t *testing.T, header http.Header, statuses ...int) *receiver {
	t.Helper()
	rc := &receiver{arrived: make(chan struct{}, 16), statuses: statuses, header: header}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %s with Content-Type %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, body)
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		for k, v := range rc.header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		rc.arrived <- struct{}{}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) posts() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...)
}

// decodeAlert decodes a POST body as the alert JSON.
func decodeAlert(t *testing.T, body []byte) watchdog.Alert {
	t.Helper()
	var a watchdog.Alert
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("body %q is not an alert: %v", body, err)
	}
	return a
}

func TestJSONWebhookStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantRetry  bool
		wantErr    bool
		// wantAfter is the RetryAfterError's wait; -1 means no RetryAfterError.
		wantAfter time.Duration
	}{
		{"200 delivered", 200, "", false, false, -1},
		{"204 delivered", 204, "", false, false, -1},
		{"400 permanent", 400, "", false, true, -1},
		{"400 with retry-after is still permanent", 400, "5", false, true, -1},
		{"404 permanent", 404, "", false, true, -1},
		{"410 permanent", 410, "", false, true, -1},
		{"429 with retry-after", 429, "30", true, true, 30 * time.Second},
		{"429 without retry-after", 429, "", true, true, -1},
		{"500 retryable", 500, "", true, true, -1},
		{"502 retryable", 502, "", true, true, -1},
		{"503 with retry-after", 503, "120", true, true, 2 * time.Minute},
		{"503 with malformed retry-after", 503, "soon", true, true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := http.Header{}
			if tt.retryAfter != "" {
				header.Set("Retry-After", tt.retryAfter)
			}
			rc := newReceiver(t, header, tt.status)
			hook := rc.URL + secretPath + secretQuery
			alert := watchdog.Alert{ID: 7, TicketID: "T-42", SLAClock: watchdog.Response, Stage: watchdog.StageBreach, State: "breach", EscalationLevel: 2}

			retry, err := (&JSONWebhook{URL: hook}).Deliver(t.Context(), alert)
			notifytest.AssertNoSecret(t, err, secrets(hook)...)
			if retry != tt.wantRetry || (err != nil) != tt.wantErr {
				t.Fatalf("Deliver = (%v, %v), want retry %v, error %v", retry, err, tt.wantRetry, tt.wantErr)
			}
			if want := fmt.Sprintf("HTTP %d", tt.status); err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
			rae, isRA := errors.AsType[*watchdog.RetryAfterError](err)
			switch {
			case tt.wantAfter < 0 && isRA:
				t.Errorf("error %v is a RetryAfterError, want none", err)
			case tt.wantAfter >= 0 && !isRA:
				t.Errorf("error %v is not a RetryAfterError", err)
			case tt.wantAfter >= 0 && rae.After != tt.wantAfter:
				t.Errorf("After = %v, want %v", rae.After, tt.wantAfter)
			}
			posts := rc.posts()
			if len(posts) != 1 {
				t.Fatalf("server got %d POSTs, want exactly 1 attempt", len(posts))
			}
			if got := decodeAlert(t, posts[0]); got.ID != 7 || got.TicketID != "T-42" || got.SLAClock != watchdog.Response || got.Stage != watchdog.StageBreach || got.EscalationLevel != 2 {
				t.Errorf("server got alert %+v", got)
			}
		})
	}
}

func TestJSONWebhookConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	hook := "http://" + addr + secretPath + secretQuery

	retry, err := (&JSONWebhook{URL: hook}).Deliver(t.Context(), watchdog.Alert{TicketID: "T-42"})
	if !retry || err == nil {
		t.Fatalf("Deliver = (%v, %v), want a retryable error", retry, err)
	}
	notifytest.AssertNoSecret(t, err, secrets(hook)...)
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q does not say the connection was refused", err)
	}
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("error %v does not wrap the *net.OpError", err)
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		t.Errorf("error %v still wraps the *url.Error, which quotes the URL", err)
	}
}

func TestJSONWebhookBadURL(t *testing.T) {
	t.Parallel()
	hook := "http://h\x7f" + secretPath + secretQuery
	retry, err := (&JSONWebhook{URL: hook}).Deliver(t.Context(), watchdog.Alert{TicketID: "T-42"})
	if retry || err == nil {
		t.Fatalf("Deliver = (%v, %v), want a permanent error", retry, err)
	}
	notifytest.AssertNoSecret(t, err, secrets(hook)...)
}

// created is when the engine tests' ticket opens; gold and high, so under
// the seed's policy its first-response alert (85%) is due at 12:25:30 and
// its breach at 12:30.
var created = time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)

// engineEnv is the real engine on a SQLite file and a fake clock, with a
// JSONWebhook posting to rc.
type engineEnv struct {
	*watchdogtest.Harness
	t  *testing.T
	rc *receiver
}

func setupEngine(t *testing.T, rc *receiver) *engineEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "watchdog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the harness has stopped the engine
	webhook := &JSONWebhook{URL: rc.URL + secretPath + secretQuery}
	h := watchdogtest.StartEngine(t, st, watchdogtest.NewClock(created),
		&watchdog.Config{Notifiers: map[string]watchdog.Notifier{"webhook": webhook}})
	h.Ingest(watchdog.Event{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created})
	h.Settle()
	return &engineEnv{Harness: h, t: t, rc: rc}
}

// advanceTo moves the fake clock to created+d, letting the engine settle
// before and after.
func (e *engineEnv) advanceTo(d time.Duration) {
	e.t.Helper()
	e.AdvanceTo(created.Add(d))
}

// expectPosts waits until the server has had n POSTs and returns them.
func (e *engineEnv) expectPosts(n int) [][]byte {
	e.t.Helper()
	timeout := time.After(10 * time.Second)
	for len(e.rc.posts()) < n {
		select {
		case <-e.rc.arrived:
		case <-timeout:
			e.t.Fatalf("waited 10s for %d POSTs; got %d", n, len(e.rc.posts()))
		}
	}
	e.Settle()
	posts := e.rc.posts()
	if len(posts) != n {
		e.t.Fatalf("server got %d POSTs, want %d", len(posts), n)
	}
	return posts
}

// delivery returns the webhook's delivery of the ticket's only alert.
func (e *engineEnv) delivery() watchdog.Delivery {
	e.t.Helper()
	view := e.Ticket("1")
	if len(view.Alerts) != 1 || len(view.Alerts[0].Deliveries) != 1 {
		e.t.Fatalf("%d alerts, want 1 with one delivery: %+v", len(view.Alerts), view.Alerts)
	}
	return view.Alerts[0].Deliveries[0]
}

func TestJSONWebhookInEngine(t *testing.T) {
	t.Parallel()
	e := setupEngine(t, newReceiver(t, nil))
	e.expectPosts(0)

	// 12:26: the first-response alert stage (12:25:30) fires and is posted.
	e.advanceTo(26 * time.Minute)
	posts := e.expectPosts(1)
	a := decodeAlert(t, posts[0])
	if a.TicketID != "1" || a.SLAClock != watchdog.Response || a.Stage != watchdog.StageAlert || a.State != "alert" ||
		a.EscalationLevel != 1 || a.CustomerTier != "gold" || a.Priority != "high" || !a.DueAt.Equal(created.Add(25*time.Minute+30*time.Second)) {
		t.Errorf("server got alert %+v", a)
	}
	if d := e.delivery(); d.Status != watchdog.DeliveryDelivered || d.Attempts != 1 {
		t.Errorf("delivery %s after %d attempts, want delivered after 1", d.Status, d.Attempts)
	}

	// Still before the breach: the delivered alert is not posted again.
	e.advanceTo(29 * time.Minute)
	e.expectPosts(1)
}

func TestJSONWebhookRetryAfterInEngine(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, http.Header{"Retry-After": {"120"}}, http.StatusServiceUnavailable)
	e := setupEngine(t, rc)

	e.advanceTo(26 * time.Minute)
	e.expectPosts(1)
	d := e.delivery()
	if d.Status != watchdog.DeliveryPending || !d.NextAttemptAt.Equal(created.Add(28*time.Minute)) {
		t.Fatalf("delivery %s, next attempt at %s; want pending until 12:28, after Retry-After", d.Status, d.NextAttemptAt)
	}
	notifytest.AssertNoSecret(t, errors.New(d.LastError), secrets(rc.URL+secretPath+secretQuery)...)

	// The outbox waits out the server's two minutes, not its 1s backoff.
	e.advanceTo(28*time.Minute - time.Second)
	e.expectPosts(1)
	e.advanceTo(28 * time.Minute)
	e.expectPosts(2)
	if d := e.delivery(); d.Status != watchdog.DeliveryDelivered || d.Attempts != 2 {
		t.Errorf("delivery %s after %d attempts, want delivered after 2", d.Status, d.Attempts)
	}
}
