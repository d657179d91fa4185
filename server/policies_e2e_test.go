package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/server"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// The SLA file of the policy tests: ordered policies with every kind of
// condition, then the seed's tiers table.
const policiesSLA = `
policies:
  - name: vip
    match: {tier: gold, attributes.group: [billing, payments], tags: vip}
    targets: {response: 15m, next_reply: 1h, periodic_update: 4h, resolution: 8h}
  - name: email
    match: {attributes.channel: email, not: {priority: low}}
    targets: {response: 4h, resolution: 72h}
  - name: not-chat
    match: {tier: silver, not: {attributes.channel: chat}}
    targets: {next_reply: 2h}
tiers:
  gold:
    high: {response: 30, resolution: 180}
`

// t0 is the fake clock's start in the policy tests.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// policyServer is a server on the fake clock with policiesSLA, on store
// ("sqlite" or "postgres").
type policyServer struct {
	*running
	clock *watchdogtest.Clock
	sla   string
}

func (s *policyServer) slaPath(*testing.T) string { return s.sla }

func startPolicyServer(t *testing.T, store string) *policyServer {
	t.Helper()
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla.yaml")
	if err := os.WriteFile(sla, []byte(policiesSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{SLAConfigPath: sla, Clock: watchdogtest.NewClock(t0)}
	if store == "postgres" {
		cfg.DatabaseURL = pgtest.DSN(t)
	}
	clock := cfg.Clock.(*watchdogtest.Clock)
	return &policyServer{running: runServer(t, cfg), clock: clock, sla: sla}
}

// forStores runs f as a subtest on each store.
func forStores(t *testing.T, f func(t *testing.T, srv *policyServer)) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			f(t, startPolicyServer(t, store))
		})
	}
}

func (s *policyServer) req(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
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
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, b
}

// post posts events, which must be accepted.
func (s *policyServer) post(t *testing.T, body string) {
	t.Helper()
	if code, b := s.req(t, "POST", "/tickets", body); code != http.StatusOK {
		t.Fatalf("POST /tickets %s: %d %s", body, code, b)
	}
}

// at formats t0+d.
func at(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }

