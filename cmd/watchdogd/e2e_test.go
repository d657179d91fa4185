package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

const seedExample = `[{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}]`

// syncBuffer collects the server's log lines from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testSettings builds settings the way the command does, from variables
// (no .env), with the store in a temporary SQLite file, no SLA file unless
// vars name one, and a port the kernel picks.
func testSettings(t testing.TB, vars map[string]string) *settings {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{
		"DATABASE_URL":    "sqlite:///" + filepath.Join(dir, "watchdog.db"),
		"SLA_CONFIG_PATH": filepath.Join(dir, "absent-sla.yaml"),
		"API_HOST":        "127.0.0.1",
	}
	for k, v := range vars {
		all[k] = v
	}
	env, err := loadEnvironment(filepath.Join(dir, "no.env"), func(k string) (string, bool) {
		v, ok := all[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("loadEnvironment: %v", err)
	}
	s, err := loadSettings(env, nil, nil)
	if err != nil {
		t.Fatalf("loadSettings: %v", err)
	}
	s.APIPort = 0
	return s
}

// liveServer is a running serveWith.
type liveServer struct {
	base string
	logs *syncBuffer
	stop func() error
}

// startServer runs serveWith until the test ends; the test fails if the
// server does not stop cleanly.
func startServer(t testing.TB, s *settings) *liveServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serveWith(ctx, s, logs, func(addr string) { addrc <- addr }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		cancel()
		t.Fatalf("serveWith returned before listening: %v\nlogs:\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("server did not start within 20s\nlogs:\n%s", logs.String())
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("server did not stop within 30s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serveWith: %v", err)
		}
	})
	return &liveServer{base: "http://" + addr, logs: logs, stop: stop}
}

