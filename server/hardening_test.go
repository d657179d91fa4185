package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ticket-watchdog/watchdog/internal/contract"
	"github.com/ticket-watchdog/watchdog/server"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// lockedBuffer collects a server's logs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// keywordDSN rewrites a postgres:// test URL in libpq's key=value form,
// with a password the trust-authenticated server never asks for.
func keywordDSN(t *testing.T, dsn, password string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	kv := []string{"host=" + u.Hostname(), "port=" + u.Port(), "user=" + u.User.Username(),
		"password='" + password + "'", "dbname=" + strings.TrimPrefix(u.Path, "/")}
	for k, vs := range u.Query() {
		kv = append(kv, k+"="+vs[0])
	}
	return strings.Join(kv, " ")
}

// A DATABASE_URL in key=value form opens PostgreSQL: it used to open an
// SQLite file named after the whole string in the working directory and
// log it, password and all.
func TestKeywordDatabaseURLOpensPostgres(t *testing.T) {
	const secret = "s3cret pw"
	dsn := keywordDSN(t, pgtest.DSN(t), secret)
	dir := t.TempDir()
	t.Chdir(dir)
	logs := &lockedBuffer{}
	s, err := server.New(context.Background(), &server.Config{
		DatabaseURL: dsn,
		Logger:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("server.New with a key=value DATABASE_URL: %v", err)
	}
	defer s.Close()
	if _, ok := s.Engine().Store().(*postgres.Store); !ok {
		t.Errorf("store is %T, want *postgres.Store", s.Engine().Store())
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("the working directory gained %v", entries)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the logs hold the password:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "password=xxxxx") {
		t.Errorf("the logs should name the store with its password hidden:\n%s", logs)
	}
}

// running is a server run on a loopback listener by runServer.
type running struct {
	*server.Server
	base string // http://127.0.0.1:port
	logs *lockedBuffer
	stop func() // cancels Run and waits for it, failing after 30s
}

// runServer runs a server configured by cfg (its ListenAddr, logger and,
// when unset, store and SLA file filled in) until the test ends.
func runServer(t *testing.T, cfg server.Config) *running {
	t.Helper()
	dir := t.TempDir()
	if cfg.DatabaseURL == "" && cfg.Store == nil {
		cfg.DatabaseURL = "sqlite:///" + filepath.Join(dir, "watchdog.db")
	}
	if cfg.SLAConfigPath == "" {
		cfg.SLAConfigPath = filepath.Join(dir, "sla_config.yaml")
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	logs := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Every answer is checked against the OpenAPI document, after the
	// server has stopped (cleanups run last first).
	chk := contract.New(t)
	cfg.Middleware = chk.Wrap
	t.Cleanup(func() { chk.Report(t) })
	s, err := server.New(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	r := &running{Server: s, base: "http://" + s.Addr(), logs: logs}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return within 30s of cancel")
			}
			_ = s.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// eventually polls cond every 20ms for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

const goodSLA = "tiers:\n  gold:\n    high: {response: 1h, resolution: 8h}\n"

// When the SLA file becomes a symlink to another file, /readyz (which
// needs no token) reports the failed reload by path and line only: it used
// to echo the error, which quotes the other file's content.
func TestReadyzKeepsFileContentOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(goodSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		// A value the parser quotes in its message.
		"value.yaml": "tiers:\n  gold:\n    high: {response: hunter2-s3cret, resolution: 8h}\n",
		// A key outside the SLA schema, named in its message.
		"keys.yaml": "api_key_s3cret: x\ntiers:\n  gold:\n    high: {response: 1h, resolution: 8h}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := runServer(t, server.Config{SLAConfigPath: sla})
	reloadError := func() string {
		_, b := get(t, srv.base+"/readyz")
		var ready map[string]any
		if err := json.Unmarshal([]byte(b), &ready); err != nil {
			t.Fatalf("/readyz: %s: %v", b, err)
		}
		msg, _ := ready["policy_reload_error"].(string)
		return msg
	}
	previous := ""
	for _, target := range []string{"value.yaml", "keys.yaml"} {
		link := filepath.Join(dir, "link.tmp")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(link, sla); err != nil {
			t.Fatal(err)
		}
		var body string
		eventually(t, "/readyz to report the failed reload of "+target, func() bool {
			body = reloadError()
			return body != "" && body != previous
		})
		previous = body
		if strings.Contains(body, "s3cret") {
			t.Errorf("symlink to %s: /readyz shows the file's content: %s", target, body)
		}
		if !strings.Contains(body, sla) || !strings.Contains(body, "line ") {
			t.Errorf("symlink to %s: /readyz should name the file and the line: %s", target, body)
		}
		// The log keeps the detail for the operator.
		if !strings.Contains(srv.logs.String(), "s3cret") {
			t.Errorf("symlink to %s: the log lacks the detail", target)
		}
	}
}

// wsDial opens /ws/alerts; on a refusal it returns the response instead.
func wsDial(t *testing.T, base, query string, header http.Header) (*websocket.Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws/alerts" + query
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial %s: %v", u, err)
		}
		return nil, resp
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn, nil
}

// jsonError reads a refusal's JSON error, failing the test when the body
// is not one.
func jsonError(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(raw, &body) != nil || body.Error == "" {
		t.Errorf("%d %q (Content-Type %q); want a JSON error", resp.StatusCode, raw, resp.Header.Get("Content-Type"))
	}
	return body.Error
}

// The WebSocket hub is bounded: over MaxWebSocketClients an upgrade is
// refused with 503, Retry-After and a JSON error. The hub used to take any
// number of clients (2,000 idle ones cost 100 MB).
func TestWebSocketClientsBounded(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{MaxWebSocketClients: 2})
	for range 2 {
		if _, resp := wsDial(t, srv.base, "", nil); resp != nil {
			t.Fatalf("a client under the limit refused: %d", resp.StatusCode)
		}
	}
	eventually(t, "two clients", func() bool { return srv.Hub().Clients() == 2 })
	conn, resp := wsDial(t, srv.base, "", nil)
	if conn != nil {
		t.Fatal("a third client connected over MaxWebSocketClients 2")
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over the limit: %d Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if msg := jsonError(t, resp); !strings.Contains(msg, "too many") {
		t.Errorf("refusal %q should say why", msg)
	}
}

// send makes a request to the running server with the given Host header
// ("" keeps the address's own) and headers, and returns its status.
func send(t *testing.T, srv *running, method, path, host, body string, header http.Header) (int, *http.Response) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp.StatusCode, resp
}

func ticketBody(id string) string {
	now := time.Now().UTC().Format(time.RFC3339)
	return `{"id":"` + id + `","priority":"high","created_at":"` + now + `","updated_at":"` + now + `","status":"open","customer_tier":"gold"}`
}

// POST /tickets takes JSON only: a browser sends text/plain, forms and
// multipart cross-site without a preflight, and used to get text/plain in.
func TestPostNeedsJSONContentType(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{})
	for i, tc := range []struct {
		contentType string
		want        int
	}{
		{"", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"text/plain; charset=utf-8", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"not a media type", http.StatusUnsupportedMediaType},
		{"application/json", http.StatusOK},
		{"Application/JSON; charset=UTF-8", http.StatusOK},
		{"application/vnd.api+json", http.StatusOK},
	} {
		h := http.Header{}
		if tc.contentType != "" {
			h.Set("Content-Type", tc.contentType)
		}
		code, resp := send(t, srv, "POST", "/tickets", "", ticketBody(fmt.Sprint("ct-", i)), h)
		if code != tc.want {
			t.Errorf("Content-Type %q: %d, want %d", tc.contentType, code, tc.want)
		}
		if code >= 400 {
			jsonError(t, resp)
		}
	}
}

