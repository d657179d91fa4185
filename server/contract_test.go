package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/contract"
	"github.com/ticket-watchdog/watchdog/server"
)

// seedMessage is a WebSocket alert as the seed's clients read it: the
// seed's five keys, details an object.
type seedMessage struct {
	TicketID  string         `json:"ticket_id"`
	SLAType   string         `json:"sla_type"`
	State     string         `json:"state"`
	Details   map[string]any `json:"details"`
	Timestamp time.Time      `json:"timestamp"`
}

// The WebSocket stream keeps the seed's alert payload shape: details is an
// object with elapsed_minutes, target_minutes and percent_used, plus
// today's message; and each message is the document's AlertMessage.
func TestWebSocketAlertInTheSeedsShape(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{})
	conn, resp := wsDial(t, srv.base, "?sla_type=response", nil)
	if conn == nil {
		t.Fatalf("dial refused: %d", resp.StatusCode)
	}
	eventually(t, "the client registered", func() bool { return srv.Hub().Clients() == 1 })
	// Created in 2025: every stage is due at once.
	seed := `{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`
	if code, _ := send(t, srv, "POST", "/tickets", "", seed, http.Header{"Content-Type": {"application/json"}}); code != http.StatusOK {
		t.Fatalf("POST /tickets: %d", code)
	}
	want := map[string]map[string]any{
		"alert":  {"elapsed_minutes": 25.5, "target_minutes": 30.0, "percent_used": 0.85, "message": "Response SLA at 85% of its 30m target"},
		"breach": {"elapsed_minutes": 30.0, "target_minutes": 30.0, "percent_used": 1.0, "message": "Response SLA breached: 30m target reached"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range want {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := contract.CheckSchema("AlertMessage", raw); err != nil {
			t.Errorf("message %s does not match the OpenAPI document: %v", raw, err)
		}
		var m seedMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		w, ok := want[m.State]
		if !ok || m.TicketID != "1" || m.SLAType != "response" || m.Timestamp.IsZero() || len(m.Details) != len(w) {
			t.Fatalf("message %s; want a response alert or breach of ticket 1 with details %v", raw, w)
		}
		for k, v := range w {
			if m.Details[k] != v {
				t.Errorf("%s details[%q] = %v, want %v (message %s)", m.State, k, m.Details[k], v, raw)
			}
		}
		delete(want, m.State)
	}
}

// The assembled server answers every operation of the document: none is
// left out of its wiring (a 404 would say so).
func TestServerServesEveryDocumentedRoute(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{})
	doc, err := contract.Document()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range contract.Operations(doc) {
		method, path, _ := strings.Cut(op, " ")
		path = strings.ReplaceAll(path, "{id}", "1")
		body, header := "", http.Header{}
		if method == http.MethodPost {
			body, header = ticketBody("routes"), http.Header{"Content-Type": {"application/json"}}
		}
		code, resp := send(t, srv, method, path, "", body, header)
		if code == http.StatusNotFound && !strings.HasPrefix(path, "/tickets/1") || code == http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, the server does not serve it", op, code)
		} else if code == http.StatusNotFound && jsonError(t, resp) != `ticket "1" not found` {
			t.Errorf("%s: 404 not from the handler", op)
		}
	}
}
