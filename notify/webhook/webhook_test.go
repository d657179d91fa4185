package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/webhook"
)

type received struct {
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
}

func server(t *testing.T, status int, header http.Header) (*httptest.Server, *received) {
	t.Helper()
	r := &received{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.sigs = append(r.sigs, req.Header.Get(webhook.SignatureHeader))
		r.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, r
}

func alert(id string, delivery int64) watchdog.Alert {
	return watchdog.Alert{ID: 7, TicketID: id, SLAClock: watchdog.Response, Stage: "breach", State: "breach",
		CustomerTier: "gold", Priority: "high", EscalationLevel: 2, DeliveryID: delivery,
		DueAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Target: time.Hour, Elapsed: time.Hour, Message: "Response SLA breached"}
}

func TestSignedBodyWithDeliveryIDs(t *testing.T) {
	srv, got := server(t, http.StatusOK, nil)
	n, err := webhook.New(srv.URL+"/hook", &webhook.Config{Name: "hd", Secret: "s3cret", DashboardURL: "https://wd.example"})
	if err != nil {
		t.Fatal(err)
	}
	if retry, err := n.DeliverBatch(context.Background(), []watchdog.Alert{alert("a", 11), alert("b", 12)}); err != nil || retry {
		t.Fatalf("%v %v", retry, err)
	}
	body, sig := got.bodies[0], got.sigs[0]
	if !webhook.Verify(body, sig, "s3cret") || webhook.Verify(body, sig, "other") || webhook.Verify(append(body, ' '), sig, "s3cret") {
		t.Errorf("signature %q does not verify as it should", sig)
	}
	var b struct {
		Receiver string `json:"receiver"`
		Alerts   []struct {
			DeliveryID int64  `json:"delivery_id"`
			TicketID   string `json:"ticket_id"`
			Stage      string `json:"stage"`
			Details    struct {
				PercentUsed float64 `json:"percent_used"`
			} `json:"details"`
			Ticket struct {
				ID  string `json:"id"`
				URL string `json:"url"`
			} `json:"ticket"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Receiver != "hd" || len(b.Alerts) != 2 || b.Alerts[0].DeliveryID != 11 || b.Alerts[1].DeliveryID != 12 ||
		b.Alerts[0].TicketID != "a" || b.Alerts[0].Details.PercentUsed != 1 || b.Alerts[1].Ticket.URL != "https://wd.example/tickets/b" {
		t.Errorf("body %s", body)
	}
}

func TestStatusClassification(t *testing.T) {
	for _, c := range []struct {
		status    int
		header    http.Header
		retry     bool
		throttled bool
		after     time.Duration
	}{
		{http.StatusOK, nil, false, false, 0},
		{http.StatusAccepted, nil, false, false, 0},
		{http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}}, true, true, 7 * time.Second},
		{http.StatusServiceUnavailable, nil, true, false, 0},
		{http.StatusInternalServerError, nil, true, false, 0},
		{http.StatusBadGateway, nil, true, false, 0},
		{http.StatusRequestTimeout, nil, true, false, 0},
		{http.StatusBadRequest, nil, false, false, 0},
		{http.StatusUnauthorized, nil, false, false, 0},
		{http.StatusNotFound, nil, false, false, 0},
		{http.StatusGone, nil, false, false, 0},
	} {
		srv, _ := server(t, c.status, c.header)
		n, _ := webhook.New(srv.URL+"/sekrit-path", nil)
		retry, err := n.Deliver(context.Background(), alert("a", 1))
		if retry != c.retry || (err == nil) != (c.status < 300) {
			t.Errorf("%d: retry %v err %v", c.status, retry, err)
		}
		var ra *watchdog.RetryAfterError
		if errors.As(err, &ra) != (c.status == 429 || c.status == 503) || ra != nil && (ra.Throttled != c.throttled || ra.After != c.after) {
			t.Errorf("%d: %#v", c.status, ra)
		}
		if err != nil && strings.Contains(err.Error(), "sekrit") {
			t.Errorf("error shows the URL: %v", err)
		}
	}
	n, _ := webhook.New("http://127.0.0.1:1/sekrit-path", &webhook.Config{Timeout: time.Second})
	if retry, err := n.Deliver(context.Background(), alert("a", 1)); !retry || err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("network error: %v %v", retry, err)
	}
	if _, err := webhook.New("ftp://sekrit", nil); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("bad URL: %v", err)
	}
}