// client is a typed API client of the server, with token as its token
// ("" for none).
func (s *liveServer) client(t testing.TB, token string) *client.Client {
	t.Helper()
	c, err := client.New(s.base, &client.Config{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (s *liveServer) do(t testing.TB, method, path, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	if resp.StatusCode >= 500 && path != "/readyz" {
		t.Errorf("%s %s answered %d: %s", method, path, resp.StatusCode, b)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

func mustStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("status %d, want %d; body %s", r.code, want, r.body)
	}
}

// writeAtomic replaces path the way editors do: a temporary file renamed
// over it.
func writeAtomic(t testing.TB, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond every 50ms until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSeedExample posts the seed README's example and checks the answer's
// seed fields byte for byte.
func checkSeedExample(t *testing.T, srv *liveServer) {
	t.Helper()
	r := srv.do(t, "POST", "/tickets", seedExample)
	mustStatus(t, r, http.StatusOK)
	var arr []map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &arr); err != nil || len(arr) != 1 {
		t.Fatalf("POST /tickets answer is not a one-element array: %s (%v)", r.body, err)
	}
	for k, v := range map[string]string{
		"id": `"1"`, "priority": `"high"`, "created_at": `"2025-06-18T12:00:00Z"`, "updated_at": `"2025-06-18T12:00:00Z"`,
		"status": `"open"`, "customer_tier": `"gold"`, "escalation_level": `0`,
	} {
		if got := string(arr[0][k]); got != v {
			t.Errorf("field %q = %s, want %s", k, got, v)
		}
	}
	r = srv.do(t, "GET", "/tickets/1", "")
	mustStatus(t, r, http.StatusOK)
	var view struct {
		StatusHistory []map[string]any          `json:"status_history"`
		SLA           map[string]map[string]any `json:"sla"`
	}
	if err := json.Unmarshal(r.body, &view); err != nil {
		t.Fatalf("GET /tickets/1: %v: %s", err, r.body)
	}
	if len(view.StatusHistory) != 1 || view.SLA["response"]["target_seconds"] == nil {
		t.Errorf("GET /tickets/1 lacks history or sla: %s", r.body)
	}
	r = srv.do(t, "GET", "/dashboard?state=alert", "")
	mustStatus(t, r, http.StatusOK)
	if r.header.Get("X-Total-Count") == "" {
		t.Errorf("dashboard lacks X-Total-Count")
	}
}

// checkTimedAlert posts a ticket whose response clock has a 2-second target
// and checks that its breach reaches Slack and the WebSocket between the due
// instant and 1.5s after it.
func checkTimedAlert(t *testing.T, srv *liveServer, mock *mockslack.Server, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.base, "http") + "/ws/alerts"
	if token != "" {
		wsURL += "?access_token=" + url.QueryEscape(token)
	}
	conn, resp, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", wsURL, err, resp)
	}
	defer conn.CloseNow()

	// Stores keep microseconds.
	created := time.Now().UTC().Truncate(time.Microsecond)
	due := created.Add(2 * time.Second)
	id := fmt.Sprintf("timed-%d", created.UnixNano())
	if _, err := srv.client(t, token).Ingest(ctx, client.Event{ID: id, Priority: "high", CustomerTier: "gold",
		Status: "open", CreatedAt: created, UpdatedAt: created}); err != nil {
		t.Fatalf("POST /tickets: %v", err)
	}

	// The client's AlertMessage is the OpenAPI document's message schema.
	type got struct {
		msg client.AlertMessage
		at  time.Time
	}
	wsBreach := make(chan got, 1)
	wsErr := make(chan error, 1)
	go func() {
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				wsErr <- err
				return
			}
			at := time.Now()
			var m client.AlertMessage
			if err := json.Unmarshal(data, &m); err != nil {
				wsErr <- fmt.Errorf("bad message %s: %w", data, err)
				return
			}
			if m.TicketID == id && m.SLAType == client.SLATypeResponse && m.State == client.AlertStateBreach {
				wsBreach <- got{m, at}
				return
			}
		}
	}()

	var slackAt time.Time
	for n := 1; slackAt.IsZero(); n++ {
		msgs, err := mock.Wait(ctx, n)
		if err != nil {
			t.Fatalf("waiting for the Slack breach message: %v; got %d messages\nlogs:\n%s", err, len(msgs), srv.logs.String())
		}
		m := msgs[n-1]
		if strings.Contains(string(m.Payload), id) && strings.Contains(string(m.Payload), "BREACH") {
			slackAt = m.ReceivedAt
		}
	}
	var ws got
	select {
	case ws = <-wsBreach:
	case err := <-wsErr:
		t.Fatalf("WebSocket: %v", err)
	case <-ctx.Done():
		t.Fatalf("no breach on the WebSocket")
	}
	if !ws.msg.DueAt.Equal(due) {
		t.Errorf("WebSocket due_at %v, want created_at+2s = %v", ws.msg.DueAt, due)
	}
	for name, at := range map[string]time.Time{"Slack": slackAt, "WebSocket": ws.at} {
		late := at.Sub(due)
		t.Logf("%s breach received %v after the due instant", name, late)
		if late < 0 || late > 1500*time.Millisecond {
			t.Errorf("%s breach received %v after the due instant, want within [0, 1.5s]", name, late)
		}
	}
}

const twoSecondSLA = `tiers:
  gold:
    high: {response: 2s, resolution: 1h}
    low: {response: 1h, resolution: 8h}
`

func TestServeSeedExampleAndTimedAlert(t *testing.T) {
	t.Parallel()
	runSeedAndTimedAlert(t, nil)
}

func TestServePostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	runSeedAndTimedAlert(t, map[string]string{"DATABASE_URL": dsn})
}

func runSeedAndTimedAlert(t *testing.T, vars map[string]string) {
	mock, err := mockslack.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	slackSrv := httptest.NewServer(mock)
	t.Cleanup(slackSrv.Close)
	sla := filepath.Join(t.TempDir(), "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(twoSecondSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	all := map[string]string{"SLACK_WEBHOOK_URL": slackSrv.URL + mockslack.WebhookPath, "SLA_CONFIG_PATH": sla}
	for k, v := range vars {
		all[k] = v
	}
	srv := startServer(t, testSettings(t, all))
	checkSeedExample(t, srv)
	checkTimedAlert(t, srv, mock, "")
	checkReport(t, srv)
}

func TestServeAuth(t *testing.T) {
	t.Parallel()
	const token = "e2e-token-0123456789"
	mock, err := mockslack.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	slackSrv := httptest.NewServer(mock)
	t.Cleanup(slackSrv.Close)
	sla := filepath.Join(t.TempDir(), "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(twoSecondSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, testSettings(t, map[string]string{
		"WATCHDOG_API_TOKEN": token, "SLA_CONFIG_PATH": sla, "SLACK_WEBHOOK_URL": slackSrv.URL + mockslack.WebhookPath,
	}))
	for _, p := range []string{"/tickets/1", "/dashboard", "/ws/alerts"} {
		if r := srv.do(t, "GET", p, ""); r.code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, r.code)
		}
		if r := srv.do(t, "GET", p, "", "Authorization", "Bearer not-it"); r.code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", p, r.code)
		}
	}
	if r := srv.do(t, "POST", "/tickets", seedExample); r.code != http.StatusUnauthorized {
		t.Errorf("POST /tickets without a token: %d", r.code)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		mustStatus(t, srv.do(t, "GET", p, ""), http.StatusOK)
	}
	mustStatus(t, srv.do(t, "GET", "/dashboard", "", "Authorization", "Bearer "+token), http.StatusOK)
	// The WebSocket with ?access_token= delivers the alert.
	checkTimedAlert(t, srv, mock, token)
	if strings.Contains(srv.logs.String(), token) {
		t.Errorf("the API token appears in the log")
	}
}

