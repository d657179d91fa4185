package websocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	watchdog "github.com/ticket-watchdog/watchdog"
	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
)

// waitTimeout bounds every wait on the network in these tests.
const waitTimeout = 10 * time.Second

// startHub serves a hub configured by cfg on a real loopback listener.
func startHub(t testing.TB, cfg *wshub.Config) (*wshub.Hub, *httptest.Server) {
	t.Helper()
	hub := wshub.NewHub(cfg)
	mux := http.NewServeMux()
	mux.Handle("/ws/alerts", hub)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = hub.Close() })
	return hub, srv
}

func wsURL(srv *httptest.Server, query string) string {
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/alerts"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dial connects a client and waits until the hub counts want clients, so
// that what is published next reaches it.
func dial(t testing.TB, hub *wshub.Hub, srv *httptest.Server, query string, opts *websocket.DialOptions, want int) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, wsURL(srv, query), opts)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %q: status %d: %v", query, status, err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	waitClients(t, hub, want)
	return conn
}

// waitClients polls hub.Clients until it is want or the deadline passes.
func waitClients(t testing.TB, hub *wshub.Hub, want int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for hub.Clients() != want {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d clients, want %d", hub.Clients(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// readMessage reads and decodes one message, failing after waitTimeout.
func readMessage(t testing.TB, conn *websocket.Conn) wshub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	typ, p, err := conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v, want text", typ)
	}
	var m wshub.Message
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatalf("decode %s: %v", p, err)
	}
	return m
}

// readUntilClosed reads until the connection ends and returns the error.
func readUntilClosed(t testing.TB, conn *websocket.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("connection still open after %v", waitTimeout)
			}
			return err
		}
	}
}

var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func alert(id int64, ticket, tier, priority string, clock watchdog.SLAClock, stage string) watchdog.Alert {
	st := watchdog.Stage{Name: stage}
	return watchdog.Alert{
		ID:              id,
		TicketID:        ticket,
		SLAClock:        clock,
		Stage:           stage,
		State:           st.AlertState(),
		DueAt:           base.Add(time.Duration(id) * time.Minute),
		FiredAt:         base.Add(time.Duration(id)*time.Minute + 300*time.Millisecond),
		EscalationLevel: int(id % 5),
		Priority:        priority,
		CustomerTier:    tier,
		Message:         fmt.Sprintf("alert %d", id),
	}
}

