package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/internal/contract"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// serve runs the real API over a SQLite engine on a loopback listener,
// every exchange checked against the OpenAPI document, and returns the
// engine and the server's URL.
func serve(t *testing.T, cfg *api.Config) (*watchdog.Engine, string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "watchdog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	eng, err := watchdog.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return eng, contract.Serve(t, h).URL
}

func newClient(t *testing.T, url string, cfg *client.Config) *client.Client {
	t.Helper()
	c, err := client.New(url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var created = time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)

func event(id string) client.Event {
	return client.Event{ID: id, Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created}
}

// Every method against the real API: one event and a batch, the ticket
// with its alerts' details objects, a dashboard page with its total,
// readiness and health, and the errors.
func TestClientAgainstTheAPI(t *testing.T) {
	t.Parallel()
	eng, url := serve(t, nil)
	c := newClient(t, url, nil)
	ctx := context.Background()

	one, err := c.Ingest(ctx, event("1"))
	if err != nil || len(one) != 1 || one[0].ID != "1" || one[0].SLAState != client.TicketStateBreach || one[0].NextDueAt == nil {
		t.Fatalf("Ingest(one) = %+v, %v", one, err)
	}
	batch, err := c.Ingest(ctx, event("2"), event("3"))
	if err != nil || len(batch) != 2 || batch[1].ID != "3" {
		t.Fatalf("Ingest(two) = %+v, %v", batch, err)
	}
	if _, err := eng.Hooks().EvaluateDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}

	tk, err := c.Ticket(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(tk.Alerts) != 4 || tk.EscalationLevel != 4 || tk.SLA == nil || tk.SLA.Response.TargetSeconds != 1800 {
		t.Fatalf("Ticket = %+v", tk)
	}
	want := client.AlertDetails{ElapsedMinutes: 25.5, TargetMinutes: 30, PercentUsed: 0.85, Message: "Response SLA at 85% of its 30m target"}
	if d := tk.Alerts[0].Details; d != want {
		t.Errorf("first alert's details %+v, want %+v", d, want)
	}

	page, err := c.Dashboard(ctx, client.DashboardQuery{State: "breach", Limit: 2, Order: "urgency"})
	if err != nil || page.Total != 3 || len(page.Tickets) != 2 {
		t.Fatalf("Dashboard = %+v, %v; want 2 of 3", page, err)
	}

	alerts, err := c.Alerts(ctx, client.AlertsQuery{})
	if err != nil || len(alerts) != 12 || alerts[0].ID <= alerts[11].ID {
		t.Fatalf("Alerts = %d alerts, %v; want the 12 of three tickets, newest first", len(alerts), err)
	}
	gap, err := c.Alerts(ctx, client.AlertsQuery{AfterID: alerts[3].ID, Limit: 2})
	if err != nil || len(gap) != 2 || gap[0].ID != alerts[0].ID || gap[1].ID != alerts[1].ID {
		t.Errorf("Alerts after %d, limit 2 = %+v, %v", alerts[3].ID, gap, err)
	}
	back, err := c.Alerts(ctx, client.AlertsQuery{BeforeID: alerts[10].ID})
	if err != nil || len(back) != 1 || back[0].ID != alerts[11].ID || back[0].Details.TargetMinutes == 0 {
		t.Errorf("Alerts before %d = %+v, %v", alerts[10].ID, back, err)
	}
	if _, err := c.Alerts(ctx, client.AlertsQuery{Limit: 5000}); !client.IsInvalid(err) {
		t.Errorf("Alerts with limit 5000: %v, want a 400", err)
	}

	if r, err := c.Ready(ctx); err != nil || r.Status != client.ReadinessStatusReady {
		t.Errorf("Ready = %+v, %v", r, err)
	}
	if err := c.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}

	if _, err := c.Ticket(ctx, "nope"); !client.IsNotFound(err) {
		t.Errorf("Ticket(nope): %v, want a 404", err)
	}
	bad := event("4")
	bad.UpdatedAt = created.Add(-time.Hour)
	_, err = c.Ingest(ctx, event("5"), bad)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnprocessableEntity || len(ae.Details) != 1 ||
		ae.Details[0].Item != 1 || ae.Details[0].Field != "updated_at" || ae.RequestID == "" {
		t.Errorf("Ingest with a bad item: %#v; want a 422 naming item 1's updated_at", err)
	}
	if !client.IsInvalid(err) || !strings.Contains(err.Error(), "item 1: updated_at") {
		t.Errorf("error %q", err)
	}
	if _, err := c.Ingest(ctx); err == nil {
		t.Error("Ingest() with no events succeeded")
	}
}

// The token goes as a bearer token; without it the API answers 401.
func TestClientSendsTheToken(t *testing.T) {
	t.Parallel()
	_, url := serve(t, &api.Config{APIToken: "s3cret"})
	if _, err := newClient(t, url, nil).Dashboard(context.Background(), client.DashboardQuery{}); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("without the token: %v, want 401", err)
	}
	c := newClient(t, url, &client.Config{Token: "s3cret"})
	if _, err := c.Dashboard(context.Background(), client.DashboardQuery{}); err != nil {
		t.Errorf("with the token: %v", err)
	}
	if got := c.AuthHeader().Get("Authorization"); got != "Bearer s3cret" {
		t.Errorf("AuthHeader %q", got)
	}
	if got := c.AlertsURL(map[string][]string{"state": {"breach"}}); got != "ws"+strings.TrimPrefix(url, "http")+"/ws/alerts?state=breach" {
		t.Errorf("AlertsURL %q", got)
	}
}

