package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/internal/contract"
	"github.com/ticket-watchdog/watchdog/metrics"
	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// seedExample is the seed README's curl example, byte for byte.
const seedExample = `[{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}]`

// env is an API over a real engine on a SQLite file, served on a real
// listener.
type env struct {
	eng  *watchdog.Engine
	srv  *httptest.Server
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
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

func setup(t testing.TB, cfg *api.Config) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "watchdog.db"), nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	eng, err := watchdog.New(st, nil)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	logs := &syncBuffer{}
	var c api.Config
	if cfg != nil {
		c = *cfg
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	h, err := api.New(eng, &c)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	srv := contract.Serve(t, h)
	return &env{eng: eng, srv: srv, logs: logs}
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (e *env) do(t testing.TB, method, path, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if resp.StatusCode >= 500 {
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

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

// errorBody is the API's error shape.
type errorBody struct {
	Error   string `json:"error"`
	Details []struct {
		Item    int    `json:"item"`
		ID      string `json:"id"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"details"`
}

func TestSeedExampleIsByteCompatible(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	r := e.do(t, "POST", "/tickets", seedExample)
	mustStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	arr := decode[[]map[string]json.RawMessage](t, r.body)
	if len(arr) != 1 {
		t.Fatalf("got %d tickets, want 1: %s", len(arr), r.body)
	}
	want := map[string]string{
		"id":               `"1"`,
		"priority":         `"high"`,
		"created_at":       `"2025-06-18T12:00:00Z"`,
		"updated_at":       `"2025-06-18T12:00:00Z"`,
		"status":           `"open"`,
		"customer_tier":    `"gold"`,
		"escalation_level": `0`,
	}
	for k, v := range want {
		got, ok := arr[0][k]
		if !ok {
			t.Errorf("field %q missing from %s", k, r.body)
			continue
		}
		if string(got) != v {
			t.Errorf("field %q = %s, want %s", k, got, v)
		}
	}
	if len(arr[0]) <= len(want) {
		t.Errorf("expected extra fields beyond the seed's, got %s", r.body)
	}

	// A single object answers an object.
	one := `{"id":"2","priority":"low","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:05:00Z","status":"open","customer_tier":"gold"}`
	r = e.do(t, "POST", "/tickets", one)
	mustStatus(t, r, http.StatusOK)
	obj := decode[map[string]json.RawMessage](t, r.body)
	if string(obj["id"]) != `"2"` || string(obj["updated_at"]) != `"2025-06-18T12:05:00Z"` {
		t.Errorf("single object answer: %s", r.body)
	}

	// Fire the overdue ticket's stages, then read it back.
	if _, err := e.eng.Hooks().EvaluateDue(context.Background(), time.Now()); err != nil {
		t.Fatalf("EvaluateDue: %v", err)
	}
	r = e.do(t, "GET", "/tickets/1", "")
	mustStatus(t, r, http.StatusOK)
	var view struct {
		ID            string `json:"id"`
		StatusHistory []struct {
			Status    *string `json:"status"`
			Timestamp *string `json:"timestamp"`
		} `json:"status_history"`
		Alerts []map[string]json.RawMessage          `json:"alerts"`
		SLA    map[string]map[string]json.RawMessage `json:"sla"`
	}
	if err := json.Unmarshal(r.body, &view); err != nil {
		t.Fatalf("decode ticket view %s: %v", r.body, err)
	}
	if view.ID != "1" {
		t.Errorf("id %q", view.ID)
	}
	if len(view.StatusHistory) != 1 || view.StatusHistory[0].Status == nil || *view.StatusHistory[0].Status != "open" ||
		view.StatusHistory[0].Timestamp == nil || *view.StatusHistory[0].Timestamp != "2025-06-18T12:00:00Z" {
		t.Errorf("status_history: %s", r.body)
	}
	if len(view.Alerts) == 0 {
		t.Errorf("an overdue ticket has no alerts after evaluation: %s", r.body)
	}
	for _, a := range view.Alerts {
		for _, k := range []string{"sla_type", "state", "created_at", "details"} {
			if _, ok := a[k]; !ok {
				t.Errorf("alert lacks %q: %v", k, a)
			}
		}
	}
	for _, clock := range []string{"response", "resolution"} {
		c, ok := view.SLA[clock]
		if !ok {
			t.Errorf("sla.%s missing: %s", clock, r.body)
			continue
		}
		for _, k := range []string{"state", "target_seconds", "elapsed_seconds", "remaining_seconds", "alert_at", "breach_at", "calendar"} {
			if _, ok := c[k]; !ok {
				t.Errorf("sla.%s lacks %q: %s", clock, k, r.body)
			}
		}
	}
	if got := string(view.SLA["response"]["target_seconds"]); got != "1800" {
		t.Errorf("gold/high response target_seconds = %s, want 1800 (30 minutes)", got)
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	now := time.Now().UTC().Truncate(time.Second)
	ev := func(id, prio, tier, status string, created time.Time) string {
		return fmt.Sprintf(`{"id":%q,"priority":%q,"created_at":%q,"updated_at":%q,"status":%q,"customer_tier":%q}`,
			id, prio, created.Format(time.RFC3339), created.Format(time.RFC3339), status, tier)
	}
	batch := "[" + strings.Join([]string{
		ev("breached", "high", "gold", "open", now.Add(-2*time.Hour)),    // response 30m: breached
		ev("alerting", "high", "gold", "open", now.Add(-27*time.Minute)), // 90% of 30m: alert
		ev("fresh", "low", "gold", "open", now.Add(-time.Minute)),
		ev("closed", "medium", "gold", "closed", now.Add(-time.Hour)),
		ev("silver", "high", "silver", "open", now.Add(-time.Minute)), // no policy: untracked
	}, ",") + "]"
	mustStatus(t, e.do(t, "POST", "/tickets", batch), http.StatusOK)
	if _, err := e.eng.Hooks().EvaluateDue(context.Background(), time.Now()); err != nil {
		t.Fatalf("EvaluateDue: %v", err)
	}

	ids := func(r response) []string { t.Helper(); return dashboardIDs(t, r) }
	total := func(r response) int { t.Helper(); return totalCount(t, r) }
	has := slices.Contains[[]string]

	r := e.do(t, "GET", "/dashboard", "")
	mustStatus(t, r, http.StatusOK)
	if total(r) != 5 || len(ids(r)) != 5 {
		t.Errorf("all: total %d ids %v", total(r), ids(r))
	}
	r = e.do(t, "GET", "/dashboard?offset=1&limit=2", "")
	mustStatus(t, r, http.StatusOK)
	if total(r) != 5 || len(ids(r)) != 2 {
		t.Errorf("page: total %d ids %v", total(r), ids(r))
	}
	r = e.do(t, "GET", "/dashboard?offset=10", "")
	mustStatus(t, r, http.StatusOK)
	if string(bytes.TrimSpace(r.body)) != "[]" || total(r) != 5 {
		t.Errorf("past the end: %s total %d", r.body, total(r))
	}
	r = e.do(t, "GET", "/dashboard?state=alert", "")
	mustStatus(t, r, http.StatusOK)
	if got := ids(r); !has(got, "breached") || !has(got, "alerting") || has(got, "fresh") || total(r) != 2 {
		t.Errorf("state=alert should hold alert and breach: %v (total %d)", got, total(r))
	}
	r = e.do(t, "GET", "/dashboard?state=breach", "")
	if got := ids(r); len(got) != 1 || got[0] != "breached" {
		t.Errorf("state=breach: %v", got)
	}
	r = e.do(t, "GET", "/dashboard?tier=silver", "")
	if got := ids(r); len(got) != 1 || got[0] != "silver" {
		t.Errorf("tier=silver: %v", got)
	}
	r = e.do(t, "GET", "/dashboard?priority=low", "")
	if got := ids(r); len(got) != 1 || got[0] != "fresh" {
		t.Errorf("priority=low: %v", got)
	}
	r = e.do(t, "GET", "/dashboard?open=false", "")
	if got := ids(r); len(got) != 1 || got[0] != "closed" {
		t.Errorf("open=false: %v", got)
	}
	r = e.do(t, "GET", "/dashboard?open=true&order=urgency&tier=gold", "")
	mustStatus(t, r, http.StatusOK)
	if got := ids(r); len(got) != 3 || got[0] != "breached" || got[1] != "alerting" {
		t.Errorf("order=urgency: %v, want breached, alerting, fresh", got)
	}
	checkDashboardBadQueries(t, e)
}

// dashboardIDs returns the ids of the tickets of a dashboard page.
func dashboardIDs(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, tk := range decode[[]struct {
		ID string `json:"id"`
	}](t, r.body) {
		out = append(out, tk.ID)
	}
	return out
}

// totalCount returns a dashboard page's X-Total-Count.
func totalCount(t *testing.T, r response) int {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("X-Total-Count"))
	if err != nil {
		t.Fatalf("X-Total-Count %q: %v", r.header.Get("X-Total-Count"), err)
	}
	return n
}

// checkDashboardBadQueries checks that each bad query parameter is refused
// with 400 and an error naming it.
func checkDashboardBadQueries(t *testing.T, e *env) {
	t.Helper()
	for _, tc := range []struct{ query, param string }{
		{"offset=-1", "offset"},
		{"offset=x", "offset"},
		{"limit=0", "limit"},
		{"limit=5000", "limit"},
		{"limit=abc", "limit"},
		{"state=purple", "state"},
		{"open=maybe", "open"},
		{"order=random", "order"},
	} {
		r := e.do(t, "GET", "/dashboard?"+tc.query, "")
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.query, r.code)
			continue
		}
		eb := decode[errorBody](t, r.body)
		if !strings.Contains(eb.Error, tc.param) || len(eb.Details) == 0 || eb.Details[0].Field != tc.param {
			t.Errorf("%s: error does not name %q: %s", tc.query, tc.param, r.body)
		}
	}
}

func TestBatchWithOneBadItemWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	batch := `[
	 {"id":"good-1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"},
	 {"id":"good-2","priority":"low","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"},
	 {"id":"bad","priority":"high","created_at":"yesterday","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"},
	 {"id":"good-3","priority":"medium","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}
	]`
	r := e.do(t, "POST", "/tickets", batch)
	mustStatus(t, r, http.StatusUnprocessableEntity)
	eb := decode[errorBody](t, r.body)
	if len(eb.Details) != 1 || eb.Details[0].Item != 2 || eb.Details[0].Field != "created_at" {
		t.Fatalf("details should name item 2's created_at: %s", r.body)
	}
	if !strings.Contains(eb.Error, "item 2") || !strings.Contains(eb.Error, "created_at") {
		t.Errorf("message should name the item and field: %q", eb.Error)
	}
	for _, id := range []string{"good-1", "good-2", "good-3", "bad"} {
		r := e.do(t, "GET", "/tickets/"+id, "")
		if r.code != http.StatusNotFound {
			t.Errorf("GET /tickets/%s after a rejected batch: %d %s", id, r.code, r.body)
		}
	}
	r = e.do(t, "GET", "/dashboard", "")
	if r.header.Get("X-Total-Count") != "0" {
		t.Errorf("dashboard total after a rejected batch: %q", r.header.Get("X-Total-Count"))
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	e := setup(t, &api.Config{MaxBodyBytes: 4096, MaxBatch: 5})
	valid := func(id string) string {
		return `{"id":"` + id + `","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`
	}
	for _, tc := range []struct {
		name, body string
		code       int
		field      string // the details' field, when there should be one
		msg        string // a substring of the error message
	}{
		{"malformed json", `[{"id":"1",`, 400, "", ""},
		{"not json", `hello`, 400, "", ""},
		{"empty body", ``, 400, "", ""},
		{"wrong id type", `{"id":1,"priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`, 422, "id", ""},
		{"wrong created_at type", `{"id":"1","priority":"high","created_at":12,"updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`, 422, "created_at", ""},
		{"updated before created", `{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T11:00:00Z","status":"open","customer_tier":"gold"}`, 422, "updated_at", ""},
		// Due instants past year 9999 cannot be encoded: refused up front.
		{"far future", `{"id":"f","priority":"high","created_at":"9999-12-31T23:59:59Z","updated_at":"9999-12-31T23:59:59Z","status":"open","customer_tier":"gold"}`, 422, "created_at", "out of range"},
		{"empty id", `{"id":"","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`, 422, "id", ""},
		{"256-byte id", valid(strings.Repeat("x", 256)), 422, "id", ""},
		{"body over the limit", "[" + strings.Repeat(valid("a")+",", 40) + valid("a") + "]", 413, "", "4096 bytes"},
		{"batch over the max", "[" + strings.Repeat(valid("a")+",", 5) + valid("a") + "]", 413, "", "at most 5"},
	} {
		r := e.do(t, "POST", "/tickets", tc.body)
		if r.code != tc.code {
			t.Errorf("%s: status %d, want %d; body %s", tc.name, r.code, tc.code, r.body)
			continue
		}
		eb := decode[errorBody](t, r.body)
		if eb.Error == "" {
			t.Errorf("%s: no error message: %s", tc.name, r.body)
		}
		if tc.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != tc.field) {
			t.Errorf("%s: details should name %q: %s", tc.name, tc.field, r.body)
		}
		if tc.msg != "" && !strings.Contains(eb.Error, tc.msg) {
			t.Errorf("%s: message %q lacks %q", tc.name, eb.Error, tc.msg)
		}
	}
	mustStatus(t, e.do(t, "GET", "/dashboard", ""), http.StatusOK)
	// A 255-byte id is fine.
	mustStatus(t, e.do(t, "POST", "/tickets", valid(strings.Repeat("y", 255))), http.StatusOK)

	r := e.do(t, "GET", "/tickets/nope", "")
	mustStatus(t, r, http.StatusNotFound)
	if eb := decode[errorBody](t, r.body); !strings.Contains(eb.Error, "nope") {
		t.Errorf("404 should name the ticket: %s", r.body)
	}
	r = e.do(t, "GET", "/no/such/route", "")
	mustStatus(t, r, http.StatusNotFound)
	if eb := decode[errorBody](t, r.body); eb.Error == "" {
		t.Errorf("unknown route: %s", r.body)
	}
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/tickets", "POST"},
		{"GET", "/tickets", "POST"},
		{"PUT", "/tickets/1", "GET"},
		{"POST", "/dashboard", "GET"},
	} {
		r := e.do(t, tc.method, tc.path, "")
		if r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tc.method, tc.path, r.code, r.header.Get("Allow"), tc.allow)
		} else if eb := decode[errorBody](t, r.body); !strings.Contains(eb.Error, tc.allow) {
			t.Errorf("%s %s: message should name the allowed method: %s", tc.method, tc.path, r.body)
		}
	}
	r = e.do(t, "POST", "/tickets", valid("1"), "Content-Type", "application/xml")
	mustStatus(t, r, http.StatusUnsupportedMediaType)
}