func TestClientReceivesEveryField(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, nil)
	conn := dial(t, hub, srv, "", nil, 1)

	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	a := watchdog.Alert{
		ID:              42,
		TicketID:        "T-100",
		SLAClock:        watchdog.Resolution,
		Stage:           watchdog.EscalationStageName(1),
		State:           "breach",
		DueAt:           time.Date(2026, 3, 2, 10, 30, 0, 0, paris),
		FiredAt:         time.Date(2026, 3, 2, 10, 30, 1, 0, paris),
		EscalationLevel: 3,
		Priority:        "high",
		CustomerTier:    "gold",
		Target:          3 * time.Hour,
		Elapsed:         270 * time.Minute,
		Message:         "Resolution SLA escalation (escalation-1): 150% of its 3h target",
	}
	hub.Publish(a)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	typ, raw, err := conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v, want text", typ)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"ticket_id": "T-100",
		"sla_type":  "resolution",
		"state":     "breach",
		"details": map[string]any{
			"elapsed_minutes": 270.0,
			"target_minutes":  180.0,
			"percent_used":    1.5,
			"message":         "Resolution SLA escalation (escalation-1): 150% of its 3h target",
		},
		"timestamp":        "2026-03-02T09:30:01Z",
		"escalation_level": 3.0,
		"priority":         "high",
		"customer_tier":    "gold",
		"stage":            "escalation-1",
		"due_at":           "2026-03-02T09:30:00Z",
		"alert_id":         42.0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("message JSON (-want +got):\n%s", diff)
	}
	var m wshub.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wshub.MessageFor(a), m); diff != "" {
		t.Errorf("decoded message differs from MessageFor (-want +got):\n%s", diff)
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	alerts := []watchdog.Alert{
		alert(1, "T-1", "gold", "high", watchdog.Response, "alert"),
		alert(2, "T-2", "silver", "high", watchdog.Response, "breach"),
		alert(3, "T-3", "Gold", "Low", watchdog.Resolution, "alert"),
		alert(4, "T-4", "bronze", "low", watchdog.Resolution, "escalation-1"),
		alert(5, "T-2", "silver", "medium", watchdog.Resolution, "alert"),
		alert(6, "T-1", "gold", "high", watchdog.Resolution, "breach"),
	}
	gold := func(a *watchdog.Alert) { a.CustomerTier = "gold" }
	for _, tc := range []struct {
		query string
		want  []int64
		// end adapts the last alert, (T-2, silver, high, response, alert),
		// to pass the filter: it marks the end of the stream.
		end func(*watchdog.Alert)
	}{
		{"", []int64{1, 2, 3, 4, 5, 6}, nil},
		{"tier=gold", []int64{1, 3, 6}, gold},
		{"customer_tier=SILVER,bronze", []int64{2, 4, 5}, nil},
		{"tier=gold&customer_tier=bronze", []int64{1, 3, 4, 6}, gold},
		{"priority=high", []int64{1, 2, 6}, nil},
		{"priority=low&priority=medium", []int64{3, 4, 5}, func(a *watchdog.Alert) { a.Priority = "LOW" }},
		{"state=alert", []int64{1, 3, 5}, nil},
		{"state=breach", []int64{2, 4, 6}, func(a *watchdog.Alert) { a.Stage, a.State = "breach", "breach" }},
		{"sla_type=response", []int64{1, 2}, nil},
		{"sla_type=response,resolution", []int64{1, 2, 3, 4, 5, 6}, nil},
		{"ticket_id=T-2,T-4", []int64{2, 4, 5}, nil},
		{"tier=gold&state=alert&sla_type=resolution", []int64{3}, func(a *watchdog.Alert) { gold(a); a.SLAClock = watchdog.Resolution }},
		{"tier=platinum", nil, func(a *watchdog.Alert) { a.CustomerTier = "platinum" }},
		{"access_token=ignored&tier=silver", []int64{2, 5}, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			hub, srv := startHub(t, nil)
			conn := dial(t, hub, srv, tc.query, nil, 1)
			unfiltered := dial(t, hub, srv, "", nil, 2)
			for _, a := range alerts {
				hub.Publish(a)
			}
			end := alert(99, "T-2", "silver", "high", watchdog.Response, "alert")
			if tc.end != nil {
				tc.end(&end)
			}
			hub.Publish(end)

			var got []int64
			for {
				m := readMessage(t, conn)
				if m.AlertID == end.ID {
					break
				}
				got = append(got, m.AlertID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("alerts received with %q (-want +got):\n%s", tc.query, diff)
			}
			// The unfiltered client sees everything, in order.
			for _, a := range append(slices.Clone(alerts), end) {
				if m := readMessage(t, unfiltered); m.AlertID != a.ID {
					t.Fatalf("unfiltered client got alert %d, want %d", m.AlertID, a.ID)
				}
			}
		})
	}
}

func TestBadRequestsAreJSONErrors(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, nil)
	for _, tc := range []struct {
		name   string
		method string
		query  string
		ws     bool
		status int
		param  string
	}{
		{"unknown state", "GET", "state=late", true, 400, "state"},
		{"unknown sla_type", "GET", "sla_type=first_response", true, 400, "sla_type"},
		{"empty tier", "GET", "tier=", true, 400, "tier"},
		{"empty item", "GET", "customer_tier=gold,,silver", true, 400, "customer_tier"},
		{"empty priority", "GET", "priority=high&priority=", true, 400, "priority"},
		{"huge ticket id", "GET", "ticket_id=" + strings.Repeat("x", watchdog.MaxIDBytes+1), true, 400, "ticket_id"},
		{"too many values", "GET", "ticket_id=" + strings.TrimSuffix(strings.Repeat("a,", 1001), ","), true, 400, "ticket_id"},
		{"bad filter without upgrade", "GET", "state=ok", false, 400, "state"},
		{"no upgrade", "GET", "", false, 426, ""},
		{"post", "POST", "", false, 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var resp *http.Response
			if tc.ws {
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				conn, r, err := websocket.Dial(ctx, wsURL(srv, tc.query), nil)
				if err == nil {
					_ = conn.CloseNow()
					t.Fatal("upgrade succeeded")
				}
				resp = r
			} else {
				req, err := http.NewRequest(tc.method, srv.URL+"/ws/alerts?"+tc.query, nil)
				if err != nil {
					t.Fatal(err)
				}
				if resp, err = http.DefaultClient.Do(req); err != nil {
					t.Fatal(err)
				}
			}
			if resp == nil {
				t.Fatal("no response")
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			var body struct {
				Error string `json:"error"`
				Param string `json:"param"`
			}
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %q: %v", raw, err)
			}
			if body.Error == "" || body.Param != tc.param {
				t.Errorf("body %s: want an error naming param %q", raw, tc.param)
			}
		})
	}
	if n := hub.Clients(); n != 0 {
		t.Errorf("hub has %d clients after refused requests", n)
	}
}