func statusOf(err error) int {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// flaky answers its first failures requests with status and retryAfter,
// then hands over to next; it records each request's body.
type flaky struct {
	mu         sync.Mutex
	failures   int
	status     int
	retryAfter string
	bodies     []string
	times      []time.Time
	next       http.Handler
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies, f.times = append(f.bodies, string(b)), append(f.times, time.Now())
	fail := len(f.bodies) <= f.failures
	f.mu.Unlock()
	if fail || f.next == nil {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, `{"error":"the store is unavailable; try again"}`)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(b)))
	f.next.ServeHTTP(w, r)
}

// seen returns the bodies and arrival times of the requests so far.
func (f *flaky) seen() ([]string, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...), append([]time.Time(nil), f.times...)
}

// stub serves f on a loopback listener in front of the real API.
func stub(t *testing.T, f *flaky) string {
	t.Helper()
	_, url := serve(t, nil)
	f.next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.DefaultClient.Do(mustProxy(r, url))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func mustProxy(r *http.Request, base string) *http.Request {
	out, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), r.Body)
	out.Header = r.Header.Clone()
	return out
}

// A 503 with Retry-After is waited out and the same body sent again.
func TestClientRetriesAfterRetryAfter(t *testing.T) {
	t.Parallel()
	f := &flaky{failures: 1, status: http.StatusServiceUnavailable, retryAfter: "1"}
	c := newClient(t, stub(t, f), nil)
	start := time.Now()
	ts, err := c.Ingest(context.Background(), event("r1"))
	if err != nil || len(ts) != 1 {
		t.Fatalf("Ingest after a 503: %v, %v", ts, err)
	}
	bodies, times := f.seen()
	if len(bodies) != 2 || bodies[0] != bodies[1] || !strings.Contains(bodies[1], `"r1"`) {
		t.Fatalf("requests %q; want the same body twice", bodies)
	}
	if gap := times[1].Sub(times[0]); gap < time.Second {
		t.Errorf("retried after %v, before Retry-After's 1s", gap)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// Retries are bounded in number and in each wait; a wait past the call's
// deadline is not made; /readyz is asked once.
func TestClientRetriesAreBounded(t *testing.T) {
	t.Parallel()
	f := &flaky{failures: 1000, status: http.StatusTooManyRequests, retryAfter: "3600"}
	url := stub(t, f)
	c := newClient(t, url, &client.Config{MaxRetries: 2, MaxRetryWait: 10 * time.Millisecond})
	_, err := c.Dashboard(context.Background(), client.DashboardQuery{})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || ae.RetryAfter != time.Hour {
		t.Fatalf("always 429: %v; want the last 429 with its Retry-After", err)
	}
	if bodies, _ := f.seen(); len(bodies) != 3 {
		t.Errorf("%d requests, want 1 + 2 retries", len(bodies))
	}

	slow := newClient(t, url, &client.Config{Timeout: 200 * time.Millisecond})
	start := time.Now()
	if _, err := slow.Dashboard(context.Background(), client.DashboardQuery{}); statusOf(err) != http.StatusTooManyRequests || time.Since(start) > 2*time.Second {
		t.Errorf("a Retry-After past the deadline: %v after %v; want the 429 at once", err, time.Since(start))
	}

	down := &flaky{failures: 1000, status: http.StatusServiceUnavailable, retryAfter: "0"}
	c = newClient(t, stub(t, down), nil)
	if r, err := c.Ready(context.Background()); statusOf(err) != http.StatusServiceUnavailable || r != nil && r.Status == client.ReadinessStatusReady {
		t.Errorf("Ready on a 503: %+v, %v", r, err)
	}
	if bodies, _ := down.seen(); len(bodies) != 1 {
		t.Errorf("Ready sent %d requests, want 1", len(bodies))
	}
}

func TestClientAcknowledges(t *testing.T) {
	t.Parallel()
	_, url := serve(t, nil)
	c := newClient(t, url, nil)
	ctx := context.Background()
	if _, err := c.Ingest(ctx, event("1")); err != nil {
		t.Fatal(err)
	}
	res := client.SLATypeResolution
	note := "on it"
	acks, err := c.Acknowledge(ctx, "1", client.AckRequest{By: "alice", Note: &note, SLAType: &res})
	if err != nil || len(acks) != 1 || acks[0].By != "alice" || acks[0].SLAType != client.SLATypeResolution {
		t.Fatalf("Acknowledge = %+v, %v", acks, err)
	}
	tk, err := c.Ticket(ctx, "1")
	if err != nil || len(tk.Acks) != 1 || tk.Acks[0].Note == nil || *tk.Acks[0].Note != "on it" {
		t.Fatalf("Ticket acks = %+v, %v", tk.Acks, err)
	}
	past := time.Now().Add(-time.Minute)
	if _, err := c.Acknowledge(ctx, "1", client.AckRequest{By: "bob", Until: &past}); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("until in the past: %v", err)
	}
	if n, err := c.Unacknowledge(ctx, "1", ""); err != nil || n != 1 {
		t.Errorf("Unacknowledge = %d, %v", n, err)
	}
	if _, err := c.Unacknowledge(ctx, "nope", ""); !client.IsNotFound(err) {
		t.Errorf("unknown ticket: %v", err)
	}
}