func TestTenThousandItemBatch(t *testing.T) {
	t.Parallel()
	// About size, not deadlines: under -race on a busy machine the batch
	// (0.4 s without) can take longer than the default request timeout.
	e := setup(t, &api.Config{RequestTimeout: 2 * time.Minute})
	var b strings.Builder
	b.WriteByte('[')
	const n = 10000
	tiers := []string{"gold", "silver", "bronze"}
	prios := []string{"high", "medium", "low"}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"t-%d","priority":%q,"created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:%02d:00Z","status":"open","customer_tier":%q}`,
			i, prios[i%3], i%60, tiers[i%3])
	}
	b.WriteByte(']')
	r := e.do(t, "POST", "/tickets", b.String())
	mustStatus(t, r, http.StatusOK)
	if got := decode[[]json.RawMessage](t, r.body); len(got) != n {
		t.Errorf("answer holds %d tickets, want %d", len(got), n)
	}
	r = e.do(t, "GET", "/dashboard?limit=1", "")
	mustStatus(t, r, http.StatusOK)
	if got := r.header.Get("X-Total-Count"); got != strconv.Itoa(n) {
		t.Errorf("X-Total-Count %q, want %d", got, n)
	}
	mustStatus(t, e.do(t, "GET", "/tickets/t-9999", ""), http.StatusOK)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token-value"
	// The real hub and metrics: a plain GET reaches the hub's 426 once past
	// the token check.
	alerts := wshub.NewHub(nil)
	m, err := metrics.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	metrics := m.Handler()
	on := setup(t, &api.Config{APIToken: token, Alerts: alerts, Metrics: metrics})
	off := setup(t, &api.Config{Alerts: alerts, Metrics: metrics})

	protected := []struct{ method, path, body string }{
		{"POST", "/tickets", seedExample},
		{"GET", "/tickets/1", ""},
		{"GET", "/dashboard", ""},
		{"GET", "/ws/alerts", ""},
	}
	for _, p := range protected {
		r := on.do(t, p.method, p.path, p.body)
		if r.code != http.StatusUnauthorized {
			t.Errorf("no token: %s %s = %d, want 401", p.method, p.path, r.code)
		} else if eb := decode[errorBody](t, r.body); !strings.Contains(eb.Error, "Bearer") {
			t.Errorf("401 message should say how to authenticate: %s", r.body)
		}
		if r := on.do(t, p.method, p.path, p.body, "Authorization", "Bearer wrong"); r.code != http.StatusUnauthorized {
			t.Errorf("wrong token: %s %s = %d, want 401", p.method, p.path, r.code)
		}
		if r := on.do(t, p.method, p.path, p.body, "Authorization", "Bearer "+token); r.code == http.StatusUnauthorized {
			t.Errorf("right token: %s %s = 401", p.method, p.path)
		}
		if r := off.do(t, p.method, p.path, p.body); r.code == http.StatusUnauthorized {
			t.Errorf("auth off: %s %s = 401", p.method, p.path)
		}
	}
	// Query-string tokens are only for the WebSocket.
	if r := on.do(t, "GET", "/ws/alerts?access_token="+token, ""); r.code != http.StatusUpgradeRequired {
		t.Errorf("ws with access_token: %d", r.code)
	}
	if r := on.do(t, "GET", "/ws/alerts?access_token=nope", ""); r.code != http.StatusUnauthorized {
		t.Errorf("ws with a wrong access_token: %d", r.code)
	}
	if r := on.do(t, "GET", "/dashboard?access_token="+token, ""); r.code != http.StatusUnauthorized {
		t.Errorf("dashboard with access_token in the query: %d, want 401", r.code)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := on.do(t, "GET", path, ""); r.code != http.StatusOK {
			t.Errorf("%s with auth on and no token: %d, want 200", path, r.code)
		}
	}
	if strings.Contains(on.logs.String(), token) {
		t.Errorf("the API token appears in the log:\n%s", on.logs.String())
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	r := e.do(t, "GET", "/tickets/abc", "", "X-Request-ID", "req-123")
	mustStatus(t, r, http.StatusNotFound)
	if got := r.header.Get("X-Request-ID"); got != "req-123" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	r2 := e.do(t, "POST", "/tickets", seedExample)
	mustStatus(t, r2, http.StatusOK)
	generated := r2.header.Get("X-Request-ID")
	if len(generated) < 8 {
		t.Errorf("generated X-Request-ID %q", generated)
	}
	// A request id with control characters is replaced, not echoed.
	r3 := e.do(t, "GET", "/healthz", "", "X-Request-ID", strings.Repeat("z", 200))
	if got := r3.header.Get("X-Request-ID"); got == "" || len(got) > 128 {
		t.Errorf("overlong X-Request-ID echoed as %q", got)
	}

	r4 := e.do(t, "DELETE", "/dashboard", "", "X-Request-ID", "req-405")
	mustStatus(t, r4, http.StatusMethodNotAllowed)

	type line struct {
		Msg           string   `json:"msg"`
		CorrelationID string   `json:"correlation_id"`
		Method        string   `json:"method"`
		Route         string   `json:"route"`
		Status        int      `json:"status"`
		LatencyMS     *float64 `json:"latency_ms"`
		Bytes         *int     `json:"bytes"`
	}
	var requests []line
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", l, err)
		}
		if v.Msg == "request" {
			requests = append(requests, v)
		}
	}
	if len(requests) != 4 {
		t.Fatalf("want one request line per request (4), got %d:\n%s", len(requests), e.logs.String())
	}
	want := []struct {
		cid, method, route string
		status, bytes      int
	}{
		{"req-123", "GET", "/tickets/{id}", 404, len(r.body)},
		{generated, "POST", "/tickets", 200, len(r2.body)},
		{r3.header.Get("X-Request-ID"), "GET", "/healthz", 200, len(r3.body)},
		{"req-405", "DELETE", "unmatched", 405, len(r4.body)},
	}
	for i, w := range want {
		got := requests[i]
		if got.CorrelationID != w.cid || got.Method != w.method || got.Route != w.route || got.Status != w.status ||
			got.LatencyMS == nil || *got.LatencyMS < 0 || got.Bytes == nil || *got.Bytes != w.bytes {
			t.Errorf("request line %d = %+v, want %+v", i, got, w)
		}
	}
	if !strings.Contains(e.logs.String(), `"msg":"events ingested","correlation_id":"`+generated+`"`) {
		t.Errorf("the ingest line does not carry the correlation id:\n%s", e.logs.String())
	}
}
