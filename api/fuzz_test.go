package api_test

import (
	"bytes"
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
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// FuzzPostTickets sends arbitrary bodies to POST /tickets on a real listener:
// the handler must answer every one with a JSON body, a status below 500
// and an answer the OpenAPI document describes, and never panic.
func FuzzPostTickets(f *testing.F) {
	for _, s := range []string{
		seedExample,
		`{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`,
		`[]`, `{}`, `[{}]`, `null`, `[null]`, `""`, `0`, `true`, ``, ` `, `[`, `]`, `{`, `[[]]`,
		`[{"id":"1"},{"id":"2"},{"id":"3"}]`,
		`[{"id":{"a":[1,2,{"b":null}]},"priority":["high"],"created_at":{"x":1}}]`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"id":1e999,"priority":-1e308,"created_at":99999999999999999999999999999,"updated_at":1.5,"status":0,"customer_tier":-0}`,
		`{"id":"9","priority":"high","created_at":"9999-12-31T23:59:59Z","updated_at":"9999-12-31T23:59:59Z","status":"open","customer_tier":"gold"}`,
		`{"id":"0","priority":"high","created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z","status":"open","customer_tier":"gold"}`,
		`{"id":"日本語チケット","priority":"高","created_at":"2025-06-18T12:00:00+09:00","updated_at":"2025-06-18T12:00:00+09:00","status":"open","customer_tier":"gold"}`,
		`{"id":"\u0000\ud800","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`,
		`{"id":"1","id":"2","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold","extra":[1,{"x":"y"}]}`,
		`{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"resolved","customer_tier":"gold","first_response_at":"2025-06-18T12:01:00Z"}`,
		`{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold","attributes":{"group":"billing","x":1,"BAD":"y"},"tags":["vip","",3],"messages":[{"at":"2025-06-18T12:01:00Z","author":"agent"},{"at":"2025-06-18T11:00:00Z","author":"bot"},7,{}]}`,
		"\xef\xbb\xbf" + seedExample,
		"\xff\xfe\x00",
	} {
		f.Add([]byte(s))
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), nil)
	if err != nil {
		f.Fatalf("open sqlite: %v", err)
	}
	f.Cleanup(func() { _ = st.Close() })
	eng, err := watchdog.New(st, nil)
	if err != nil {
		f.Fatalf("engine: %v", err)
	}
	h, err := api.New(eng, &api.Config{MaxBodyBytes: 64 << 10, MaxBatch: 100})
	if err != nil {
		f.Fatalf("api.New: %v", err)
	}
	// Every answer is checked against the OpenAPI document too.
	chk := contract.New(f)
	srv := httptest.NewServer(chk.Wrap(h))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := srv.Client().Post(srv.URL+"/tickets", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for body %q: %s", resp.StatusCode, body, got)
		}
		if !json.Valid(got) {
			t.Fatalf("answer is not JSON for body %q: %q", body, got)
		}
		if resp.StatusCode != http.StatusOK {
			var eb errorBody
			if err := json.Unmarshal(got, &eb); err != nil || strings.TrimSpace(eb.Error) == "" {
				t.Fatalf("status %d without an error message for body %q: %s", resp.StatusCode, body, got)
			}
		}
		if fails := chk.Take(); len(fails) > 0 {
			t.Fatalf("body %q: the answer breaks the OpenAPI document:\n%s", body, strings.Join(fails, "\n"))
		}
	})
}