// ev is one event of ticket id at t0+updated (created at t0).
func ev(id, tier, prio, status string, updated time.Duration, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"id":%q,"priority":%q,"created_at":%q,"updated_at":%q,"status":%q,"customer_tier":%q%s}`,
		id, prio, at(0), at(updated), status, tier, extra)
}

// msgs renders messages: pairs of (author, offset from t0).
func msgs(pairs ...any) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, fmt.Sprintf(`{"author":%q,"at":%q}`, pairs[i], at(pairs[i+1].(time.Duration))))
	}
	return `"messages":[` + strings.Join(parts, ",") + `]`
}

type clockJSON struct {
	State          string     `json:"state"`
	Cycle          int        `json:"cycle"`
	CycleStartedAt *time.Time `json:"cycle_started_at"`
	CyclesMet      int        `json:"cycles_met"`
	CyclesMissed   int        `json:"cycles_missed"`
	BreachAt       *time.Time `json:"breach_at"`
	AlertAt        *time.Time `json:"alert_at"`
}

type alertJSON struct {
	ID              int64      `json:"id"`
	TicketID        string     `json:"ticket_id"`
	SLAType         string     `json:"sla_type"`
	Stage           string     `json:"stage"`
	Cycle           int        `json:"cycle"`
	CycleStartedAt  *time.Time `json:"cycle_started_at"`
	Policy          string     `json:"policy"`
	DueAt           time.Time  `json:"due_at"`
	EscalationLevel int        `json:"escalation_level"`
}

type ticketJSON struct {
	Policy          string               `json:"policy"`
	State           string               `json:"sla_state"`
	Untracked       string               `json:"untracked_reason"`
	Attributes      map[string]string    `json:"attributes"`
	Tags            []string             `json:"tags"`
	EscalationLevel int                  `json:"escalation_level"`
	BreachAt        *time.Time           `json:"breach_at"`
	Messages        []map[string]string  `json:"messages"`
	SLA             map[string]clockJSON `json:"sla"`
	Alerts          []alertJSON          `json:"alerts"`
}

func (s *policyServer) ticket(t *testing.T, id string) ticketJSON {
	t.Helper()
	code, b := s.req(t, "GET", "/tickets/"+id, "")
	if code != http.StatusOK {
		t.Fatalf("GET /tickets/%s: %d %s", id, code, b)
	}
	var v ticketJSON
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

func (s *policyServer) alerts(t *testing.T, id string) []alertJSON {
	t.Helper()
	code, b := s.req(t, "GET", "/alerts?ticket_id="+id+"&limit=1000", "")
	if code != http.StatusOK {
		t.Fatalf("GET /alerts: %d %s", code, b)
	}
	var all []alertJSON
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var out []alertJSON
	for _, a := range all {
		if a.TicketID == id {
			out = append(out, a)
		}
	}
	return out
}

// advance moves the fake clock to t0+d and waits until the engine has
// fired what was due by then (its timers are all after the instant).
func (s *policyServer) advance(t *testing.T, d time.Duration) {
	t.Helper()
	watchdogtest.Settle(t, s.Engine().Hooks())
	s.clock.Set(t0.Add(d))
	watchdogtest.Settle(t, s.Engine().Hooks())
}

// stageCount counts the alerts of clock/stage with cycle start key.
func stageCount(as []alertJSON, clock, stage string, key time.Duration) int {
	n := 0
	for _, a := range as {
		if a.SLAType == clock && a.Stage == stage && a.CycleStartedAt != nil && a.CycleStartedAt.Equal(t0.Add(key)) {
			n++
		}
	}
	return n
}

func describe(as []alertJSON) string {
	var b bytes.Buffer
	for _, a := range as {
		k := ""
		if a.CycleStartedAt != nil {
			k = a.CycleStartedAt.Sub(t0).String()
		}
		fmt.Fprintf(&b, "\n  %s/%s cycle %d key %s due %s policy %s level %d", a.SLAType, a.Stage, a.Cycle, k, a.DueAt.Sub(t0), a.Policy, a.EscalationLevel)
	}
	return b.String()
}

// Policies are chosen by tier, attributes, tags and not, in file order,
// falling through to the tiers table.
func TestE2EPolicySelection(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.post(t, "["+strings.Join([]string{
			ev("vip1", "gold", "low", "open", 0, `"attributes":{"group":"payments"},"tags":["x","vip"]`),
			ev("vip-no-tag", "gold", "high", "open", 0, `"attributes":{"group":"payments"},"tags":["x"]`),
			ev("email1", "bronze", "high", "open", 0, `"attributes":{"channel":"email"}`),
			ev("email-low", "bronze", "low", "open", 0, `"attributes":{"channel":"email"}`),
			ev("silver-none", "silver", "low", "open", 0, ``),
			ev("silver-chat", "silver", "low", "open", 0, `"attributes":{"channel":"chat"}`),
		}, ",")+"]")
		want := map[string]string{
			"vip1": "vip", "vip-no-tag": "tiers.gold.high", "email1": "email", "email-low": "",
			"silver-none": "not-chat", "silver-chat": "",
		}
		for id, p := range want {
			v := srv.ticket(t, id)
			if v.Policy != p {
				t.Errorf("%s: policy %q, want %q", id, v.Policy, p)
			}
			if p == "" && v.State != "untracked" {
				t.Errorf("%s: state %q, want untracked", id, v.State)
			}
		}
		// A target the first matching policy omits is not tracked.
		if v := srv.ticket(t, "email1"); v.SLA["next_reply"].State != "" || v.SLA["resolution"].State == "" {
			t.Errorf("email1 clocks: %+v", v.SLA)
		}
		if v := srv.ticket(t, "silver-none"); v.SLA["response"].State != "" || v.SLA["next_reply"].State != "idle" {
			t.Errorf("silver-none clocks: %+v", v.SLA)
		}
		// The dashboard filters by policy.
		code, b := srv.req(t, "GET", "/dashboard?policy=email", "")
		if code != http.StatusOK || !strings.Contains(string(b), `"email1"`) || strings.Contains(string(b), `"vip1"`) {
			t.Errorf("dashboard?policy=email: %d %s", code, b)
		}
		code, b = srv.req(t, "GET", "/dashboard?policy=tiers.gold.high", "")
		if code != http.StatusOK || !strings.Contains(string(b), `"vip-no-tag"`) || strings.Contains(string(b), `"vip1"`) {
			t.Errorf("dashboard?policy=tiers.gold.high: %d %s", code, b)
		}
	})
}

// wsCollect collects the alert messages of /ws/alerts with query.
type wsCollect struct {
	msgs chan map[string]any
}

func (s *policyServer) ws(t *testing.T, query string) *wsCollect {
	t.Helper()
	conn, resp := wsDial(t, s.base, query, nil)
	if conn == nil {
		t.Fatalf("ws %s: %d", query, resp.StatusCode)
	}
	c := &wsCollect{msgs: make(chan map[string]any, 100)}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(data, &m) == nil {
				c.msgs <- m
			}
		}
	}()
	eventually(t, "the WebSocket client", func() bool { return s.Hub().Clients() > 0 })
	return c
}

// drain returns the messages received so far, waiting briefly for more.
func (c *wsCollect) drain() []map[string]any {
	var out []map[string]any
	for {
		select {
		case m := <-c.msgs:
			out = append(out, m)
		case <-time.After(300 * time.Millisecond):
			return out
		}
	}
}

// Next-reply cycles fire alert and breach once per cycle, with the cycle's
// ordinal and start on the ticket, the alerts and the WebSocket; messages
// re-sent (also in an event already seen) and late messages that insert an
// earlier cycle fire nothing twice.
func TestE2ENextReplyCycles(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		vipWS := srv.ws(t, "?policy=vip")
		tiersWS := srv.ws(t, "?policy=tiers.gold.high")
		eventually(t, "two WebSocket clients", func() bool { return srv.Hub().Clients() == 2 })
		const extras = `"attributes":{"group":"billing"},"tags":["vip"]`
		srv.advance(t, 10*time.Minute)
		// First response (agent) at 5m, a customer message at 10m: cycle 1 at 10m.
		srv.post(t, "["+ev("c", "gold", "high", "open", 0, extras+","+msgs("customer", time.Duration(0), "agent", 5*time.Minute, "customer", 10*time.Minute))+
			","+ev("g", "gold", "high", "open", 0, "")+"]")
		v := srv.ticket(t, "c")
		nr := v.SLA["next_reply"]
		if v.Policy != "vip" || nr.State != "ok" || nr.Cycle != 1 || nr.CycleStartedAt == nil || !nr.CycleStartedAt.Equal(t0.Add(10*time.Minute)) ||
			nr.BreachAt == nil || !nr.BreachAt.Equal(t0.Add(70*time.Minute)) {
			t.Fatalf("after ingest: policy %q next_reply %+v", v.Policy, nr)
		}
		if pu := v.SLA["periodic_update"]; pu.Cycle != 1 || !pu.CycleStartedAt.Equal(t0.Add(5*time.Minute)) || pu.State != "ok" {
			t.Errorf("periodic_update %+v", pu)
		}
		if r := v.SLA["response"]; r.State != "met" || r.Cycle != 0 {
			t.Errorf("response %+v", r)
		}
		srv.advance(t, 65*time.Minute)
		srv.advance(t, 75*time.Minute)
		as := srv.alerts(t, "c")
		if stageCount(as, "next_reply", "alert", 10*time.Minute) != 1 || stageCount(as, "next_reply", "breach", 10*time.Minute) != 1 {
			t.Fatalf("cycle 1 alerts:%s", describe(as))
		}
		for _, a := range as {
			if a.SLAType == "next_reply" && (a.Cycle != 1 || a.Policy != "vip") {
				t.Errorf("cycle 1 alert %+v", a)
			}
		}
		// The agent answers at 80m (cycle 1 missed); the customer writes at
		// 90m: cycle 2.
		srv.advance(t, 90*time.Minute)
		srv.post(t, ev("c", "gold", "high", "open", 90*time.Minute, msgs("agent", 80*time.Minute, "customer", 90*time.Minute)))
		v = srv.ticket(t, "c")
		if nr := v.SLA["next_reply"]; nr.Cycle != 2 || !nr.CycleStartedAt.Equal(t0.Add(90*time.Minute)) || nr.CyclesMissed != 1 || nr.CyclesMet != 0 || nr.State != "ok" {
			t.Errorf("cycle 2: %+v", nr)
		}
		srv.advance(t, 145*time.Minute)
		srv.advance(t, 155*time.Minute)
		as = srv.alerts(t, "c")
		if stageCount(as, "next_reply", "alert", 90*time.Minute) != 1 || stageCount(as, "next_reply", "breach", 90*time.Minute) != 1 {
			t.Fatalf("cycle 2 alerts:%s", describe(as))
		}
		for _, a := range as {
			if a.SLAType == "next_reply" && a.CycleStartedAt.Equal(t0.Add(90*time.Minute)) && a.Cycle != 2 {
				t.Errorf("cycle 2 alert %+v", a)
			}
		}
		before := len(as)
		level := srv.ticket(t, "c").EscalationLevel
		if level != before {
			t.Errorf("escalation level %d after %d alerts", level, before)
		}

		// Every message again, out of order, in the event already seen and
		// in a new one: nothing changes.
		all := msgs("customer", 90*time.Minute, "agent", 80*time.Minute, "customer", 10*time.Minute, "agent", 5*time.Minute, "customer", time.Duration(0))
		srv.post(t, ev("c", "gold", "high", "open", 90*time.Minute, all))
		srv.post(t, ev("c", "gold", "high", "open", 100*time.Minute, all))
		srv.advance(t, 160*time.Minute)
		v = srv.ticket(t, "c")
		if len(v.Messages) != 5 || len(srv.alerts(t, "c")) != before || v.SLA["next_reply"].Cycle != 2 {
			t.Errorf("re-sent messages: %d messages, %d alerts (want %d), next_reply %+v", len(v.Messages), len(srv.alerts(t, "c")), before, v.SLA["next_reply"])
		}

		lateMessages(t, srv, before)
		checkCycleWebSocket(t, vipWS, tiersWS)
	})
}

// count counts the alerts of clock/stage.
func count(as []alertJSON, clock, stage string) int {
	n := 0
	for _, a := range as {
		if a.SLAType == clock && a.Stage == stage {
			n++
		}
	}
	return n
}

// Attributes and tags come from the latest event that carries them; when
// they change so that another policy applies, the clocks are recomputed
// under it and the alerts already sent stay sent.
func TestE2EPolicySwitch(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.post(t, ev("s", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"],`+msgs("customer", time.Duration(0))))
		srv.advance(t, 20*time.Minute)
		as := srv.alerts(t, "s")
		if count(as, "response", "alert") != 1 || count(as, "response", "breach") != 1 || as[0].Policy != "vip" {
			t.Fatalf("under vip:%s", describe(as))
		}
		// Another group: the tiers' 30-minute response target applies.
		srv.post(t, ev("s", "gold", "high", "open", 25*time.Minute, `"attributes":{"group":"sales"}`))
		v := srv.ticket(t, "s")
		if v.Policy != "tiers.gold.high" || v.Attributes["group"] != "sales" || len(v.Tags) != 1 || v.SLA["next_reply"].State != "" {
			t.Fatalf("after the switch: %+v", v)
		}
		if r := v.SLA["response"]; r.State != "ok" || !r.BreachAt.Equal(t0.Add(30*time.Minute)) {
			t.Errorf("response under the tiers at 25m: %+v", r)
		}
		srv.dashboardHas(t, "tiers.gold.high", "s", true)
		srv.dashboardHas(t, "vip", "s", false)
		// A late event's attributes do not override the latest ones.
		srv.post(t, ev("s", "gold", "high", "open", 22*time.Minute, `"attributes":{"group":"billing"},"tags":["vip"]`))
		if v := srv.ticket(t, "s"); v.Policy != "tiers.gold.high" || v.Attributes["group"] != "sales" {
			t.Errorf("a late event's attributes applied: %+v", v)
		}
		srv.advance(t, 40*time.Minute)
		as = srv.alerts(t, "s")
		if count(as, "response", "alert") != 1 || count(as, "response", "breach") != 1 || len(as) != 2 {
			t.Errorf("alerts re-fired after the switch:%s", describe(as))
		}
		// Absent keeps; [] clears the tags; then vip again.
		srv.post(t, ev("s", "gold", "high", "open", 41*time.Minute, ""))
		if v := srv.ticket(t, "s"); v.Attributes["group"] != "sales" || len(v.Tags) != 1 {
			t.Errorf("absent attributes and tags: %+v %+v", v.Attributes, v.Tags)
		}
		srv.post(t, ev("s", "gold", "high", "open", 42*time.Minute, `"tags":[]`))
		if v := srv.ticket(t, "s"); v.Attributes["group"] != "sales" || len(v.Tags) != 0 {
			t.Errorf("tags [] should clear: %+v %+v", v.Attributes, v.Tags)
		}
		srv.post(t, ev("s", "gold", "high", "open", 43*time.Minute, `"attributes":{"group":"payments"},"tags":["vip"]`))
		v = srv.ticket(t, "s")
		if v.Policy != "vip" {
			t.Errorf("back to vip: %+v", v)
		}
		srv.advance(t, 50*time.Minute)
		if as := srv.alerts(t, "s"); len(as) != 2 {
			t.Errorf("alerts after the switch back:%s", describe(as))
		}
		srv.post(t, ev("s", "gold", "high", "open", 44*time.Minute, `"attributes":{}`))
		if v := srv.ticket(t, "s"); v.Attributes != nil || v.Policy != "tiers.gold.high" {
			t.Errorf("attributes {} should clear: %+v", v)
		}
	})
}

