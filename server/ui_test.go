package server_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/server"
)

// noRedirects is a client with a cookie jar that shows redirects instead
// of following them.
func noRedirects(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The server serves the UI beside the API (/ redirects to it; the API's
// answers still match the document, the Middleware wrapping it alone),
// and the UI's session cookie opens the API's reads and the alert stream
// but not its writes, through the Host check.
func TestServerServesTheUI(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token-value"
	srv := runServer(t, server.Config{APIToken: token})
	c := noRedirects(t)
	resp, _ := fetch(t, c, "GET", srv.base+"/", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = fetch(t, c, "GET", srv.base+"/ui/", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Fatalf("GET /ui/ without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", srv.base+"/ui/login", nil)
	req.Host = "rebound.example"
	if r, err := c.Do(req); err != nil || r.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("login page for another host: %v %v", r.StatusCode, err)
	}
	_, login := fetch(t, c, "GET", srv.base+"/ui/login", nil)
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(login)
	if m == nil {
		t.Fatalf("no CSRF token in the login form:\n%s", login)
	}
	resp, _ = fetch(t, c, "POST", srv.base+"/ui/login", url.Values{"csrf_token": {m[1]}, "token": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	if resp, _ := fetch(t, c, "GET", srv.base+"/ui/", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("signed-in queue: %d", resp.StatusCode)
	}
	if resp, _ := fetch(t, c, "GET", srv.base+"/alerts", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /alerts with the session: %d", resp.StatusCode)
	}
	if resp, _ := fetch(t, http.DefaultClient, "GET", srv.base+"/alerts", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /alerts without it: %d", resp.StatusCode)
	}
	post, _ := http.NewRequest("POST", srv.base+"/tickets", strings.NewReader("[]"))
	post.Header.Set("Content-Type", "application/json")
	if r, err := c.Do(post); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /tickets with only the session: %v %v", r.StatusCode, err)
	}
	u, _ := url.Parse(srv.base)
	conn, refused := wsDial(t, srv.base, "", http.Header{"Cookie": {cookieHeader(c.Jar.Cookies(u))}, "Origin": {srv.base}})
	if conn == nil {
		t.Errorf("the session does not open /ws/alerts: %d", refused.StatusCode)
	}
}

func cookieHeader(cs []*http.Cookie) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// With DisableUI the server is the API alone.
func TestServerWithoutTheUI(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{DisableUI: true})
	for _, path := range []string{"/", "/ui/", "/ui/feed"} {
		resp, _ := fetch(t, noRedirects(t), "GET", srv.base+path, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %s, want the API's 404", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// The compliance page reads the SLA report: a gold ticket answered in 10
// minutes and resolved in 20 this week shows 100% for gold, in the page and
// its CSV, as GET /reports/sla counts it.
func TestServerCompliancePageReadsTheReport(t *testing.T) {
	t.Parallel()
	srv := runServer(t, server.Config{})
	created := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	ev := func(status string, at time.Time) string {
		return `{"id":"C-1","priority":"high","customer_tier":"gold","status":"` + status + `","created_at":"` +
			created.Format(time.RFC3339) + `","updated_at":"` + at.Format(time.RFC3339) + `"}`
	}
	body := "[" + ev("open", created) + "," + ev("in_progress", created.Add(10*time.Minute)) + "," + ev("resolved", created.Add(20*time.Minute)) + "]"
	req, _ := http.NewRequest("POST", srv.base+"/tickets", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /tickets: %v %v", resp, err)
	}
	resp.Body.Close()
	c := noRedirects(t)
	resp, page := fetch(t, c, "GET", srv.base+"/ui/compliance?weeks=2", nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(page, "not available") || !strings.Contains(page, "100.0%") || !strings.Contains(page, "gold") {
		t.Errorf("compliance page: %d\n%s", resp.StatusCode, page)
	}
	_, csv := fetch(t, c, "GET", srv.base+"/ui/compliance.csv?weeks=2", nil)
	if !strings.Contains(csv, "gold,") || !strings.Contains(csv, ",2,2,") {
		t.Errorf("compliance CSV:\n%s", csv)
	}
}