// ticketTarget reads GET /tickets/{id}'s response target in seconds.
func ticketTarget(t testing.TB, srv *liveServer, id string) float64 {
	t.Helper()
	v, err := srv.client(t, "").Ticket(context.Background(), id)
	if err != nil {
		t.Fatalf("GET /tickets/%s: %v", id, err)
	}
	if v.SLA == nil {
		t.Fatalf("GET /tickets/%s has no SLA clocks", id)
	}
	return float64(v.SLA.Response.TargetSeconds)
}

func slaFile(response string) string {
	return "tiers:\n  gold:\n    high: {response: " + response + ", resolution: 8h}\n"
}

func postInFlight(t testing.TB, srv *liveServer, id string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := srv.client(t, "").Ingest(context.Background(), client.Event{ID: id, Priority: "high", CustomerTier: "gold",
		Status: "open", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatalf("POST /tickets: %v", err)
	}
}

func TestHotReloadAtomicRenameAndBrokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(slaFile("1h")), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, testSettings(t, map[string]string{"SLA_CONFIG_PATH": sla}))
	postInFlight(t, srv, "inflight")
	if got := ticketTarget(t, srv, "inflight"); got != 3600 {
		t.Fatalf("initial target_seconds %v, want 3600", got)
	}

	writeAtomic(t, sla, slaFile("2h"))
	eventually(t, 10*time.Second, "the renamed file's 2h target", func() bool { return ticketTarget(t, srv, "inflight") == 7200 })
	r := srv.do(t, "GET", "/readyz", "")
	mustStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), "policy_reload_error") {
		t.Errorf("readyz shows an error after a good reload: %s", r.body)
	}

	// A broken file keeps the last good policy.
	writeAtomic(t, sla, "tiers:\n  gold:\n    high: {response: soon, resolution: 8h}\n")
	eventually(t, 10*time.Second, "readyz to report the reload error", func() bool {
		r := srv.do(t, "GET", "/readyz", "")
		return r.code == http.StatusOK && strings.Contains(string(r.body), "policy_reload_error")
	})
	r = srv.do(t, "GET", "/readyz", "")
	mustStatus(t, r, http.StatusOK)
	var ready map[string]any
	if err := json.Unmarshal(r.body, &ready); err != nil {
		t.Fatal(err)
	}
	if msg, _ := ready["policy_reload_error"].(string); !strings.Contains(msg, "response") {
		t.Errorf("policy_reload_error should name the key: %q", msg)
	}
	if got := ticketTarget(t, srv, "inflight"); got != 7200 {
		t.Errorf("after a broken file target_seconds %v, want the last good 7200", got)
	}
	m := srv.do(t, "GET", "/metrics", "")
	mustStatus(t, m, http.StatusOK)
	if !strings.Contains(string(m.body), "\nwatchdog_policy_reload_success 0\n") {
		t.Errorf("metrics lack watchdog_policy_reload_success 0:\n%s", grepLines(string(m.body), "policy_reload"))
	}

	// Fixing the file recovers.
	writeAtomic(t, sla, slaFile("30m"))
	eventually(t, 10*time.Second, "the fixed file's 30m target", func() bool { return ticketTarget(t, srv, "inflight") == 1800 })
	// The watcher applies the policy first and records success just after.
	eventually(t, 5*time.Second, "watchdog_policy_reload_success 1 after recovery", func() bool {
		m := srv.do(t, "GET", "/metrics", "")
		return strings.Contains(string(m.body), "\nwatchdog_policy_reload_success 1\n")
	})
	eventually(t, 5*time.Second, "readyz to drop the reload error", func() bool {
		r := srv.do(t, "GET", "/readyz", "")
		return r.code == http.StatusOK && !strings.Contains(string(r.body), "policy_reload_error")
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHotReloadConfigMapSymlinkSwap(t *testing.T) {
	t.Parallel()
	// The layout Kubernetes gives a mounted ConfigMap:
	//   sla_config.yaml -> ..data/sla_config.yaml
	//   ..data -> ..2025_01
	//   ..2025_01/sla_config.yaml
	dir := t.TempDir()
	version := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "sla_config.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	version("..2025_01", slaFile("1h"))
	if err := os.Symlink("..2025_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	sla := filepath.Join(dir, "sla_config.yaml")
	if err := os.Symlink(filepath.Join("..data", "sla_config.yaml"), sla); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, testSettings(t, map[string]string{"SLA_CONFIG_PATH": sla}))
	postInFlight(t, srv, "cm")
	if got := ticketTarget(t, srv, "cm"); got != 3600 {
		t.Fatalf("initial target_seconds %v, want 3600", got)
	}
	swap := func(name string) {
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2025_02", slaFile("3h"))
	swap("..2025_02")
	eventually(t, 10*time.Second, "the swapped ConfigMap's 3h target", func() bool { return ticketTarget(t, srv, "cm") == 10800 })
	// Kubernetes then removes the old version; a second swap is seen too.
	if err := os.RemoveAll(filepath.Join(dir, "..2025_01")); err != nil {
		t.Fatal(err)
	}
	version("..2025_03", slaFile("45m"))
	swap("..2025_03")
	eventually(t, 10*time.Second, "the second swap's 45m target", func() bool { return ticketTarget(t, srv, "cm") == 2700 })
}

func TestLogsOneLinePerRequestAndNoSecrets(t *testing.T) {
	t.Parallel()
	const token = "tok-SECRET-4f1d2e"
	const hookPath = "/services/T0SECRET/B0SECRET/HOOKSECRETxyz"
	mock, err := mockslack.New(&mockslack.Config{Faults: mockslack.Faults{FailFirst: 1, Status: http.StatusInternalServerError}})
	if err != nil {
		t.Fatal(err)
	}
	slackSrv := httptest.NewServer(mock)
	t.Cleanup(slackSrv.Close)
	sla := filepath.Join(t.TempDir(), "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(twoSecondSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"WATCHDOG_API_TOKEN": token,
		"SLACK_WEBHOOK_URL":  slackSrv.URL + hookPath,
		"SLA_CONFIG_PATH":    sla,
		"LOG_LEVEL":          "debug",
	}
	dbPassword := usePostgresWithPassword(t, vars)
	srv := startServer(t, testSettings(t, vars))
	auth := []string{"Authorization", "Bearer " + token}

	r := srv.do(t, "GET", "/dashboard", "", append(auth, "X-Request-ID", "corr-abc")...)
	mustStatus(t, r, http.StatusOK)
	if r.header.Get("X-Request-ID") != "corr-abc" {
		t.Errorf("X-Request-ID not echoed: %q", r.header.Get("X-Request-ID"))
	}
	r = srv.do(t, "GET", "/tickets/none", "", "Authorization", "Bearer wrong-"+token)
	mustStatus(t, r, http.StatusUnauthorized)
	generated := r.header.Get("X-Request-ID")
	if generated == "" {
		t.Errorf("no X-Request-ID generated")
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	mustStatus(t, srv.do(t, "POST", "/tickets", fmt.Sprintf(
		`{"id":"sec-1","priority":"high","created_at":%q,"updated_at":%q,"status":"open","customer_tier":"gold"}`, now, now), auth...), http.StatusOK)
	// The first delivery fails (500), the retry succeeds: both are logged.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := mock.Wait(ctx, 1); err != nil {
		t.Fatalf("no Slack message: %v", err)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	logs := srv.logs.String()
	checkRequestLines(t, logs, generated)
	secrets := map[string]string{
		"API token":         token,
		"Slack webhook":     "HOOKSECRETxyz",
		"Slack webhook url": hookPath,
	}
	if dbPassword != "" {
		secrets["database password"] = dbPassword
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the %s appears in the log:\n%s", name, grepLines(logs, s))
		}
	}
	if !strings.Contains(logs, "sec-1") {
		t.Errorf("the log never mentions the alerted ticket: was anything delivered?\n%s", logs)
	}
}

// usePostgresWithPassword points vars' DATABASE_URL at the test Postgres,
// when there is one (always under CI), with a password in the URL, and
// returns that password; "" means the test runs on SQLite.
func usePostgresWithPassword(t *testing.T, vars map[string]string) string {
	t.Helper()
	if os.Getenv("CI") == "" && !pgAvailable() {
		return ""
	}
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dbPassword, has := u.User.Password()
	if !has {
		// Trust authentication ignores the password; the log must not show it.
		dbPassword = "pw-SECRET-77aa"
		u.User = url.UserPassword(u.User.Username(), dbPassword)
	}
	vars["DATABASE_URL"] = u.String()
	return dbPassword
}

// checkRequestLines checks that every log line is JSON and that the three
// requests of TestLogsOneLinePerRequestAndNoSecrets gave one "request" line
// each, with its correlation id (generated is the one the server made up).
func checkRequestLines(t *testing.T, logs, generated string) {
	t.Helper()
	requests := 0
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if v["msg"] != "request" {
			continue
		}
		requests++
		for _, k := range []string{"correlation_id", "method", "route", "status", "latency_ms", "bytes"} {
			if _, ok := v[k]; !ok {
				t.Errorf("request line lacks %q: %s", k, l)
			}
		}
		if v["route"] == "/dashboard" && v["correlation_id"] != "corr-abc" {
			t.Errorf("dashboard request logged with correlation_id %v", v["correlation_id"])
		}
		if v["route"] == "/tickets/{id}" && (v["correlation_id"] != generated || v["status"] != float64(401)) {
			t.Errorf("401 request logged as %s, want correlation_id %q", l, generated)
		}
	}
	if requests != 3 {
		t.Errorf("%d request lines for 3 requests:\n%s", requests, logs)
	}
}

// pgAvailable reports whether the test Postgres answers, so that a test can
// use it when present without skipping when absent.
var pgAvailable = sync.OnceValue(func() bool {
	db, err := sql.Open("postgres", pgtest.BaseURL())
	if err != nil {
		return false
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx) == nil
})

func TestDatabasePasswordNotInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	const pw = "pw-SECRET-unreachable-91"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Without WATCHDOG_DB_WAIT, serve fails at once without listening;
	// with it, it listens, logs each attempt, then fails.
	for _, wait := range []string{"0", "1s"} {
		s := testSettings(t, map[string]string{"DATABASE_URL": "postgres://watchdog:" + pw + "@127.0.0.1:1/watchdog?sslmode=disable", "WATCHDOG_DB_WAIT": wait})
		logs := &syncBuffer{}
		err := serveWith(ctx, s, logs, func(string) {
			if wait == "0" {
				t.Error("listening with an unreachable database and WATCHDOG_DB_WAIT=0")
			}
		})
		if err == nil {
			t.Fatalf("WATCHDOG_DB_WAIT=%s: serveWith with an unreachable database returned nil", wait)
		}
		t.Logf("WATCHDOG_DB_WAIT=%s: serveWith: %v", wait, err)
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("the error should say which server failed: %v", err)
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(logs.String(), pw) {
			t.Errorf("the database password leaks: err %q\nlogs:\n%s", err, logs.String())
		}
		if wait != "0" && !strings.Contains(logs.String(), "database unreachable") {
			t.Errorf("WATCHDOG_DB_WAIT=%s: the attempts are not logged:\n%s", wait, logs.String())
		}
	}
	var stderr bytes.Buffer
	code := run(ctx, []string{"migrate"}, io.Discard, &stderr, func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return "postgres://watchdog:" + pw + "@127.0.0.1:1/watchdog?sslmode=disable", true
		}
		return "", false
	})
	if code == 0 || strings.Contains(stderr.String(), pw) {
		t.Errorf("migrate: exit %d, stderr %q", code, stderr.String())
	}
}