// Periodic-update cycles start at agent messages while the ticket is not
// resolved and stop at the next agent message or resolution; a reopen
// starts none, and a reopen starts the next-reply cycle a customer message
// written while resolved asked for. Zero-length cycles do not exist.
func TestE2EPeriodicUpdateAndReopen(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		const vip = `"attributes":{"group":"billing"},"tags":["vip"]`
		srv.advance(t, 90*time.Minute)
		for _, id := range []string{"p1", "p2"} {
			m := msgs("agent", 5*time.Minute, "customer", 40*time.Minute)
			if id == "p2" {
				m = msgs("agent", 5*time.Minute, "customer", 40*time.Minute, "agent", 60*time.Minute)
			}
			srv.post(t, "["+ev(id, "gold", "high", "open", 0, vip+","+m)+","+ev(id, "gold", "high", "resolved", 30*time.Minute, "")+","+
				ev(id, "gold", "high", "open", 60*time.Minute, "")+"]")
		}
		v := srv.ticket(t, "p1")
		pu, nr := v.SLA["periodic_update"], v.SLA["next_reply"]
		if pu.State != "met" || pu.Cycle != 1 || pu.CyclesMet != 1 || !pu.CycleStartedAt.Equal(t0.Add(5*time.Minute)) {
			t.Errorf("p1 periodic_update (a reopen starts none): %+v", pu)
		}
		if nr.Cycle != 1 || !nr.CycleStartedAt.Equal(t0.Add(60*time.Minute)) || nr.State != "ok" || nr.CyclesMet+nr.CyclesMissed != 0 ||
			!nr.BreachAt.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("p1 next_reply (starts at the reopen): %+v", nr)
		}
		if v.BreachAt == nil || !v.BreachAt.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("p1 breach_at %v, want the next reply's", v.BreachAt)
		}
		v = srv.ticket(t, "p2")
		pu, nr = v.SLA["periodic_update"], v.SLA["next_reply"]
		if nr.State != "idle" || nr.Cycle != 0 || nr.CyclesMet != 0 {
			t.Errorf("p2 next_reply (zero-length cycle): %+v", nr)
		}
		if pu.State != "ok" || pu.Cycle != 2 || pu.CyclesMet != 1 || !pu.CycleStartedAt.Equal(t0.Add(60*time.Minute)) {
			t.Errorf("p2 periodic_update: %+v", pu)
		}
		// A cycle stopped exactly at its breach instant is met: the
		// agent's update at 4h05m stops the 4h cycle from 5m, whose alert
		// (at 3h29m) alone fires.
		srv.advance(t, 5*time.Hour)
		srv.post(t, ev("p3", "gold", "high", "open", 0, vip+","+msgs("agent", 5*time.Minute, "agent", 4*time.Hour+5*time.Minute)))
		srv.advance(t, 5*time.Hour+time.Minute)
		v = srv.ticket(t, "p3")
		as := srv.alerts(t, "p3")
		if pu := v.SLA["periodic_update"]; pu.Cycle != 2 || pu.CyclesMet != 1 || pu.CyclesMissed != 0 || count(as, "periodic_update", "breach") != 0 ||
			stageCount(as, "periodic_update", "alert", 5*time.Minute) != 1 || pu.State != "ok" {
			t.Errorf("p3: %+v%s", pu, describe(as))
		}
	})
}

