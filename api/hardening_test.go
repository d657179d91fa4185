package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/internal/contract"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// hardStores opens an empty store of each kind, by name.
func hardStores(t *testing.T) map[string]watchdog.Store {
	t.Helper()
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "watchdog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lite.Close() })
	pg, err := postgres.Open(ctx, pgtest.DSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Close() })
	return map[string]watchdog.Store{"sqlite": lite, "postgres": pg}
}

// hardServer serves the API over st on a real listener.
func hardServer(t *testing.T, st watchdog.Store, cfg *api.Config) *httptest.Server {
	t.Helper()
	eng, err := watchdog.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return contract.Serve(t, h)
}

// hardAnswer is a response's status and error body.
type hardAnswer struct {
	Code    int
	Error   string                `json:"error"`
	Details []watchdog.FieldError `json:"details"`
}

// hardDo sends a request with a raw (unchecked) path and body.
func hardDo(t *testing.T, srv *httptest.Server, method, rawPath, contentType, body string) hardAnswer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = "//" + req.URL.Host + rawPath // sent as is
	if body == "" {
		req.Body, req.ContentLength = nil, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := hardAnswer{Code: resp.StatusCode}
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(b, &a); err != nil {
			t.Errorf("%s %s: %d with a body that is not JSON: %q", method, rawPath, resp.StatusCode, b)
		}
	}
	return a
}

// ticketJSON is a valid event whose field is replaced by raw JSON text.
func ticketJSON(field, raw string) string {
	f := map[string]string{"id": `"t1"`, "priority": `"high"`, "customer_tier": `"gold"`, "status": `"open"`}
	f[field] = raw
	return `{"id":` + f["id"] + `,"priority":` + f["priority"] + `,"customer_tier":` + f["customer_tier"] +
		`,"status":` + f["status"] + `,"created_at":"2026-01-05T09:00:00Z","updated_at":"2026-01-05T09:00:00Z"}`
}

// NUL characters and text that is not UTF-8 are refused alike by both
// stores, naming the field or parameter: never stored (SQLite would), never
// a 500 (PostgreSQL's refusal), never turned into U+FFFD.
func TestHostileTextRefusedAlikeOnBothStores(t *testing.T) {
	t.Parallel()
	type want struct {
		code  int
		field string
	}
	cases := []struct {
		name, method, path, body string
		want                     want
	}{
		{"NUL in id", "POST", "/tickets", ticketJSON("id", `"a\u0000b"`), want{422, "id"}},
		{"invalid UTF-8 in id", "POST", "/tickets", ticketJSON("id", "\"a\xffb\""), want{422, "id"}},
		{"lone surrogate in id", "POST", "/tickets", ticketJSON("id", `"a\ud800b"`), want{422, "id"}},
		{"NUL in status", "POST", "/tickets", ticketJSON("status", `"open\u0000"`), want{422, "status"}},
		{"invalid UTF-8 in status", "POST", "/tickets", ticketJSON("status", "\"op\xc3\""), want{422, "status"}},
		{"NUL in tier", "POST", "/tickets", ticketJSON("customer_tier", `"\u0000"`), want{422, "customer_tier"}},
		{"invalid UTF-8 in tier", "POST", "/tickets", ticketJSON("customer_tier", "\"g\xfeld\""), want{422, "customer_tier"}},
		{"NUL in priority", "POST", "/tickets", ticketJSON("priority", `"hi\u0000gh"`), want{422, "priority"}},
		{"low surrogate alone in priority", "POST", "/tickets", ticketJSON("priority", `"\udc00"`), want{422, "priority"}},
		{"NUL in ticket path", "GET", "/tickets/a%00b", "", want{400, "id"}},
		{"invalid UTF-8 in ticket path", "GET", "/tickets/a%FFb", "", want{400, "id"}},
		{"NUL in tier filter", "GET", "/dashboard?tier=gold%00", "", want{400, "tier"}},
		{"invalid UTF-8 in customer_tier filter", "GET", "/dashboard?customer_tier=%C3", "", want{400, "customer_tier"}},
		{"invalid UTF-8 in priority filter", "GET", "/dashboard?priority=%FF", "", want{400, "priority"}},
	}
	got := map[string]map[string]hardAnswer{}
	for kind, st := range hardStores(t) {
		srv := hardServer(t, st, nil)
		got[kind] = map[string]hardAnswer{}
		for _, tc := range cases {
			ct := ""
			if tc.body != "" {
				ct = "application/json"
			}
			a := hardDo(t, srv, tc.method, tc.path, ct, tc.body)
			got[kind][tc.name] = a
			if a.Code != tc.want.code || len(a.Details) == 0 || a.Details[0].Field != tc.want.field {
				t.Errorf("%s: %s: %d %+v; want %d naming %q", kind, tc.name, a.Code, a, tc.want.code, tc.want.field)
			}
			if tc.method == "POST" && (len(a.Details) == 0 || a.Details[0].Item != 0 || a.Details[0].ID != "" && tc.want.field == "id") {
				t.Errorf("%s: %s: details %+v; want item 0, and no echo of a bad id", kind, tc.name, a.Details)
			}
		}
		// Nothing of it was stored.
		if a := hardDo(t, srv, "GET", "/tickets/t1", "", ""); a.Code != http.StatusNotFound {
			t.Errorf("%s: ticket t1 answers %d after refused events; want 404", kind, a.Code)
		}
	}
	for _, tc := range cases {
		if l, p := got["sqlite"][tc.name], got["postgres"][tc.name]; l.Code != p.Code || l.Error != p.Error {
			t.Errorf("%s: SQLite answers %d %q, PostgreSQL %d %q; want the same", tc.name, l.Code, l.Error, p.Code, p.Error)
		}
	}
}

// A malformed query string is a 400 naming the parameter, not a page with
// the filter silently dropped.
func TestMalformedDashboardQueryRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "watchdog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv := hardServer(t, st, nil)
	for _, q := range []string{"tier=%zz", "state=alert&priority=%4", "tier=gold;priority=high"} {
		a := hardDo(t, srv, "GET", "/dashboard?"+q, "", "")
		if a.Code != http.StatusBadRequest || len(a.Details) == 0 || a.Details[0].Field == "" {
			t.Errorf("GET /dashboard?%s: %d %+v; want 400 naming the parameter", q, a.Code, a)
		}
	}
	if a := hardDo(t, srv, "GET", "/dashboard?tier=gold&priority=high", "", ""); a.Code != http.StatusOK {
		t.Errorf("a well-formed query: %d %+v", a.Code, a)
	}
}