func TestStalledClientIsDroppedOthersKeepReceiving(t *testing.T) {
	t.Parallel()
	// The stalled client's close frame is written once its reads drain the
	// blocked write, so the write timeout must outlast the test.
	hub, srv := startHub(t, &wshub.Config{BufferSize: 4, WriteTimeout: time.Minute})
	stalled := dial(t, hub, srv, "", nil, 1)
	healthy := dial(t, hub, srv, "", nil, 2)

	details := strings.Repeat("x", 32<<10)
	publish := func(id int64) {
		a := alert(id, "T-1", "gold", "high", watchdog.Response, "alert")
		a.Message = details
		hub.Publish(a)
		// Pacing on the healthy client keeps its buffer nearly empty: only
		// the stalled client's buffer can fill.
		if m := readMessage(t, healthy); m.AlertID != id || m.Details.Message != details {
			t.Fatalf("healthy client got alert %d (%d bytes of details), want %d", m.AlertID, len(m.Details.Message), id)
		}
	}
	// The socket buffers absorb some megabytes before the writer blocks
	// and the 4-message buffer fills; 64 MiB is far more than that.
	var id int64
	for id = 1; hub.Clients() == 2; id++ {
		if id > 2048 {
			t.Fatalf("stalled client still connected after %d alerts", id-1)
		}
		publish(id)
	}
	if hub.Clients() != 1 {
		t.Fatalf("hub has %d clients, want 1", hub.Clients())
	}
	for end := id + 20; id < end; id++ {
		publish(id)
	}

	err := readUntilClosed(t, stalled)
	if got := websocket.CloseStatus(err); got != wshub.SlowClientStatus {
		t.Fatalf("stalled client closed with %v (%v), want %v", got, err, wshub.SlowClientStatus)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Reason != "client too slow" {
		t.Errorf("close reason %q, want %q", ce.Reason, "client too slow")
	}
}

func TestWriteTimeoutCutsClientThatNeverReads(t *testing.T) {
	t.Parallel()
	// The buffer is large enough never to fill, so only the write timeout
	// can end this client: its writer blocks once the socket buffers fill.
	hub, srv := startHub(t, &wshub.Config{BufferSize: 1 << 12, WriteTimeout: 50 * time.Millisecond})
	dial(t, hub, srv, "", nil, 1)
	a := alert(1, "T-1", "gold", "high", watchdog.Response, "alert")
	a.Message = strings.Repeat("x", 32<<10)
	for range 1 << 11 { // 64 MiB, far more than the socket buffers hold
		hub.Publish(a)
	}
	waitClients(t, hub, 0)
}

func TestOrigins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string // "self" means the server's own origin
		ok      bool
	}{
		{"no origin header", nil, "", true},
		{"same origin", nil, "self", true},
		{"cross origin refused by default", nil, "https://evil.example", false},
		{"allowed pattern", []string{"*.example.com"}, "https://dash.example.com", true},
		{"pattern is case insensitive", []string{"*.example.com"}, "https://DASH.Example.com", true},
		{"other host refused", []string{"*.example.com"}, "https://example.com.evil.net", false},
		{"scheme pattern accepts", []string{"https://dash.example.com"}, "https://dash.example.com", true},
		{"scheme pattern refuses other scheme", []string{"https://dash.example.com"}, "http://dash.example.com", false},
		{"malformed origin", []string{"*.example.com"}, "://nonsense", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hub, srv := startHub(t, &wshub.Config{AllowedOrigins: tc.allowed})
			origin := tc.origin
			if origin == "self" {
				origin = srv.URL
			}
			h := http.Header{}
			if origin != "" {
				h.Set("Origin", origin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			conn, resp, err := websocket.Dial(ctx, wsURL(srv, ""), &websocket.DialOptions{HTTPHeader: h})
			if tc.ok {
				if err != nil {
					t.Fatalf("dial with Origin %q: %v", origin, err)
				}
				defer conn.CloseNow()
				waitClients(t, hub, 1)
				hub.Publish(alert(7, "T-7", "gold", "high", watchdog.Response, "alert"))
				if m := readMessage(t, conn); m.AlertID != 7 {
					t.Errorf("got alert %d, want 7", m.AlertID)
				}
				return
			}
			if err == nil {
				_ = conn.CloseNow()
				t.Fatalf("dial with Origin %q succeeded", origin)
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("dial with Origin %q: %v (response %v), want 403", origin, err, resp)
			}
			if n := hub.Clients(); n != 0 {
				t.Errorf("hub has %d clients after refusal", n)
			}
		})
	}
}