// Each bound on attributes, tags and messages is a 422 naming the item (its
// index in the batch and its id) and the key; nothing of the batch is kept.
func TestE2EExtrasBounds(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.advance(t, time.Hour)
		many := func(n int, f func(i int) string) string {
			parts := make([]string, n)
			for i := range parts {
				parts[i] = f(i)
			}
			return strings.Join(parts, ",")
		}
		long := strings.Repeat("x", 257)
		cases := []struct {
			name, extra, field, says string
		}{
			{"33 attributes", `"attributes":{` + many(33, func(i int) string { return fmt.Sprintf(`"k%d":"v"`, i) }) + `}`, "attributes", "32"},
			{"bad key", `"attributes":{"Group":"x"}`, "attributes.Group", "a-z"},
			{"bad key char", `"attributes":{"a b":"x"}`, "attributes.a b", "a-z"},
			{"key too long", `"attributes":{"` + strings.Repeat("k", 65) + `":"x"}`, "attributes", "64"},
			{"value 257 bytes", `"attributes":{"group":"` + long + `"}`, "attributes.group", "256"},
			{"65 tags", `"tags":[` + many(65, func(i int) string { return fmt.Sprintf(`"t%d"`, i) }) + `]`, "tags", "64"},
			{"tag 65 bytes", `"tags":["a","` + strings.Repeat("t", 65) + `"]`, "tags[1]", "64"},
			{"1001 messages", `"messages":[` + many(1001, func(i int) string { return fmt.Sprintf(`{"author":"agent","at":%q}`, at(time.Duration(i)*time.Second)) }) + `]`, "messages", "1000"},
			{"before created_at", msgs("customer", time.Minute, "customer", -time.Minute), "messages[1].at", "created_at"},
			{"unknown author", `"messages":[{"author":"bot","at":"` + at(time.Minute) + `"}]`, "messages[0].author", "customer or agent"},
			{"attributes not strings", `"attributes":{"group":1}`, "attributes.group", "string"},
			{"attribute null", `"attributes":{"group":null}`, "attributes.group", "got null"},
			{"tag null", `"tags":[null]`, "tags[0]", "got null"},
			{"empty key", `"attributes":{"":"x"}`, "attributes", `key ""`},
		}
		for _, c := range cases {
			body := "[" + ev("ok-"+c.name, "gold", "high", "open", 0, "") + "," + ev("bad", "gold", "high", "open", 0, c.extra) + "]"
			code, b := srv.req(t, "POST", "/tickets", body)
			var eb struct {
				Error   string `json:"error"`
				Details []struct {
					Item    int    `json:"item"`
					ID      string `json:"id"`
					Field   string `json:"field"`
					Message string `json:"message"`
				} `json:"details"`
			}
			if err := json.Unmarshal(b, &eb); err != nil || code != http.StatusUnprocessableEntity || len(eb.Details) == 0 {
				t.Errorf("%s: %d %.300s", c.name, code, b)
				continue
			}
			d := eb.Details[0]
			if d.Item != 1 || d.ID != "bad" || d.Field != c.field || !strings.Contains(d.Message, c.says) {
				t.Errorf("%s: detail %+v, want item 1 id bad field %q saying %q", c.name, d, c.field, c.says)
			}
			if code, _ := srv.req(t, "GET", "/tickets/ok-"+strings.ReplaceAll(c.name, " ", "%20"), ""); code != http.StatusNotFound {
				t.Errorf("%s: the batch's valid item was kept (%d)", c.name, code)
			}
		}
		// The limits themselves are accepted.
		body := ev("max", "gold", "high", "open", 0, `"attributes":{`+many(32, func(i int) string { return fmt.Sprintf(`"k.%d-_":"%s"`, i, strings.Repeat("v", 256)) })+
			`},"tags":[`+many(64, func(i int) string { return fmt.Sprintf(`"%063d"`, i) })+`],"messages":[`+
			many(1000, func(i int) string {
				return fmt.Sprintf(`{"author":"customer","at":%q}`, at(time.Duration(i)*time.Second))
			})+`]`)
		srv.post(t, body)
		v := srv.ticket(t, "max")
		if len(v.Attributes) != 32 || len(v.Tags) != 64 || len(v.Messages) != 1000 {
			t.Errorf("at the limits: %d attributes, %d tags, %d messages", len(v.Attributes), len(v.Tags), len(v.Messages))
		}
	})
}

