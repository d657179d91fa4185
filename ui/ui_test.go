package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
	"github.com/ticket-watchdog/watchdog/ui"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// start is the reference instant of every test: a Wednesday.
var start = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

const calendarPolicy = `
calendars:
  us-business:
    timezone: America/New_York
    hours:
      mon: ["09:00-17:00"]
      tue: ["09:00-12:00", "13:00-18:00"]
    holidays: ["2026-12-31"]
    country: US
tiers:
  gold:
    high: {response: 30m, resolution: 3h}
    low: {response: 2h, resolution: 6h}
  silver:
    calendar: us-business
    high: {response: 2h, resolution: 16h}
`

// env is the pages over a real engine on a SQLite file, served on a real
// listener, with a fake clock.
type env struct {
	eng   *watchdog.Engine
	clock *watchdogtest.Clock
	srv   *httptest.Server
	h     *ui.Handler
}

func setup(t *testing.T, cfg *ui.Config) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	p, err := watchdog.ParsePolicy([]byte(calendarPolicy))
	if err != nil {
		t.Fatal(err)
	}
	clock := watchdogtest.NewClock(start)
	eng, err := watchdog.New(st, &watchdog.Config{Policy: p, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var c ui.Config
	if cfg != nil {
		c = *cfg
	}
	c.Clock = clock
	h, err := ui.New(eng, &c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{eng: eng, clock: clock, srv: srv, h: h}
}

func (e *env) ingest(t *testing.T, evs ...watchdog.Event) {
	t.Helper()
	if _, err := e.eng.Ingest(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func ev(id, tier, prio, status string, created time.Time) watchdog.Event {
	return watchdog.Event{ID: id, CustomerTier: tier, Priority: prio, Status: status, CreatedAt: created, UpdatedAt: created}
}

// client is a browser-like client: cookies kept, redirects not followed.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	code   int
	header http.Header
	body   string
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

func post(t *testing.T, c *http.Client, u string, form url.Values, hdr ...string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf is the form token of a rendered page.
func csrf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return m[1]
}

// Every page renders on the server, whole, without inline scripts, under a
// content security policy that allows none.
func TestPagesRenderWithoutJavaScript(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	e.ingest(t, ev("T-1", "gold", "high", "open", start.Add(-40*time.Minute)), ev("T-2", "silver", "high", "open", start))
	if _, err := e.eng.Hooks().EvaluateDue(context.Background(), start); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	for path, want := range map[string][]string{
		"/ui/":               {`data-ticket="T-1"`, "✖ breach", "Tickets 1–2 of 2", `data-countdown=`},
		"/ui/feed":           {`data-alert-id=`, "Response SLA breached", "T-1"},
		"/ui/tickets/T-1":    {"Ticket T-1", `svg class="bar"`, "response breach fired", "none (no notifier configured)"},
		"/ui/tickets/T-2":    {"us-business", `data-state="ok"`},
		"/ui/compliance":     {"Reports are not available"},
		"/ui/policy":         {"us-business", "America/New_York", "13:00-18:00", "Thu 31 Dec 2026", "Fri 25 Dec 2026", "alert at 85.0% of the target"},
		"/ui/tickets/nobody": {"Not found"},
	} {
		p := get(t, c, e.srv.URL+path)
		wantCode := http.StatusOK
		if strings.Contains(path, "nobody") {
			wantCode = http.StatusNotFound
		}
		if p.code != wantCode {
			t.Errorf("%s: %d, want %d", path, p.code, wantCode)
		}
		for _, w := range want {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		if strings.Contains(p.body, "<script>") || !strings.Contains(p.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: inline script or no CSP (%q)", path, p.header.Get("Content-Security-Policy"))
		}
		if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
	}
	for _, a := range []string{"/ui/assets/app.css", "/ui/assets/live.js"} {
		if p := get(t, c, e.srv.URL+a); p.code != http.StatusOK || len(p.body) < 1000 {
			t.Errorf("%s: %d, %d bytes", a, p.code, len(p.body))
		}
	}
}