// reader reads messages in the background so that the client answers pings.
func reader(conn *websocket.Conn) (<-chan wshub.Message, <-chan error) {
	msgs := make(chan wshub.Message, 64)
	errc := make(chan error, 1)
	go func() {
		for {
			_, p, err := conn.Read(context.Background())
			if err != nil {
				errc <- err
				return
			}
			var m wshub.Message
			if err := json.Unmarshal(p, &m); err != nil {
				errc <- err
				return
			}
			msgs <- m
		}
	}()
	return msgs, errc
}

func TestPingKeepsClientConnected(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, &wshub.Config{PingInterval: 5 * time.Millisecond, WriteTimeout: 5 * time.Second})
	pings := make(chan struct{}, 100)
	conn := dial(t, hub, srv, "", &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool {
			select {
			case pings <- struct{}{}:
			default:
			}
			return true
		},
	}, 1)
	msgs, errc := reader(conn)
	timeout := time.After(waitTimeout)
	for i := 0; i < 5; i++ {
		select {
		case <-pings:
		case err := <-errc:
			t.Fatalf("connection ended after %d pings: %v", i, err)
		case <-timeout:
			t.Fatalf("only %d pings within %v", i, waitTimeout)
		}
	}
	if n := hub.Clients(); n != 1 {
		t.Fatalf("hub has %d clients after answered pings, want 1", n)
	}
	hub.Publish(alert(3, "T-3", "gold", "high", watchdog.Response, "alert"))
	select {
	case m := <-msgs:
		if m.AlertID != 3 {
			t.Errorf("got alert %d, want 3", m.AlertID)
		}
	case err := <-errc:
		t.Fatalf("connection ended: %v", err)
	case <-time.After(waitTimeout):
		t.Fatal("no message after pings")
	}
}

func TestUnansweredPingDropsClient(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, &wshub.Config{PingInterval: 5 * time.Millisecond, WriteTimeout: 50 * time.Millisecond})
	conn := dial(t, hub, srv, "", &websocket.DialOptions{
		// Swallow pings: the hub waits for a pong that never comes.
		OnPingReceived: func(context.Context, []byte) bool { return false },
	}, 1)
	_, errc := reader(conn)
	waitClients(t, hub, 0)
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("read ended without error")
		}
	case <-time.After(waitTimeout):
		t.Fatal("connection still open after the client was dropped")
	}
}

func TestCloseSendsGoingAway(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, nil)
	conns := []*websocket.Conn{
		dial(t, hub, srv, "", nil, 1),
		dial(t, hub, srv, "tier=gold", nil, 2),
	}
	errs := make([]<-chan error, len(conns))
	for i, c := range conns {
		_, errs[i] = reader(c)
	}
	if err := hub.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := hub.Clients(); n != 0 {
		t.Errorf("hub has %d clients after Close", n)
	}
	for i, errc := range errs {
		select {
		case err := <-errc:
			if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
				t.Errorf("client %d closed with %v (%v), want going away", i, got, err)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("client %d still open after Close", i)
		}
	}
	// Publish after Close is a no-op, and new clients are refused.
	hub.Publish(alert(1, "T-1", "gold", "high", watchdog.Response, "alert"))
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, wsURL(srv, ""), nil)
	if err == nil {
		_ = conn.CloseNow()
		t.Fatal("dial after Close succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v, want 503", err)
	}
	if err := hub.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestShutdownCutsUnresponsiveClients(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, nil)
	// This client never reads, so it never answers the close handshake.
	dial(t, hub, srv, "", nil, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { done <- hub.Shutdown(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Shutdown with a done context: %v, want context.Canceled", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Shutdown did not return")
	}
}

func TestClientCloseUnregisters(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, nil)
	conn := dial(t, hub, srv, "", nil, 1)
	keep := dial(t, hub, srv, "", nil, 2)
	if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("client close: %v", err)
	}
	waitClients(t, hub, 1)
	hub.Publish(alert(5, "T-5", "gold", "high", watchdog.Response, "alert"))
	if m := readMessage(t, keep); m.AlertID != 5 {
		t.Errorf("got alert %d, want 5", m.AlertID)
	}
}