// A late event that carries attributes wins over earlier ones when no later
// event carries any; an event already seen changes no attributes.
func TestE2ELateEventAttributes(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.advance(t, time.Hour)
		srv.post(t, ev("l", "gold", "high", "open", 10*time.Minute, `"attributes":{"group":"sales"},"tags":["x"]`))
		srv.post(t, ev("l", "gold", "high", "open", 30*time.Minute, ""))
		srv.post(t, ev("l", "gold", "high", "open", 20*time.Minute, `"attributes":{"group":"billing"},"tags":["vip"]`))
		if v := srv.ticket(t, "l"); v.Attributes["group"] != "billing" || fmt.Sprint(v.Tags) != "[vip]" || v.Policy != "vip" {
			t.Errorf("the late event's attributes (latest that carries them): %+v %v policy %q", v.Attributes, v.Tags, v.Policy)
		}
		// The same (id, updated_at) again with other attributes: ignored.
		srv.post(t, ev("l", "gold", "high", "open", 20*time.Minute, `"attributes":{"group":"sales"},"tags":[]`))
		srv.post(t, ev("l", "gold", "high", "open", 30*time.Minute, `"attributes":{"group":"sales"},"tags":[]`))
		if v := srv.ticket(t, "l"); v.Attributes["group"] != "billing" || fmt.Sprint(v.Tags) != "[vip]" || v.Policy != "vip" {
			t.Errorf("an event already seen changed attributes: %+v %v policy %q", v.Attributes, v.Tags, v.Policy)
		}
		// In one batch, in any order.
		srv.post(t, "["+ev("b", "gold", "high", "open", 30*time.Minute, `"tags":["vip"]`)+","+
			ev("b", "gold", "high", "open", 10*time.Minute, `"attributes":{"group":"payments"},"tags":["y"],`+msgs("customer", time.Minute))+","+
			ev("b", "gold", "high", "open", 20*time.Minute, msgs("agent", 2*time.Minute))+"]")
		v := srv.ticket(t, "b")
		if v.Attributes["group"] != "payments" || fmt.Sprint(v.Tags) != "[vip]" || v.Policy != "vip" || len(v.Messages) != 2 || v.SLA["response"].State != "met" {
			t.Errorf("one batch: %+v", v)
		}
	})
}

