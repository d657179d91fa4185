package browser

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/server"
)

// The ticket page shows the ticket's alerts with each delivery's attempts
// and outcome, its timeline and its clocks.
func TestTicketPageShowsAlerts(t *testing.T) {
	ctx := newBrowser(t)
	slack, err := mockslack.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(slack)
	defer hook.Close()
	s := startService(t, filepath.Join(t.TempDir(), "wd.db"), "127.0.0.1:0",
		server.Config{SlackWebhookURL: hook.URL + mockslack.WebhookPath})
	created := time.Now().Add(-40 * time.Minute)
	// Open for 35 minutes (past both response stages), then pending.
	pending := newEvent("T-42", "gold", "high", created.Add(35*time.Minute))
	pending.CreatedAt, pending.Status = created.UTC().Truncate(time.Millisecond), "pending"
	ingest(t, s.URL, "", newEvent("T-42", "gold", "high", created), pending)
	// Both response stages were due before the ticket arrived: they fire
	// at once and are delivered to the Slack stand-in.
	deadline := time.Now().Add(10 * time.Second)
	var alerts []watchdog.Alert
	for {
		alerts = alertsOf(t, s, "T-42")
		delivered := len(alerts) == 2
		for _, a := range alerts {
			delivered = delivered && len(a.Deliveries) == 1 && a.Deliveries[0].Status == watchdog.DeliveryDelivered
		}
		if delivered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts not delivered: %+v", alerts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(t, ctx, "open the queue", chromedp.Navigate(s.URL+"/ui/"))
	clickAndLoad(t, ctx, `a[href="/ui/tickets/T-42"]`)
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll("table[data-alerts] tbody tr")].map(r => r.dataset.alertId + " " + r.textContent.replace(/\s+/g, " "))`)
	if len(rows) != len(alerts) {
		t.Fatalf("the page lists %d alerts, the server %d: %v", len(rows), len(alerts), rows)
	}
	for _, a := range alerts {
		var row string
		for _, r := range rows {
			if strings.HasPrefix(r, fmt.Sprint(a.ID)+" ") {
				row = r
			}
		}
		want := []string{string(a.SLAClock) + " " + a.Stage, "slack", "delivered after 1 attempt", a.Message}
		for _, w := range want {
			if !strings.Contains(row, w) {
				t.Errorf("alert %d row %q lacks %q", a.ID, row, w)
			}
		}
	}
	timeline := text(t, ctx, "ol.timeline")
	for _, w := range []string{"created as open", "status pending", "the resolution clock pauses", "response alert fired", "response breach fired"} {
		if !strings.Contains(timeline, w) {
			t.Errorf("timeline %q lacks %q", timeline, w)
		}
	}
	if st := eval[string](t, ctx, `document.querySelector('article[data-clock="resolution"]').dataset.state`); st != "paused" {
		t.Errorf("resolution clock %q, want paused (the ticket is pending)", st)
	}
	if !eval[bool](t, ctx, has(`article[data-clock="response"] svg.bar[role="img"][aria-label*="business time"]`)) {
		t.Error("no progress bar with a text alternative for the response clock")
	}
	const ackSection = `section[aria-labelledby="ack-h"]`
	if got := text(t, ctx, ackSection); !strings.Contains(got, "Not acknowledged.") {
		t.Errorf("acknowledgement section %q, want it to say the ticket is not acknowledged", got)
	}
	screenshot(t, ctx, "ticket")
	// Acknowledge every running clock from the page: the section says so,
	// and so does the API.
	run(t, ctx, "type a name", chromedp.SendKeys(chromedp.CSS(`form.ack input[name="by"]`), "alice"))
	clickAndLoad(t, ctx, `form.ack button[type="submit"]`)
	if got := text(t, ctx, ackSection); !strings.Contains(got, "acknowledged by alice") {
		t.Errorf("after acknowledging, the section says %q", got)
	}
	resp, err := http.Get(s.URL + "/tickets/T-42")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// The move to pending was the first response: only the resolution
	// clock still runs (paused).
	if n := strings.Count(string(body), `"by":"alice"`); n != 1 || !strings.Contains(string(body), `{"sla_type":"resolution","by":"alice"`) {
		t.Errorf("GET /tickets/T-42 shows %d acknowledgements by alice, want the resolution clock's: %s", n, body)
	}
}

// With a token, the pages ask for it once: a wrong one is refused, the
// right one sets a session cookie that is not the token, HttpOnly and
// SameSite=Strict, which then opens the pages, the alert stream and the
// API's GET routes, but not its POST.
func TestLoginWithToken(t *testing.T) {
	ctx := newBrowser(t)
	const token = "s3cret-ui-token-value"
	s := startService(t, filepath.Join(t.TempDir(), "wd.db"), "127.0.0.1:0", server.Config{APIToken: token})
	ingest(t, s.URL, token, newEvent("L-1", "gold", "low", time.Now()))

	run(t, ctx, "open the queue", chromedp.Navigate(s.URL+"/ui/?tier=gold"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	if p := eval[string](t, ctx, `location.pathname + location.search`); p != "/ui/login?next=%2Fui%2F%3Ftier%3Dgold" {
		t.Errorf("sent to %s, want the login page with next", p)
	}
	run(t, ctx, "type a wrong token", chromedp.SendKeys(chromedp.CSS(`#token`), "not-the-token"))
	clickAndLoad(t, ctx, `form.login button`)
	if msg := text(t, ctx, "#login-error"); !strings.Contains(msg, "not this server's API token") {
		t.Errorf("after a wrong token the page says %q", msg)
	}
	if eval[bool](t, ctx, has(`tr[data-ticket]`)) {
		t.Fatal("a wrong token shows the queue")
	}
	screenshot(t, ctx, "login-refused")
	run(t, ctx, "type the token", chromedp.SendKeys(chromedp.CSS(`#token`), token))
	clickAndLoad(t, ctx, `form.login button`)
	if p := eval[string](t, ctx, `location.pathname + location.search`); p != "/ui/?tier=gold" {
		t.Errorf("after sign-in at %s, want back at /ui/?tier=gold", p)
	}
	if !eval[bool](t, ctx, has(`tr[data-ticket="L-1"]`)) {
		t.Error("signed in, the queue does not show L-1")
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL + "/ui/"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "watchdog_session" {
			session = c
		}
		if strings.Contains(c.Value, token) {
			t.Errorf("cookie %s holds the token", c.Name)
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Secure || session.Path != "/" {
		t.Fatalf("session cookie %+v, want HttpOnly, SameSite=Strict, not Secure over plain HTTP, path /", session)
	}
	if left := time.Until(time.Unix(int64(session.Expires), 0)); left < 11*time.Hour || left > 12*time.Hour+time.Minute {
		t.Errorf("session expires in %s, want 12h", left)
	}
	// The cookie opens the stream and the API's reads, not its writes.
	run(t, ctx, "open the feed", chromedp.Navigate(s.URL+"/ui/feed"))
	waitFor(t, ctx, "feed connected", `document.querySelector("[data-live-status]").textContent.includes("connected")`, 5*time.Second)
	get := evalAwait[float64](t, ctx, `fetch("/alerts").then(r => r.status)`)
	post := evalAwait[float64](t, ctx, `fetch("/tickets", {method: "POST", headers: {"Content-Type": "application/json"}, body: "[]"}).then(r => r.status)`)
	if get != http.StatusOK || post != http.StatusUnauthorized {
		t.Errorf("with the cookie: GET /alerts %v, POST /tickets %v; want 200 and 401", get, post)
	}
	// Signing out ends the session.
	run(t, ctx, "back to the queue", chromedp.Navigate(s.URL+"/ui/"))
	clickAndLoad(t, ctx, `form.signout button`)
	run(t, ctx, "the queue again", chromedp.Navigate(s.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
}

// The feed fills the gap after a server restart: alerts that fired while
// the page could not reach the stream appear once it reconnects, read from
// GET /alerts, and the page says it was disconnected meanwhile.
func TestFeedFillsGapAfterRestart(t *testing.T) {
	ctx := newBrowser(t)
	db := filepath.Join(t.TempDir(), "wd.db")
	first := startService(t, db, "127.0.0.1:0", server.Config{})
	// Four hours old: all four stages of gold/high are past.
	ingest(t, first.URL, "", newEvent("before", "gold", "high", time.Now().Add(-4*time.Hour)))
	waitAlerts(t, first, 4)
	run(t, ctx, "open the feed", chromedp.Navigate(first.URL+"/ui/feed"))
	waitFor(t, ctx, "feed connected", `document.querySelector("[data-live-status]").textContent.includes("connected")`, 5*time.Second)
	if n := eval[float64](t, ctx, `document.querySelectorAll("[data-feed] li").length`); n != 4 {
		t.Errorf("feed shows %v alerts, want the 4 of the first ticket", n)
	}

	first.stop()
	waitFor(t, ctx, "the page says it is disconnected", `document.querySelector("[data-live-status]").textContent.includes("Disconnected")`, 5*time.Second)
	screenshot(t, ctx, "feed-disconnected")

	// The server comes back on the same address, but its stream is held
	// shut until the alerts of a new ticket are recorded, so that the page
	// can only learn of them by filling the gap.
	gate := make(chan struct{})
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/ws/alerts" {
				select {
				case <-gate:
				default:
					w.Header().Set("Retry-After", "1")
					http.Error(w, `{"error":"held by the test"}`, http.StatusServiceUnavailable)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	second := startService(t, db, first.Addr, server.Config{Middleware: hold})
	ingest(t, second.URL, "", newEvent("during", "gold", "high", time.Now().Add(-4*time.Hour)))
	during := waitAlerts(t, second, 8)
	if !strings.Contains(text(t, ctx, "[data-live-status]"), "reconnecting") {
		t.Errorf("while held, the page says %q", text(t, ctx, "[data-live-status]"))
	}
	close(gate)
	var ids []string
	for _, a := range during {
		if a.TicketID == "during" {
			ids = append(ids, fmt.Sprintf(`document.querySelector('[data-feed] li[data-alert-id="%d"] .filled') !== null`, a.ID))
		}
	}
	waitFor(t, ctx, "the gap filled", strings.Join(ids, " && "), 15*time.Second)
	waitFor(t, ctx, "the page says so", `document.querySelector("[data-live-status]").textContent.includes("filled in 4 alerts")`, 5*time.Second)
	order := eval[[]float64](t, ctx, `[...document.querySelectorAll("[data-feed] li")].map(li => Number(li.dataset.alertId))`)
	for i := 1; i < len(order); i++ {
		if order[i] >= order[i-1] {
			t.Errorf("feed not newest first: %v", order)
			break
		}
	}
	if len(order) != 8 {
		t.Errorf("feed shows %d alerts, want 8", len(order))
	}
	screenshot(t, ctx, "feed-gap-filled")
}

// waitAlerts waits until the server has recorded n alerts and returns
// them.
func waitAlerts(t *testing.T, s *service, n int) []watchdog.Alert {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.srv.Engine().Alerts(context.Background(), watchdog.AlertsQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d alerts recorded, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