func TestMaxClients(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, &wshub.Config{MaxClients: 1})
	first := dial(t, hub, srv, "", nil, 1)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, wsURL(srv, ""), nil)
	if err == nil {
		_ = conn.CloseNow()
		t.Fatal("second client accepted beyond MaxClients")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second client: %v, want 503", err)
	}
	if err := first.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	waitClients(t, hub, 0)
	dial(t, hub, srv, "", nil, 1)
}

func TestRunPublishesUntilChannelCloses(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, nil)
	conn := dial(t, hub, srv, "state=breach", nil, 1)
	alerts := make(chan watchdog.Alert)
	done := make(chan error, 1)
	go func() { done <- hub.Run(context.Background(), alerts) }()
	alerts <- alert(1, "T-1", "gold", "high", watchdog.Response, "alert")
	alerts <- alert(2, "T-1", "gold", "high", watchdog.Response, "breach")
	close(alerts)
	if m := readMessage(t, conn); m.AlertID != 2 {
		t.Errorf("got alert %d, want 2", m.AlertID)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after the channel closed")
	}
}

func TestRunStopsWithContext(t *testing.T) {
	t.Parallel()
	hub := wshub.NewHub(nil)
	defer hub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx, make(chan watchdog.Alert)) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
	}
	if err := hub.Run(context.Background(), nil); err == nil {
		t.Error("Run with a nil channel: no error")
	}
}

func TestConcurrentPublish(t *testing.T) {
	t.Parallel()
	const publishers, each = 16, 100
	hub, srv := startHub(t, &wshub.Config{BufferSize: publishers * each})
	all := dial(t, hub, srv, "", nil, 1)
	gold := dial(t, hub, srv, "tier=gold", nil, 2)

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				id := int64(p*each + i + 1)
				tier := "silver"
				if id%2 == 0 {
					tier = "gold"
				}
				hub.Publish(alert(id, fmt.Sprintf("T-%d", id), tier, "high", watchdog.Response, "alert"))
			}
		})
	}
	// Clients connect and leave while publishing goes on.
	wg.Go(func() {
		for range 5 {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			c, _, err := websocket.Dial(ctx, wsURL(srv, "priority=high"), nil)
			cancel()
			if err != nil {
				t.Errorf("dial during publishing: %v", err)
				return
			}
			_ = c.Close(websocket.StatusNormalClosure, "")
		}
	})
	wg.Wait()

	collect := func(conn *websocket.Conn, n int) map[int64]int {
		seen := make(map[int64]int)
		for range n {
			seen[readMessage(t, conn).AlertID]++
		}
		return seen
	}
	seenAll := collect(all, publishers*each)
	for id := int64(1); id <= publishers*each; id++ {
		if seenAll[id] != 1 {
			t.Fatalf("unfiltered client got alert %d %d times, want once", id, seenAll[id])
		}
	}
	seenGold := collect(gold, publishers*each/2)
	for id, n := range seenGold {
		if id%2 != 0 || n != 1 {
			t.Fatalf("gold client got alert %d (tier silver? %v) %d times", id, id%2 != 0, n)
		}
	}
	if n := hub.Clients(); n != 2 {
		t.Errorf("hub has %d clients, want 2", n)
	}
}

func TestClientMessagesAreIgnoredUpToALimit(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, nil)
	conn := dial(t, hub, srv, "", nil, 1)
	msgs, errc := reader(conn)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"keepalive"}`)); err != nil {
		t.Fatal(err)
	}
	hub.Publish(alert(8, "T-8", "gold", "high", watchdog.Response, "alert"))
	select {
	case m := <-msgs:
		if m.AlertID != 8 {
			t.Errorf("got alert %d, want 8", m.AlertID)
		}
	case err := <-errc:
		t.Fatalf("connection ended after a client message: %v", err)
	case <-time.After(waitTimeout):
		t.Fatal("no alert after a client message")
	}

	// The hub closes (with StatusMessageTooBig) as soon as it reads the
	// frame header, so the write itself may fail and the close frame may
	// be lost to the reset that unread payload causes: only the end of
	// the connection is certain.
	_ = conn.Write(ctx, websocket.MessageBinary, make([]byte, 16<<10)) // over the hub's 4 KiB limit, under the library's default
	select {
	case <-errc:
	case <-time.After(waitTimeout):
		t.Fatal("connection still open after an oversized client message")
	}
	waitClients(t, hub, 0)
}