// When the SLA file changes so that another policy applies, the ticket's
// clocks are recomputed under it; the alerts already sent stay sent, and a
// cycle clock the new policy lacks is no longer shown.
func TestE2EPolicyFileChange(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.advance(t, 20*time.Minute)
		srv.post(t, ev("f", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"],`+msgs("agent", time.Minute, "customer", 2*time.Minute)))
		if as := srv.alerts(t, "f"); len(as) != 0 {
			t.Fatalf("alerts before the change:%s", describe(as))
		}
		srv.advance(t, 55*time.Minute)
		if as := srv.alerts(t, "f"); stageCount(as, "next_reply", "alert", 2*time.Minute) != 1 {
			t.Fatalf("next reply alert under vip:%s", describe(as))
		}
		const changed = `
policies:
  - name: vip2
    match: {tags: vip}
    targets: {next_reply: 2h, resolution: 1h}
`
		if err := os.WriteFile(srv.slaPath(t), []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the new policy", func() bool { return srv.ticket(t, "f").Policy == "vip2" })
		srv.advance(t, 70*time.Minute)
		// The engine recomputes the stored tickets after it puts the new
		// policy in force: the due stages fire once that is done.
		eventually(t, "the stages due under the new policy", func() bool { return len(srv.alerts(t, "f")) >= 3 })
		watchdogtest.Settle(t, srv.Engine().Hooks())
		v := srv.ticket(t, "f")
		as := srv.alerts(t, "f")
		// Under vip2: next reply alert at 2m+102m, resolution alert at 51m
		// and breach at 60m fire; vip's next reply alert stays, not re-fired.
		if stageCount(as, "next_reply", "alert", 2*time.Minute) != 1 || count(as, "resolution", "alert") != 1 || count(as, "resolution", "breach") != 1 ||
			len(as) != 3 || v.SLA["periodic_update"].State != "" || v.SLA["response"].State != "" || v.SLA["next_reply"].BreachAt == nil ||
			!v.SLA["next_reply"].BreachAt.Equal(t0.Add(122*time.Minute)) {
			t.Errorf("after the change: %+v%s", v.SLA, describe(as))
		}
		srv.dashboardHas(t, "vip2", "f", true)
		srv.dashboardHas(t, "vip", "f", false)
		for _, a := range as {
			want := "vip2"
			if a.SLAType == "next_reply" {
				want = "vip"
			}
			if a.Policy != want {
				t.Errorf("alert %+v: policy %q, want %q", a, a.Policy, want)
			}
		}
	})
}

// Each (ticket, clock, stage, cycle) fires once across restarts and
// replicas: two servers share the store, one restarts, and late messages
// arrive through either.
func TestE2ECyclesOnceAcrossReplicasAndRestarts(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			sla := filepath.Join(dir, "sla.yaml")
			if err := os.WriteFile(sla, []byte(policiesSLA), 0o644); err != nil {
				t.Fatal(err)
			}
			dsn := "sqlite:///" + filepath.Join(dir, "shared.db")
			if store == "postgres" {
				dsn = pgtest.DSN(t)
			}
			start := func(now time.Duration) *policyServer {
				clock := watchdogtest.NewClock(t0.Add(now))
				return &policyServer{running: runServer(t, server.Config{SLAConfigPath: sla, DatabaseURL: dsn, Clock: clock}), clock: clock, sla: sla}
			}
			a, b := start(0), start(0)
			both := func(d time.Duration) {
				a.advance(t, d)
				b.advance(t, d)
			}
			const vip = `"attributes":{"group":"billing"},"tags":["vip"]`
			both(10 * time.Minute)
			a.post(t, ev("r", "gold", "high", "open", 0, vip+","+msgs("agent", time.Minute, "customer", 10*time.Minute)))
			both(65 * time.Minute)
			b.post(t, ev("r", "gold", "high", "open", 65*time.Minute, msgs("customer", 8*time.Minute, "agent", 5*time.Minute)))
			both(75 * time.Minute)
			// b restarts while cycle 2 runs.
			b.stop()
			a.post(t, ev("r", "gold", "high", "open", 80*time.Minute, msgs("agent", 80*time.Minute, "customer", 90*time.Minute)))
			a.advance(t, 100*time.Minute)
			b = start(100 * time.Minute)
			watchdogtest.Settle(t, b.Engine().Hooks())
			both(145 * time.Minute)
			b.post(t, ev("r", "gold", "high", "open", 90*time.Minute, msgs("customer", 85*time.Minute)))
			both(160 * time.Minute)
			as := a.alerts(t, "r")
			// The late customer messages moved each cycle's start before
			// its breach fired: each stage fired once per cycle, keyed by the
			// start known when it fired (which replica fired it, and so
			// whether before or after a late message, may vary).
			perCycle := map[string]int{}
			for _, a := range as {
				perCycle[fmt.Sprintf("%s/%s/%d", a.SLAType, a.Stage, a.Cycle)]++
			}
			if len(as) != 4 || perCycle["next_reply/alert/1"] != 1 || perCycle["next_reply/breach/1"] != 1 ||
				perCycle["next_reply/alert/2"] != 1 || perCycle["next_reply/breach/2"] != 1 ||
				stageCount(as, "next_reply", "breach", 8*time.Minute) != 1 || stageCount(as, "next_reply", "breach", 85*time.Minute) != 1 {
				t.Errorf("alerts:%s", describe(as))
			}
			v := b.ticket(t, "r")
			if nr := v.SLA["next_reply"]; nr.Cycle != 2 || !nr.CycleStartedAt.Equal(t0.Add(85*time.Minute)) || nr.CyclesMissed != 1 || v.EscalationLevel != 4 {
				t.Errorf("ticket: level %d next_reply %+v", v.EscalationLevel, nr)
			}
		})
	}
}

// dashboardHas checks whether GET /dashboard?policy= lists ticket id.
func (s *policyServer) dashboardHas(t *testing.T, policy, id string, want bool) {
	t.Helper()
	code, b := s.req(t, "GET", "/dashboard?policy="+policy, "")
	if code != http.StatusOK {
		t.Fatalf("dashboard?policy=%s: %d %s", policy, code, b)
	}
	if got := strings.Contains(string(b), `"id":"`+id+`"`); got != want {
		t.Errorf("dashboard?policy=%s lists %s: %v, want %v: %s", policy, id, got, want, b)
	}
}

// A message is identified by author and instant: the same instant written
// in another offset or with nanoseconds, or twice in one event, is one
// message; a customer and an agent at the same instant are two.
func TestE2EMessageIdentity(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.advance(t, time.Hour)
		tenPast := t0.Add(10 * time.Minute)
		m := fmt.Sprintf(`"messages":[{"author":"customer","at":%q},{"author":"customer","at":%q},{"author":"customer","at":%q},{"author":"agent","at":%q},{"author":"agent","at":%q}]`,
			tenPast.Format(time.RFC3339), tenPast.In(time.FixedZone("", 3600)).Format(time.RFC3339), tenPast.Add(300*time.Nanosecond).Format(time.RFC3339Nano),
			tenPast.Format(time.RFC3339), at(5*time.Minute))
		srv.post(t, ev("i", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"],`+m))
		srv.post(t, ev("i", "gold", "high", "open", 0, m))
		v := srv.ticket(t, "i")
		if len(v.Messages) != 3 {
			t.Errorf("messages %v, want 3", v.Messages)
		}
		// The customer at 10m came before the agent at 10m: no cycle.
		if nr := v.SLA["next_reply"]; nr.State != "idle" {
			t.Errorf("next_reply %+v, want idle", nr)
		}
		if pu := v.SLA["periodic_update"]; pu.Cycle != 2 || pu.CyclesMet != 1 {
			t.Errorf("periodic_update %+v", pu)
		}
	})
}

