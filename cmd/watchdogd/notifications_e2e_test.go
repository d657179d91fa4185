package main

import (
	"context"
	"encoding/json"
	"fmt"
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

	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/internal/mockpagerduty"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/notify/webhook"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// signedHook is the webhook receiver's stand-in: it keeps each alert's
// ticket:clock:stage by delivery_id and counts requests whose signature
// does not verify.
type signedHook struct {
	secret  string
	mu      sync.Mutex
	byID    map[int64]string
	badSigs int
}

func (h *signedHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var b struct {
		Alerts []struct {
			DeliveryID int64  `json:"delivery_id"`
			TicketID   string `json:"ticket_id"`
			SLAType    string `json:"sla_type"`
			Stage      string `json:"stage"`
		} `json:"alerts"`
	}
	ok := json.Unmarshal(body, &b) == nil
	h.mu.Lock()
	defer h.mu.Unlock()
	if !ok || !webhook.Verify(body, r.Header.Get(webhook.SignatureHeader), h.secret) {
		h.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	for _, a := range b.Alerts {
		h.byID[a.DeliveryID] = a.TicketID + ":" + a.SLAType + ":" + a.Stage
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *signedHook) entries() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.byID {
		out = append(out, e)
	}
	slices.Sort(out)
	return out, h.badSigs
}

// notificationsSLA is the e2e test's SLA file: deliver_during names a
// calendar closed all of today and tomorrow (UTC), so held deliveries wait until a
// reload drops the hold.
func notificationsSLA(today string, held bool) string {
	hold := ""
	if held {
		hold = "      deliver_during: closed-today\n      deliver_during_except: [breach]\n"
	}
	return `escalation: [1.5, 2.0]
calendars:
  closed-today:
    timezone: UTC
    hours: {mon: ["00:00-23:59"], tue: ["00:00-23:59"], wed: ["00:00-23:59"], thu: ["00:00-23:59"], fri: ["00:00-23:59"], sat: ["00:00-23:59"], sun: ["00:00-23:59"]}
    holidays: ["` + today + `", "` + nextDay(today) + `"]
tiers:
  gold:   {high: {response: 30, resolution: 180}}
  silver: {high: {response: 30, resolution: 180}}
  bronze: {high: {response: 30, resolution: 180}}
  fast:   {high: {response: 4s, resolution: 1h}}
notifications:
  receivers:
    team-slack: {slack: {webhook_url: "${E2E_SLACK_URL}"}}
    hook:       {webhook: {url: "${E2E_HOOK_URL}", secret: "${E2E_HOOK_SECRET}"}}
    oncall:     {pagerduty: {routing_key: "${E2E_PD_KEY}", endpoint: "${E2E_PD_URL}"}}
  routes:
    - match: {tier: gold, stage: [breach, escalation]}
      receivers: [oncall]
      continue: true
    - match: {tier: [silver, fast]}
      receivers: [hook]
    - receivers: [team-slack]
` + hold
}

func TestNotificationsEndToEnd(t *testing.T) {
	t.Parallel()
	runNotificationsEndToEnd(t, nil)
}

func TestNotificationsEndToEndPostgres(t *testing.T) {
	t.Parallel()
	runNotificationsEndToEnd(t, map[string]string{"DATABASE_URL": pgtest.DSN(t)})
}

// standIns are the recording receivers of the end-to-end test.
type standIns struct {
	slack *mockslack.Server
	hook  *signedHook
	pd    *mockpagerduty.Mock
	vars  map[string]string // the ${VAR}s the SLA file references
}

func startStandIns(t *testing.T) *standIns {
	slackMock, err := mockslack.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	slackSrv := httptest.NewServer(slackMock)
	t.Cleanup(slackSrv.Close)
	hook := &signedHook{secret: "e2e-hook-secret", byID: map[int64]string{}}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	pd := mockpagerduty.New(&mockpagerduty.Config{RoutingKey: "e2e-pd-key"})
	pdSrv := httptest.NewServer(pd)
	t.Cleanup(pdSrv.Close)
	return &standIns{slack: slackMock, hook: hook, pd: pd, vars: map[string]string{
		"E2E_SLACK_URL": slackSrv.URL + mockslack.WebhookPath, "E2E_HOOK_URL": hookSrv.URL + "/sla",
		"E2E_HOOK_SECRET": "e2e-hook-secret", "E2E_PD_KEY": "e2e-pd-key", "E2E_PD_URL": pdSrv.URL + mockpagerduty.EnqueuePath,
	}}
}

const perTier = 100

// runNotificationsEndToEnd runs watchdogd with a notifications section and
// the recording stand-ins, imports 300 tickets whose every stage is long
// past, and checks routing (first match, continue, default route), one
// delivery per clock and receiver (inhibition), signatures, PagerDuty's
// dedup keys, deliveries held outside delivery hours and sent once a
// reload lifts the hold, and an acknowledgement that stops later stages.
func runNotificationsEndToEnd(t *testing.T, vars map[string]string) {
	in := startStandIns(t)
	today := time.Now().UTC().Format("2006-01-02")
	sla := filepath.Join(t.TempDir(), "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(notificationsSLA(today, true)), 0o644); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"SLA_CONFIG_PATH": sla}
	for _, m := range []map[string]string{in.vars, vars} {
		for k, v := range m {
			all[k] = v
		}
	}
	srv := startServer(t, testSettings(t, all))
	c := srv.client(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var events []client.Event
	created := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	for _, tier := range []string{"gold", "silver", "bronze"} {
		for i := range perTier {
			events = append(events, client.Event{ID: fmt.Sprintf("%s-%03d", tier, i), Priority: "high", CustomerTier: tier,
				Status: "open", CreatedAt: created, UpdatedAt: created})
		}
	}
	if _, err := c.Ingest(ctx, events...); err != nil {
		t.Fatal(err)
	}
	checkRouted(ctx, t, in)
	checkHeld(ctx, t, in, c, today)
	checkAcknowledged(ctx, t, in, c)

	// A reload that lifts the hold re-routes the held deliveries: they go
	// out now, grouped, each clock's highest stage once.
	writeAtomic(t, sla, notificationsSLA(today, false))
	if _, err := in.slack.WaitAttachments(ctx, 4*perTier); err != nil {
		t.Fatalf("slack got %d attachments after the reload: %v", in.slack.AttachmentCount(), err)
	}
	time.Sleep(200 * time.Millisecond) // nothing more may come
	if n := in.slack.AttachmentCount(); n != 4*perTier {
		t.Errorf("slack got %d attachments, want %d (gold and bronze, two clocks each)", n, 4*perTier)
	}
	if n := len(in.slack.Messages()); n > 4*perTier/20+2 {
		t.Errorf("slack got %d messages for %d alerts: the released deliveries were not grouped", n, 4*perTier)
	}
	if strings.Contains(srv.logs.String(), "e2e-hook-secret") || strings.Contains(srv.logs.String(), "e2e-pd-key") {
		t.Error("a secret is in the log")
	}
}

// checkRouted: gold breaches and escalations page on-call, one incident
// per clock, the highest stage only (inhibition superseding the rest);
// silver goes to the signed webhook, each clock's highest stage once.
func checkRouted(ctx context.Context, t *testing.T, in *standIns) {
	evs, err := in.pd.Wait(ctx, 2*perTier)
	if err != nil {
		t.Fatalf("pagerduty got %d events: %v", len(evs), err)
	}
	keys := map[string]bool{}
	for _, e := range evs {
		if e.EventAction != "trigger" || !e.RoutingKeyOK || !strings.HasPrefix(e.DedupKey, "gold-") {
			t.Errorf("pagerduty event %+v", e)
		}
		keys[e.DedupKey] = true
	}
	eventually(t, 30*time.Second, "the webhook's deliveries", func() bool {
		got, _ := in.hook.entries()
		return len(got) >= 2*perTier
	})
	got, bad := in.hook.entries()
	if bad != 0 || len(got) != 2*perTier || !strings.HasSuffix(got[0], ":escalation-2") || !strings.HasPrefix(got[0], "silver-") {
		t.Errorf("webhook: %d entries (%d bad signatures), first %q", len(got), bad, got[0])
	}
	if len(keys) != 2*perTier || len(in.pd.Events()) != 2*perTier {
		t.Errorf("pagerduty: %d dedup keys in %d events, want %d in as many", len(keys), len(in.pd.Events()), 2*perTier)
	}
}

// checkHeld: gold and bronze reach the team's Slack through the default
// route, held outside its delivery hours: nothing is sent, the ticket
// shows the hold, and the superseded stages say so.
func checkHeld(ctx context.Context, t *testing.T, in *standIns, c *client.Client, today string) {
	tk, err := c.Ticket(ctx, "bronze-007")
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]string{}
	for _, a := range tk.Alerts {
		for _, d := range deref(a.Deliveries) {
			statuses[string(a.SLAType)+":"+string(a.Stage)+"/"+d.Notifier] = string(d.Status)
			if a.Stage == "escalation-2" && (d.HeldUntil == nil || d.HeldUntil.Format("2006-01-02") == today) {
				t.Errorf("bronze-007's %s delivery %+v is not held past today", a.SLAType, d)
			}
		}
	}
	if statuses["response:escalation-2/team-slack"] != "pending" || statuses["response:breach/team-slack"] != "superseded" ||
		statuses["resolution:alert/team-slack"] != "superseded" || len(statuses) != 8 {
		t.Errorf("bronze-007's deliveries %v", statuses)
	}
	if n := len(in.slack.Messages()); n != 0 {
		t.Errorf("slack got %d messages while its deliveries are held", n)
	}
}

// checkAcknowledged: an acknowledged clock's later stages are recorded,
// not sent.
func checkAcknowledged(ctx context.Context, t *testing.T, in *standIns, c *client.Client) {
	ackCreated := time.Now().UTC()
	if _, err := c.Ingest(ctx, client.Event{ID: "fast-1", Priority: "high", CustomerTier: "fast", Status: "open",
		CreatedAt: ackCreated, UpdatedAt: ackCreated}); err != nil {
		t.Fatal(err)
	}
	resp := client.SLATypeResponse
	if _, err := c.Acknowledge(ctx, "fast-1", client.AckRequest{By: "alice", SLAType: &resp}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "fast-1's escalation-2", func() bool {
		tk, err := c.Ticket(ctx, "fast-1")
		return err == nil && len(tk.Alerts) == 4
	})
	tk, err := c.Ticket(ctx, "fast-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range tk.Alerts {
		if ds := deref(a.Deliveries); len(ds) != 1 || ds[0].Status != "acknowledged" {
			t.Errorf("fast-1 %s deliveries %+v, want acknowledged", a.Stage, a.Deliveries)
		}
	}
	if got, _ := in.hook.entries(); slices.ContainsFunc(got, func(e string) bool { return strings.HasPrefix(e, "fast-1") }) {
		t.Error("an acknowledged clock's stage was sent")
	}
}

// nextDay is the day after day (2006-01-02): a holiday too, so that a run
// crossing midnight stays closed.
func nextDay(day string) string {
	d, _ := time.Parse("2006-01-02", day)
	return d.AddDate(0, 0, 1).Format("2006-01-02")
}

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}
