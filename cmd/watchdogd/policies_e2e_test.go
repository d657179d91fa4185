package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

const twoSecondCycles = `policies:
  - name: chat
    match: {attributes.channel: chat}
    targets: {next_reply: 2s}
tiers:
  gold:
    high: {response: 1h, resolution: 8h}
`

// On the real service and clock: a customer message after the first
// response starts a next-reply cycle whose alert and breach reach the
// WebSocket once each, on time, with the policy, cycle and its start; a
// filter on another policy gets none of them.
func TestServeNextReplyCycleOnTime(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			sla := filepath.Join(t.TempDir(), "sla.yaml")
			if err := os.WriteFile(sla, []byte(twoSecondCycles), 0o644); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"SLA_CONFIG_PATH": sla}
			if store == "postgres" {
				vars["DATABASE_URL"] = pgtest.DSN(t)
			}
			srv := startServer(t, testSettings(t, vars))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dial := func(q string) *websocket.Conn {
				conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.base, "http")+"/ws/alerts"+q, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = conn.CloseNow() })
				return conn
			}
			chat, other := dial("?policy=chat"), dial("?policy=tiers.gold.high")
			now := time.Now().UTC().Truncate(time.Second)
			created := now.Add(-time.Minute)
			customer := now.Add(time.Second)
			r := srv.do(t, "POST", "/tickets", fmt.Sprintf(`{"id":"c","priority":"high","created_at":%q,"updated_at":%q,"status":"open",
				"customer_tier":"gold","attributes":{"channel":"chat"},"messages":[{"author":"agent","at":%q},{"author":"customer","at":%q}]}`,
				created.Format(time.RFC3339), created.Format(time.RFC3339), created.Add(time.Second).Format(time.RFC3339), customer.Format(time.RFC3339)))
			mustStatus(t, r, http.StatusOK)
			type msg struct {
				SLAType        string    `json:"sla_type"`
				Stage          string    `json:"stage"`
				Policy         string    `json:"policy"`
				Cycle          int       `json:"cycle"`
				CycleStartedAt time.Time `json:"cycle_started_at"`
				DueAt          time.Time `json:"due_at"`
			}
			for _, stage := range []string{"alert", "breach"} {
				_, data, err := chat.Read(ctx)
				if err != nil {
					t.Fatalf("waiting for the %s: %v", stage, err)
				}
				got := time.Now()
				var m msg
				if err := json.Unmarshal(data, &m); err != nil {
					t.Fatal(err)
				}
				if m.SLAType != "next_reply" || m.Stage != stage || m.Policy != "chat" || m.Cycle != 1 || !m.CycleStartedAt.Equal(customer) {
					t.Errorf("message %s, want next_reply %s of cycle 1 from %v", data, stage, customer)
				}
				if late := got.Sub(m.DueAt); late < 0 || late > 1500*time.Millisecond {
					t.Errorf("%s received %v after its due instant", stage, late)
				}
			}
			short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancelShort()
			if _, data, err := chat.Read(short); err == nil {
				t.Errorf("a third message: %s", data)
			}
			if _, data, err := other.Read(short); err == nil {
				t.Errorf("policy=tiers.gold.high got %s", data)
			}
			r = srv.do(t, "GET", "/tickets/c", "")
			var v struct {
				Policy string                    `json:"policy"`
				SLA    map[string]map[string]any `json:"sla"`
			}
			if err := json.Unmarshal(r.body, &v); err != nil || v.Policy != "chat" || v.SLA["next_reply"]["state"] != "breach" || v.SLA["next_reply"]["cycle"] != float64(1) {
				t.Errorf("GET /tickets/c: %s", r.body)
			}
		})
	}
}
