package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jmoiron/sqlx"

	wdws "github.com/ticket-watchdog/watchdog/notify/websocket"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// seedBody is the seed README's curl example.
const seedBody = `[{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}]`

var created = time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)

// backendPool opens the backend's own pool on an isolated schema; it skips
// loudly without PostgreSQL and fails when CI is set.
func backendPool(t *testing.T) (*sqlx.DB, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestSetupServesWatchdogNextToOwnRoutes(t *testing.T) {
	db, dsn := backendPool(t)
	clock := watchdogtest.NewClock(created.Add(10 * time.Minute))
	app, err := Setup(context.Background(), db, Options{DSN: dsn, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.store.Close() })
	srv := httptest.NewServer(app.Handler)
	defer srv.Close()

	code, body := do(t, http.MethodPost, srv.URL+"/watchdog/tickets", seedBody)
	if code != http.StatusOK {
		t.Fatalf("POST /watchdog/tickets: %d %s", code, body)
	}
	var posted []map[string]any
	if err := json.Unmarshal(body, &posted); err != nil {
		t.Fatalf("POST answer %s: %v", body, err)
	}
	if len(posted) != 1 || posted[0]["id"] != "1" || posted[0]["escalation_level"] != float64(0) || posted[0]["status"] != "open" {
		t.Fatalf("POST answer = %s", body)
	}

	code, body = do(t, http.MethodGet, srv.URL+"/watchdog/tickets/1", "")
	if code != http.StatusOK {
		t.Fatalf("GET /watchdog/tickets/1: %d %s", code, body)
	}
	var got struct {
		ID  string `json:"id"`
		SLA map[string]struct {
			State          string `json:"state"`
			TargetSeconds  int64  `json:"target_seconds"`
			ElapsedSeconds int64  `json:"elapsed_seconds"`
		} `json:"sla"`
		StatusHistory []map[string]any `json:"status_history"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("GET answer %s: %v", body, err)
	}
	resp := got.SLA["response"]
	if got.ID != "1" || len(got.StatusHistory) != 1 || resp.State != "ok" || resp.TargetSeconds != 1800 || resp.ElapsedSeconds != 600 {
		t.Fatalf("GET answer = %s", body)
	}

	// The backend's own route shares the mux and the pool.
	if code, body := do(t, http.MethodGet, srv.URL+"/status", ""); code != http.StatusOK || !strings.Contains(string(body), `"database":"ok"`) {
		t.Fatalf("GET /status: %d %s", code, body)
	}
	// Unknown watchdog paths get the API's JSON 404.
	if code, body := do(t, http.MethodGet, srv.URL+"/watchdog/tickets/nope", ""); code != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("GET unknown ticket: %d %s", code, body)
	}
}

// TestRunDeliversToSlackAndWebSocket runs the engine as main does, on a fake
// clock, and checks that the breach of the seed ticket reaches the Slack
// webhook and a WebSocket client of /watchdog/ws/alerts (through the store's
// LISTEN/NOTIFY feed, which needs Config.ListenDSN with a shared pool).
func TestRunDeliversToSlackAndWebSocket(t *testing.T) {
	db, dsn := backendPool(t)

	var mu sync.Mutex
	var posts []string
	posted := make(chan struct{}, 10)
	slackSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
		posted <- struct{}{}
	}))
	defer slackSrv.Close()

	clock := watchdogtest.NewClock(created)
	app, err := Setup(context.Background(), db, Options{DSN: dsn, Clock: clock, SlackWebhookURL: slackSrv.URL + "/services/T0/B0/secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- app.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runDone; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	wsCtx, wsCancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wsCancel()
	conn, _, err := websocket.Dial(wsCtx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/watchdog/ws/alerts", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()

	// Engine loops asleep (evaluation + Slack delivery) means Run has
	// subscribed; the hub counts the client once it is registered.
	clock.WaitForTimers(t, 2)
	for app.Hub.Clients() != 1 {
		if wsCtx.Err() != nil {
			t.Fatal("WebSocket client never registered")
		}
		time.Sleep(time.Millisecond)
	}

	if code, body := do(t, http.MethodPost, srv.URL+"/watchdog/tickets", seedBody); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	clock.Advance(30 * time.Minute) // the response clock's alert and breach

	var stages []string
	for len(stages) < 2 {
		_, data, err := conn.Read(wsCtx)
		if err != nil {
			t.Fatalf("reading WebSocket after %v: %v", stages, err)
		}
		var m wdws.Message
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("message %s: %v", data, err)
		}
		if m.TicketID != "1" || m.SLAType != "response" {
			t.Fatalf("unexpected message %s", data)
		}
		stages = append(stages, m.Stage)
	}
	if stages[0] != "alert" || stages[1] != "breach" {
		t.Errorf("WebSocket stages = %v; want [alert breach]", stages)
	}

	// Both stages came due at once: Slack gets them in one message (one
	// attachment each) or two.
	for {
		mu.Lock()
		joined := strings.Join(posts, "\n")
		mu.Unlock()
		if strings.Contains(joined, "Response SLA breached") && strings.Contains(joined, "Response SLA at 85%") {
			break
		}
		select {
		case <-posted:
		case <-wsCtx.Done():
			t.Fatalf("Slack posts lack the alert or the breach:\n%s", joined)
		}
	}
}