// Slack messages of cycle alerts name the policy and the cycle.
func TestE2ESlackCycleFields(t *testing.T) {
	t.Parallel()
	mock, err := mockslack.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(mock)
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla.yaml")
	if err := os.WriteFile(sla, []byte(policiesSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	clock := watchdogtest.NewClock(t0.Add(3 * time.Hour))
	srv := &policyServer{running: runServer(t, server.Config{SLAConfigPath: sla, Clock: clock, SlackWebhookURL: hs.URL + mockslack.WebhookPath}), clock: clock}
	srv.post(t, ev("k", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"],`+msgs("agent", time.Minute, "customer", time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for n := 1; ; n++ {
		got, err := mock.Wait(ctx, n)
		if err != nil {
			t.Fatalf("no Slack message with the cycle: %v", err)
		}
		p := string(got[n-1].Payload)
		if strings.Contains(p, "Next reply") || strings.Contains(p, "next_reply") || strings.Contains(p, "1, since "+at(time.Hour)) {
			if !strings.Contains(p, `"Policy"`) || !strings.Contains(p, `"vip"`) || !strings.Contains(p, "1, since "+at(time.Hour)) {
				t.Errorf("Slack message lacks policy or cycle: %s", p)
			}
			return
		}
	}
}

// A customer message that arrives only in an event already seen starts a
// cycle the engine then watches: its alert and breach fire on time, and the
// dashboard shows the state.
func TestE2EMessageInSeenEventSchedules(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.advance(t, 10*time.Minute)
		first := ev("d", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"],`+msgs("agent", 5*time.Minute))
		srv.post(t, first)
		srv.advance(t, 20*time.Minute)
		srv.post(t, ev("d", "gold", "high", "open", 0, msgs("customer", 20*time.Minute)))
		srv.advance(t, 71*time.Minute)
		as := srv.alerts(t, "d")
		if stageCount(as, "next_reply", "alert", 20*time.Minute) != 1 || len(as) != 1 {
			t.Fatalf("alerts at 71m:%s", describe(as))
		}
		if as[0].DueAt != t0.Add(71*time.Minute) {
			t.Errorf("due at %v", as[0].DueAt.Sub(t0))
		}
		code, b := srv.req(t, "GET", "/dashboard?state=alert", "")
		if code != http.StatusOK || !strings.Contains(string(b), `"id":"d"`) {
			t.Errorf("dashboard?state=alert: %s", b)
		}
		srv.advance(t, 80*time.Minute)
		if as := srv.alerts(t, "d"); stageCount(as, "next_reply", "breach", 20*time.Minute) != 1 || len(as) != 2 {
			t.Errorf("alerts at 80m:%s", describe(as))
		}
	})
}

// The same conversation ingested in order in one batch, and shuffled over
// many batches with messages repeated in events already seen, gives the
// same ticket: clocks, cycles, policy and messages.
func TestE2EOrderIndependence(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.advance(t, 30*time.Hour)
		rng := rand.New(rand.NewPCG(16, 16))
		statuses := []string{"open", "pending", "in_progress", "solved", "closed", "open", "in_progress"}
		for round := range 4 {
			type item struct {
				status string
				author string
				at     time.Duration
			}
			var items []item
			used := map[time.Duration]bool{0: true}
			for range 40 {
				d := time.Duration(rng.IntN(24*60)) * time.Minute
				if rng.IntN(3) == 0 {
					if used[d] {
						continue
					}
					used[d] = true
					items = append(items, item{status: statuses[rng.IntN(len(statuses))], at: d})
				} else {
					items = append(items, item{author: []string{"customer", "agent"}[rng.IntN(2)], at: d})
				}
			}
			const vip = `"attributes":{"group":"billing"},"tags":["vip"]`
			a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
			var inOrder []string
			var msgPairs []any
			for _, it := range items {
				if it.author != "" {
					msgPairs = append(msgPairs, it.author, it.at)
				}
			}
			inOrder = append(inOrder, ev(a, "gold", "high", "open", 0, vip+","+msgs(msgPairs...)))
			for _, it := range items {
				if it.status != "" {
					inOrder = append(inOrder, ev(a, "gold", "high", it.status, it.at, vip))
				}
			}
			srv.post(t, "["+strings.Join(inOrder, ",")+"]")

			// b: each status event alone, shuffled; each message in a
			// random event (sometimes one already seen), some twice.
			var events []string
			events = append(events, ev(b, "gold", "high", "open", 0, vip))
			for _, it := range items {
				if it.status != "" {
					events = append(events, ev(b, "gold", "high", it.status, it.at, vip))
				}
			}
			rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
			// The first event must create the ticket with its created_at;
			// every event carries created_at t0, so any order will do.
			for _, e := range events {
				srv.post(t, e)
			}
			for _, it := range items {
				if it.author == "" {
					continue
				}
				e := events[rng.IntN(len(events))]
				e = strings.TrimSuffix(e, "}") + "," + msgs(it.author, it.at) + "}"
				srv.post(t, e)
				if rng.IntN(4) == 0 {
					srv.post(t, e)
				}
			}
			va, vb := srv.ticket(t, a), srv.ticket(t, b)
			if fmt.Sprint(va.SLA) != fmt.Sprint(vb.SLA) || va.Policy != vb.Policy || va.State != vb.State || len(va.Messages) != len(vb.Messages) ||
				fmt.Sprint(va.BreachAt) != fmt.Sprint(vb.BreachAt) {
				t.Errorf("round %d: in order %+v\nshuffled %+v", round, va.SLA, vb.SLA)
			}
		}
	})
}

