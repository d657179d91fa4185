package contract_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ticket-watchdog/watchdog/internal/contract"
)

const ticketJSON = `{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z",` +
	`"status":"open","customer_tier":"gold","escalation_level":0,"sla_state":"ok","open":true,"next_due_at":null,"breach_at":null}`

const eventJSON = `{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`

// answer is a handler that answers status with body and headers (pairs).
func answer(status int, body string, header ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// The checker passes what the document describes and reports the rest: a
// handler that drifts from the document fails its tests.
func TestCheckerReportsWhatTheDocumentDoesNotDescribe(t *testing.T) {
	t.Parallel()
	rid := "X-Request-ID"
	for _, tc := range []struct {
		name, method, path, contentType, body string
		handler                               http.Handler
		fails                                 string // "" when it must pass
	}{
		{"health", "GET", "/healthz", "", "", answer(200, `{"status":"ok"}`, rid, "r"), ""},
		{"undocumented status", "GET", "/healthz", "", "", answer(418, `{"error":"teapot"}`, rid, "r"), "status is not supported"},
		{"no request id", "GET", "/healthz", "", "", answer(200, `{"status":"ok"}`), `"X-Request-ID"`},
		{"body off the schema", "GET", "/healthz", "", "", answer(200, `{"status":"fine"}`, rid, "r"), "status"},
		{"dashboard without its total", "GET", "/dashboard", "", "", answer(200, `[]`, rid, "r"), "X-Total-Count"},
		{"dashboard page", "GET", "/dashboard?state=alert&limit=5", "", "", answer(200, "["+ticketJSON+"]", rid, "r", "X-Total-Count", "7"), ""},
		{"bad filter answered 200", "GET", "/dashboard?state=purple", "", "", answer(200, `[]`, rid, "r", "X-Total-Count", "0"), "succeeded"},
		{"one event, one ticket", "POST", "/tickets", "application/vnd.api+json", eventJSON, answer(200, ticketJSON, rid, "r"), ""},
		{"invalid event answered 200", "POST", "/tickets", "application/json", `{"id":"1"}`, answer(200, ticketJSON, rid, "r"), "succeeded"},
		{"invalid event answered 422", "POST", "/tickets", "application/json", `{"id":"1"}`,
			answer(422, `{"error":"invalid input","details":[{"item":0,"id":"1","field":"status","message":"is required"}]}`, rid, "r"), ""},
		{"error body off the schema", "GET", "/tickets/1", "", "", answer(404, `{"message":"nope"}`, rid, "r"), "error"},
		{"unknown path", "GET", "/nope", "", "", answer(200, `{}`, rid, "r"), "want 404"},
		{"unknown path 404", "GET", "/nope", "", "", answer(404, `{"error":"no route"}`, rid, "r"), ""},
		{"405 without Allow", "DELETE", "/healthz", "", "", answer(405, `{"error":"no"}`, rid, "r"), "Allow"},
		{"405", "DELETE", "/healthz", "", "", answer(405, `{"error":"no"}`, rid, "r", "Allow", "GET"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := contract.New(t)
			srv := httptest.NewServer(c.Wrap(tc.handler))
			defer srv.Close()
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			srv.Close() // the check has run
			fails := strings.Join(c.Take(), "\n")
			switch {
			case tc.fails == "" && fails != "":
				t.Errorf("reported:\n%s", fails)
			case tc.fails != "" && !strings.Contains(fails, tc.fails):
				t.Errorf("reported %q; want a failure naming %q", fails, tc.fails)
			}
			if c.Checked() != 1 {
				t.Errorf("checked %d exchanges, want 1", c.Checked())
			}
		})
	}
}

// The document lists the operations the API serves.
func TestOperations(t *testing.T) {
	t.Parallel()
	doc, err := contract.Document()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(contract.Operations(doc), ", ")
	want := "DELETE /tickets/{id}/ack, GET /alerts, GET /dashboard, GET /healthz, GET /metrics, GET /openapi.json, GET /readyz, GET /reports/sla, GET /reports/sla/outcomes, GET /tickets/{id}, GET /ws/alerts, POST /tickets, POST /tickets/{id}/ack"
	if got != want {
		t.Errorf("operations %s, want %s", got, want)
	}
}
