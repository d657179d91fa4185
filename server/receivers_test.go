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
// cycle.
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
}

// A reload that adds and removes receivers takes effect without a restart:
// the removed receiver's deliveries not yet attempted (held outside its
// delivery hours) are cancelled, the added one gains rows for them and
// sends them, and what was delivered is not sent again.
func TestReloadChangesReceivers(t *testing.T) {
	t.Parallel()
	hook, more := &hookRecorder{}, &hookRecorder{}
	hookSrv, moreSrv := httptest.NewServer(hook), httptest.NewServer(more)
	defer hookSrv.Close()
	defer moreSrv.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "sla.yaml")
	// A calendar open only three days from now: closed for the whole test.
	closedDay := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	head := `calendars:
  later: {timezone: UTC, hours: {` + closedDay + `: ["09:00-17:00"]}}
escalation: [1.5, 2.0]
tiers:
  gold:
    high: {response: 30, resolution: 180}
notifications:
  receivers:
    hook: {webhook: {url: "` + hookSrv.URL + `/sla", secret: hook-secret}}
`
	file := head + `    old: {webhook: {url: "http://127.0.0.1:1/never", secret: hook-secret}}
  routes:
    - receivers: [hook]
      continue: true
    - receivers: [old]
      deliver_during: later
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := runServer(t, server.Config{SLAConfigPath: path})
	body := `[{"id":"r","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}]`
	if code, _ := send(t, srv, "POST", "/tickets", "", body, http.Header{"Content-Type": {"application/json"}}); code != http.StatusOK {
		t.Fatalf("ingest: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	want := []string{"r:resolution:escalation-2", "r:response:escalation-2"}
	waitHook(ctx, t, hook, want, "hook before the reload")
	if st := ticketDeliveries(t, srv, "r", "old"); st["response:escalation-2"] != "pending" || st["resolution:escalation-2"] != "pending" {
		t.Fatalf("old before the reload: %v, want held", st)
	}
	reloaded := head + `    more: {webhook: {url: "` + moreSrv.URL + `/sla", secret: hook-secret}}
  routes:
    - receivers: [hook]
      continue: true
    - receivers: [more]
`
	if err := os.WriteFile(path, []byte(reloaded), 0o600); err != nil {
		t.Fatal(err)
	}
	waitHook(ctx, t, more, want, "the added receiver")
	for {
		st := ticketDeliveries(t, srv, "r", "old")
		if st["response:escalation-2"] == "cancelled" && st["resolution:escalation-2"] == "cancelled" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("old after the reload: %v, want cancelled", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, _ := hook.got(); !slices.Equal(got, want) {
		t.Errorf("hook after the reload got %v: a delivered alert was sent again", got)
	}
	_, resp := send(t, srv, "GET", "/readyz", "", "", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "policy_reload_error") {
		t.Errorf("the reload failed: %s", b)
	}
}

// waitHook waits until h has received want (sorted), correctly signed.
func waitHook(ctx context.Context, t *testing.T, h *hookRecorder, want []string, what string) {
	t.Helper()
	for {
		got, bad := h.got()
		if slices.Equal(got, want) && bad == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s got %v (%d bad signatures), want %v", what, got, bad, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ticketDeliveries maps "clock:stage" to the status of ticket id's
// delivery to receiver, as GET /tickets/{id} shows them.
func ticketDeliveries(t *testing.T, srv *running, id, receiver string) map[string]string {
	t.Helper()
	_, resp := send(t, srv, "GET", "/tickets/"+id, "", "", nil)
	defer resp.Body.Close()
	var v struct {
		Alerts []struct {
			SLAType    string `json:"sla_type"`
			Stage      string `json:"stage"`
			Deliveries []struct {
				Notifier string `json:"notifier"`
				Status   string `json:"status"`
			} `json:"deliveries"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range v.Alerts {
		for _, d := range a.Deliveries {
			if d.Notifier == receiver {
				out[a.SLAType+":"+a.Stage] = d.Status
			}
		}
	}
	return out
}