// lateMessages sends ticket c of TestE2ENextReplyCycles late messages that
// move cycle 2's start and insert an earlier cycle: no stage fires twice,
// the alerts keep their ordinals.
func lateMessages(t *testing.T, srv *policyServer, before int) {
	t.Helper()
	// Late messages, in an event already seen: the agent at 85m and the
	// customer at 87m move cycle 2's start earlier (its alert instant,
	// 138m, is long past) — its stages have fired already.
	srv.post(t, ev("c", "gold", "high", "open", 90*time.Minute, msgs("customer", 87*time.Minute, "agent", 85*time.Minute)))
	srv.advance(t, 161*time.Minute)
	v := srv.ticket(t, "c")
	nr := v.SLA["next_reply"]
	if len(srv.alerts(t, "c")) != before || nr.Cycle != 2 || !nr.CycleStartedAt.Equal(t0.Add(87*time.Minute)) || len(v.Messages) != 7 {
		t.Errorf("late messages moving cycle 2:%s\nnext_reply %+v, %d messages", describe(srv.alerts(t, "c")), nr, len(v.Messages))
	}
	// Late messages inserting an earlier cycle: agent at 40m, customer
	// at 45m split cycle 1 into [10m, 40m) and [45m, 80m); the cycle
	// now third starts at 87m and keeps its alerts, numbered 2.
	srv.post(t, ev("c", "gold", "high", "open", 100*time.Minute, msgs("customer", 45*time.Minute, "agent", 40*time.Minute)))
	srv.advance(t, 162*time.Minute)
	v = srv.ticket(t, "c")
	nr = v.SLA["next_reply"]
	as := srv.alerts(t, "c")
	if len(as) != before || nr.Cycle != 3 || !nr.CycleStartedAt.Equal(t0.Add(87*time.Minute)) || nr.CyclesMet != 2 || nr.CyclesMissed != 0 {
		t.Errorf("late earlier cycle:%s\nnext_reply %+v", describe(as), nr)
	}
	for _, a := range as {
		if a.SLAType == "next_reply" && a.CycleStartedAt.Equal(t0.Add(90*time.Minute)) && a.Cycle != 2 {
			t.Errorf("an alert changed its ordinal: %+v", a)
		}
	}
	if v.EscalationLevel != before {
		t.Errorf("escalation level %d, want %d", v.EscalationLevel, before)
	}

}

// checkCycleWebSocket checks the messages of TestE2ENextReplyCycles's
// WebSocket clients: vip's cycle alerts with cycle and start, and none of
// the tiers ticket's; the tiers filter the reverse.
func checkCycleWebSocket(t *testing.T, vipWS, tiersWS *wsCollect) {
	t.Helper()
	// The WebSocket: vip's cycle alerts with cycle and start, and none
	// of the tiers ticket's; the tiers filter the reverse.
	var cycles []string
	for _, m := range vipWS.drain() {
		if m["ticket_id"] != "c" {
			t.Errorf("policy=vip got %v", m)
		}
		if m["sla_type"] == "next_reply" {
			cycles = append(cycles, fmt.Sprintf("%v/%v/%v/%v", m["stage"], m["cycle"], m["cycle_started_at"], m["policy"]))
		}
	}
	want := []string{
		"alert/1/" + at(10*time.Minute) + "/vip", "breach/1/" + at(10*time.Minute) + "/vip",
		"alert/2/" + at(90*time.Minute) + "/vip", "breach/2/" + at(90*time.Minute) + "/vip",
	}
	if fmt.Sprint(cycles) != fmt.Sprint(want) {
		t.Errorf("WebSocket next_reply messages %v, want %v", cycles, want)
	}
	got := tiersWS.drain()
	for _, m := range got {
		if m["ticket_id"] != "g" || m["policy"] != "tiers.gold.high" {
			t.Errorf("policy=tiers.gold.high got %v", m)
		}
	}
	if len(got) == 0 {
		t.Errorf("policy=tiers.gold.high got nothing")
	}
}

// A ticket ingested already resolved, whose conversation holds a missed
// next-reply cycle, fires that cycle's stages once and shows it missed.
func TestE2EResolvedTicketMissedCycle(t *testing.T) {
	t.Parallel()
	forStores(t, func(t *testing.T, srv *policyServer) {
		srv.advance(t, 3*time.Hour)
		srv.post(t, "["+ev("m", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"],`+msgs("agent", 5*time.Minute, "customer", 10*time.Minute))+","+
			ev("m", "gold", "high", "solved", 2*time.Hour, "")+"]")
		srv.advance(t, 4*time.Hour)
		v := srv.ticket(t, "m")
		as := srv.alerts(t, "m")
		if nr := v.SLA["next_reply"]; nr.State != "missed" || nr.CyclesMissed != 1 || nr.Cycle != 1 || v.State != "breach" ||
			stageCount(as, "next_reply", "alert", 10*time.Minute) != 1 || stageCount(as, "next_reply", "breach", 10*time.Minute) != 1 {
			t.Errorf("next_reply %+v state %s%s", nr, v.State, describe(as))
		}
		if pu := v.SLA["periodic_update"]; pu.State != "met" || pu.CyclesMet != 1 {
			t.Errorf("periodic_update %+v", pu)
		}
	})
}

// The web UI shows a ticket's policy and cycle clocks, and the policies.
func TestE2EUIPolicies(t *testing.T) {
	t.Parallel()
	srv := startPolicyServer(t, "sqlite")
	srv.advance(t, 30*time.Minute)
	srv.post(t, ev("u", "gold", "high", "open", 0, `"attributes":{"group":"billing"},"tags":["vip"],`+msgs("agent", time.Minute, "customer", 10*time.Minute)))
	for path, want := range map[string][]string{
		"/ui/tickets/u":   {"<dt>Policy</dt><dd>vip</dd>", `data-clock="next_reply"`, `data-clock="periodic_update"`, "Cycle 1, since 2026-01-05 10:10:00 UTC"},
		"/ui/policy":      {"vip", "not-chat", "email"},
		"/ui/?policy=vip": {"u"},
	} {
		code, b := srv.req(t, "GET", path, "")
		if code != http.StatusOK {
			t.Errorf("%s: %d", path, code)
			continue
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
}
