package websocket_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
)

// refusal dials the hub and returns the refusal's status and JSON body;
// it fails the test when the upgrade succeeds or the body is not JSON.
func refusal(t *testing.T, url string, header http.Header) (int, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		_ = conn.CloseNow()
		t.Fatalf("dial %s succeeded, want a refusal", url)
	}
	if resp == nil {
		t.Fatalf("dial %s: no response: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]string
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || json.Unmarshal(raw, &body) != nil || body["error"] == "" {
		t.Errorf("dial %s: %d %q with Content-Type %q; want a JSON error", url, resp.StatusCode, raw, ct)
	}
	return resp.StatusCode, body
}

// A refused Origin is a JSON error like every other refusal.
func TestRefusedOriginIsJSON(t *testing.T) {
	t.Parallel()
	_, srv := startHub(t, &wshub.Config{AllowedOrigins: []string{"dash.example.com"}})
	code, body := refusal(t, wsURL(srv, ""), http.Header{"Origin": {"https://evil.example"}})
	if code != http.StatusForbidden || !strings.Contains(body["error"], "evil.example") {
		t.Errorf("refused origin: %d %v; want 403 naming the origin", code, body)
	}
}

// A malformed query string, or filter text no ticket can have, is a 400
// naming the parameter, not a stream with the filter silently dropped.
func TestMalformedFilterQueryRefused(t *testing.T) {
	t.Parallel()
	_, srv := startHub(t, nil)
	for query, param := range map[string]string{
		"tier=%zz":                   "tier",
		"state=breach&priority=%4":   "priority",
		"tier=gold;priority=high":    "tier",
		"ticket_id=a%00b":            "ticket_id",
		"customer_tier=%C3":          "customer_tier",
		"priority=high&priority=%FF": "priority",
	} {
		code, body := refusal(t, wsURL(srv, query), nil)
		if code != http.StatusBadRequest || body["param"] != param {
			t.Errorf("?%s: %d %v; want 400 naming %q", query, code, body, param)
		}
	}
}

// Pages from a trusted host connect from any port; others are refused.
func TestTrustedHostsMayConnect(t *testing.T) {
	t.Parallel()
	hub, srv := startHub(t, &wshub.Config{TrustedHosts: []string{"LocalHost"}})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, wsURL(srv, ""), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://localhost:3000"}}})
	if err != nil {
		t.Fatalf("origin localhost:3000 with localhost trusted: %v", err)
	}
	defer conn.CloseNow()
	waitClients(t, hub, 1)
	if code, _ := refusal(t, wsURL(srv, ""), http.Header{"Origin": {"http://localhost.evil.example:3000"}}); code != http.StatusForbidden {
		t.Errorf("origin localhost.evil.example: %d, want 403", code)
	}
}