// A server on a loopback address answers only loopback host names (and
// the public URL's), so that a DNS-rebinding page, whose requests name the
// attacker's host, gets nothing; its WebSocket needs an accepted Origin.
func TestHostCheckOnLoopback(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{PublicURL: "https://watchdog.example.com/"})
	port := srv.base[strings.LastIndex(srv.base, ":")+1:]
	for host, want := range map[string]int{
		"localhost:" + port:             http.StatusOK,
		"LOCALHOST":                     http.StatusOK,
		"127.0.0.1:" + port:             http.StatusOK,
		"[::1]:" + port:                 http.StatusOK,
		"watchdog.example.com":          http.StatusOK,
		"evil.example:" + port:          http.StatusMisdirectedRequest,
		"localhost.evil.example":        http.StatusMisdirectedRequest,
		"10.1.2.3:" + port:              http.StatusMisdirectedRequest,
		"watchdog.example.com.evil.net": http.StatusMisdirectedRequest,
	} {
		for _, path := range []string{"/dashboard", "/healthz"} {
			code, resp := send(t, srv, "GET", path, host, "", nil)
			if code != want {
				t.Errorf("GET %s with Host %s: %d, want %d", path, host, code, want)
			} else if code >= 400 {
				jsonError(t, resp)
			}
		}
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if code, _ := send(t, srv, "POST", "/tickets", "rebound.evil.example:"+port, ticketBody("rebound"), h); code != http.StatusMisdirectedRequest {
		t.Errorf("POST with a rebound Host: %d, want 421", code)
	}
	if code, _ := send(t, srv, "GET", "/tickets/rebound", "", "", nil); code != http.StatusNotFound {
		t.Errorf("the rebound POST was stored: GET answers %d", code)
	}

	// The WebSocket: a rebound Host is refused, and so is a foreign Origin
	// even with a good Host; loopback pages and the public URL's are not.
	for origin, ok := range map[string]bool{
		"":                             true,
		srv.base:                       true,
		"http://localhost:3000":        true,
		"https://watchdog.example.com": true,
		"http://evil.example":          false,
		"http://evil.example:" + port:  false,
	} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		conn, resp := wsDial(t, srv.base, "", h)
		switch {
		case ok && conn == nil:
			t.Errorf("WebSocket from origin %q refused: %d", origin, resp.StatusCode)
		case !ok && conn != nil:
			t.Errorf("WebSocket from origin %q accepted", origin)
		case !ok && resp.StatusCode != http.StatusForbidden:
			t.Errorf("WebSocket from origin %q: %d, want 403", origin, resp.StatusCode)
		case !ok:
			jsonError(t, resp)
		}
	}
	code, resp := send(t, srv, "GET", "/ws/alerts", "evil.example:"+port, "", http.Header{
		"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Origin": {"http://evil.example:" + port}})
	if code != http.StatusMisdirectedRequest {
		t.Errorf("WebSocket upgrade with a rebound Host and Origin: %d, want 421", code)
	} else {
		jsonError(t, resp)
	}
}

