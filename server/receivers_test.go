package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/mockpagerduty"
	"github.com/ticket-watchdog/watchdog/notify/webhook"
	"github.com/ticket-watchdog/watchdog/server"
)

// hookRecorder is a webhook receiver that checks each request's signature.
type hookRecorder struct {
	mu      sync.Mutex
	entries []string // ticket:clock:stage of each alert received
	badSigs int
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var b struct {
		Alerts []struct {
			DeliveryID int64  `json:"delivery_id"`
			TicketID   string `json:"ticket_id"`
			SLAType    string `json:"sla_type"`
			Stage      string `json:"stage"`
		} `json:"alerts"`
	}
	_ = json.Unmarshal(body, &b)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !webhook.Verify(body, r.Header.Get(webhook.SignatureHeader), "hook-secret") {
		h.badSigs++
	}
	for _, a := range b.Alerts {
		h.entries = append(h.entries, a.TicketID+":"+a.SLAType+":"+a.Stage)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookRecorder) got() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := slices.Clone(h.entries)
	slices.Sort(out)
	return out, h.badSigs
}

// With a notifications section the server sends each alert to the
// receivers its routes pick, one outbox row each: a ticket imported long
// after its deadlines sends each clock's highest stage (inhibition), the
// webhook's requests are signed, PagerDuty gets one trigger per clock
// cycle; a reload that changes receivers is refused and the last good
// policy stays.
func TestNotificationsSection(t *testing.T) {
	t.Parallel()
	hook := &hookRecorder{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	pd := mockpagerduty.New(&mockpagerduty.Config{RoutingKey: "pd-key"})
	pdSrv := httptest.NewServer(pd)
	defer pdSrv.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "sla.yaml")
	file := `escalation: [1.5, 2.0]
tiers:
  gold:
    high: {response: 30, resolution: 180}
  silver:
    high: {response: 30, resolution: 180}
notifications:
  receivers:
    hook: {webhook: {url: "` + hookSrv.URL + `/sla", secret: hook-secret}}
    oncall: {pagerduty: {routing_key: pd-key, endpoint: "` + pdSrv.URL + mockpagerduty.EnqueuePath + `"}}
  routes:
    - match: {tier: gold}
      receivers: [oncall]
      continue: true
    - receivers: [hook]
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := runServer(t, server.Config{SLAConfigPath: path, SlackWebhookURL: "http://127.0.0.1:1/unused"})
	body := `[{"id":"g","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"},
	{"id":"s","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"silver"}]`
	if code, _ := send(t, srv, "POST", "/tickets", "", body, http.Header{"Content-Type": {"application/json"}}); code != http.StatusOK {
		t.Fatalf("ingest: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := pd.Wait(ctx, 2)
	if err != nil {
		t.Fatalf("pagerduty events: %+v %v", evs, err)
	}
	want := []string{"g:resolution:escalation-2", "g:response:escalation-2", "s:resolution:escalation-2", "s:response:escalation-2"}
	for {
		got, bad := hook.got()
		if slices.Equal(got, want) && bad == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("webhook got %v (%d bad signatures), want %v", got, bad, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	keys := []string{}
	for _, e := range evs {
		keys = append(keys, e.EventAction+" "+e.DedupKey)
		if !e.RoutingKeyOK {
			t.Errorf("routing key not sent: %+v", e)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"trigger g:resolution:0", "trigger g:response:0"}) {
		t.Errorf("pagerduty got %v", keys)
	}
	if strings.Contains(srv.logs.String(), "hook-secret") || strings.Contains(srv.logs.String(), "pd-key") {
		t.Error("a secret is in the log")
	}
	if !strings.Contains(srv.logs.String(), "SLACK_WEBHOOK_URL") {
		t.Error("no warning about the unreferenced SLACK_WEBHOOK_URL")
	}
	// An acknowledgement reaches PagerDuty as an acknowledge event.
	if code, _ := send(t, srv, "POST", "/tickets/g/ack", "", `{"sla_type":"response","by":"alice"}`, http.Header{"Content-Type": {"application/json"}}); code != http.StatusOK {
		t.Fatalf("ack: %d", code)
	}
	if evs, err := pd.Wait(ctx, 3); err != nil || evs[2].EventAction != "acknowledge" || evs[2].DedupKey != "g:response:0" {
		t.Errorf("pagerduty after the ack: %+v %v", evs, err)
	}
	// Closing the ticket resolves its incidents.
	closed := `{"id":"g","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-19T12:00:00Z","status":"resolved","customer_tier":"gold"}`
	if code, _ := send(t, srv, "POST", "/tickets", "", closed, http.Header{"Content-Type": {"application/json"}}); code != http.StatusOK {
		t.Fatalf("close: %d", code)
	}
	evs, err = pd.Wait(ctx, 5)
	if err != nil {
		t.Fatalf("pagerduty after closing: %+v %v", evs, err)
	}
	resolved := []string{evs[3].EventAction + " " + evs[3].DedupKey, evs[4].EventAction + " " + evs[4].DedupKey}
	slices.Sort(resolved)
	if !slices.Equal(resolved, []string{"resolve g:resolution:0", "resolve g:response:0"}) {
		t.Errorf("pagerduty after closing: %v", resolved)
	}
	// The ticket page has the acknowledgement section (the engine's acks).
	if _, page := fetch(t, http.DefaultClient, "GET", srv.base+"/ui/tickets/g", nil); !strings.Contains(page, "response: acknowledged by alice") {
		t.Error("the ticket page has no acknowledgement section")
	}
	checkReceiverReloadRefused(ctx, t, srv, path, file)
}

// checkReceiverReloadRefused: a receiver added by a reload needs a
// restart: the reload fails and the last good policy stays.
func checkReceiverReloadRefused(ctx context.Context, t *testing.T, srv *running, path, file string) {
	t.Helper()
	changed := strings.Replace(file, "  routes:", "    more: {webhook: {url: \"http://127.0.0.1:1/x\"}}\n  routes:", 1)
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	for {
		_, resp := send(t, srv, "GET", "/readyz", "", "", nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "notifications.receivers") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("/readyz does not show the refused reload: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(srv.logs.String(), "more added") || !strings.Contains(srv.logs.String(), "restart watchdogd") {
		t.Error("the log does not say why the reload was refused")
	}
}
