package pagerduty_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/mockpagerduty"
	"github.com/ticket-watchdog/watchdog/notify/pagerduty"
)

func TestEventsThroughTheStandIn(t *testing.T) {
	mock := mockpagerduty.New(&mockpagerduty.Config{RoutingKey: "sekrit-key"})
	srv := httptest.NewServer(mock)
	defer srv.Close()
	n, err := pagerduty.New("sekrit-key", &pagerduty.Config{Endpoint: srv.URL + mockpagerduty.EnqueuePath, DashboardURL: "https://wd.test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, st := range []string{"alert", "breach", "escalation-1"} {
		a := watchdog.Alert{TicketID: "42", SLAClock: watchdog.Resolution, Stage: st, Message: "m", CustomerTier: "gold", Priority: "high",
			DueAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		if retry, err := n.Deliver(ctx, a); err != nil || retry {
			t.Fatalf("%s: %v %v", st, retry, err)
		}
	}
	if _, err := n.Acknowledge(ctx, "42", watchdog.Resolution, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Resolve(ctx, "42", watchdog.Resolution, 0); err != nil {
		t.Fatal(err)
	}
	evs := mock.Events()
	var actions, sev []string
	for _, e := range evs {
		actions = append(actions, e.EventAction)
		if e.DedupKey != "42:resolution:0" || !e.RoutingKeyOK {
			t.Errorf("event %+v", e)
		}
		var p struct{ Severity string }
		_ = json.Unmarshal(e.Payload, &p)
		sev = append(sev, p.Severity)
	}
	if strings.Join(actions, ",") != "trigger,trigger,trigger,acknowledge,resolve" || strings.Join(sev, ",") != "warning,error,critical,," {
		t.Errorf("actions %v severities %v", actions, sev)
	}
}

func TestFailuresAreClassified(t *testing.T) {
	mock := mockpagerduty.New(nil)
	srv := httptest.NewServer(mock)
	defer srv.Close()
	n, _ := pagerduty.New("sekrit-key", &pagerduty.Config{Endpoint: srv.URL + mockpagerduty.EnqueuePath})
	a := watchdog.Alert{TicketID: "1", SLAClock: watchdog.Response, Stage: "breach", Message: "m"}
	for _, c := range []struct {
		status int
		retry  bool
	}{{http.StatusTooManyRequests, true}, {http.StatusInternalServerError, true}, {http.StatusBadRequest, false}, {http.StatusForbidden, false}} {
		mock.SetStatus(c.status)
		retry, err := n.Deliver(context.Background(), a)
		if retry != c.retry || err == nil || strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%d: %v %v", c.status, retry, err)
		}
		var ra *watchdog.RetryAfterError
		if errors.As(err, &ra) != (c.status == 429) || ra != nil && ra.After != time.Second {
			t.Errorf("%d: %#v", c.status, ra)
		}
	}
	if _, err := pagerduty.New(" ", nil); err == nil {
		t.Error("empty key accepted")
	}
}