// A server on every address (a container behind a load balancer) answers
// its public URL's host, loopback names and IP addresses (health checks)
// when the public URL is set, and every host when it is not.
func TestHostCheckOnWildcardAddress(t *testing.T) {
	t.Parallel()
	withURL := runServer(t, server.Config{ListenAddr: "0.0.0.0:0", PublicURL: "https://watchdog.example.com"})
	withURL.base = "http://127.0.0.1" + withURL.base[strings.LastIndex(withURL.base, ":"):]
	for host, want := range map[string]int{
		"watchdog.example.com": http.StatusOK,
		"localhost:8000":       http.StatusOK,
		"10.1.2.3:8000":        http.StatusOK,
		"[fd00::5]:8000":       http.StatusOK,
		"evil.example":         http.StatusMisdirectedRequest,
	} {
		if code, _ := send(t, withURL, "GET", "/dashboard", host, "", nil); code != want {
			t.Errorf("with a public URL, Host %s: %d, want %d", host, code, want)
		}
	}
	without := runServer(t, server.Config{ListenAddr: "0.0.0.0:0"})
	without.base = "http://127.0.0.1" + without.base[strings.LastIndex(without.base, ":"):]
	if code, _ := send(t, without, "GET", "/dashboard", "lb-123.eu-west-1.elb.amazonaws.com", "", nil); code != http.StatusOK {
		t.Errorf("without a public URL, a load balancer's host: %d, want 200", code)
	}
	if !strings.Contains(without.logs.String(), "the Host header is not checked") {
		t.Error("without a public URL the server should warn that it does not check the Host header")
	}
}

// The WebSocket takes the token only as the documented access_token
// parameter (or the Authorization header); the undocumented ?token= used
// to work too.
func TestWebSocketTokenParameter(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{APIToken: "t0ken-s3cret"})
	if conn, resp := wsDial(t, srv.base, "?access_token=t0ken-s3cret", nil); conn == nil {
		t.Errorf("?access_token=: refused with %d", resp.StatusCode)
	}
	if conn, _ := wsDial(t, srv.base, "", http.Header{"Authorization": {"Bearer t0ken-s3cret"}}); conn == nil {
		t.Error("Authorization header: refused")
	}
	conn, resp := wsDial(t, srv.base, "?token=t0ken-s3cret", nil)
	if conn != nil {
		t.Fatal("?token= is accepted")
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("?token=: %d, want 401", resp.StatusCode)
	}
	jsonError(t, resp)
}
