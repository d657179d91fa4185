package api_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/internal/contract"
	"github.com/ticket-watchdog/watchdog/metrics"
	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
)

// GET /openapi.json serves the document without a token, and it validates
// as OpenAPI 3.
func TestOpenAPIDocumentServedAndValid(t *testing.T) {
	t.Parallel()
	e := setup(t, &api.Config{APIToken: "s3cret-token-value"})
	r := e.do(t, "GET", "/openapi.json", "")
	mustStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	want, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.body, want) {
		t.Error("GET /openapi.json differs from api.OpenAPI()")
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load the served document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid OpenAPI 3: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q, want 3.0.3", doc.OpenAPI)
	}
	// The JSON keeps the YAML source's order: the version comes first.
	if !bytes.HasPrefix(r.body, []byte("{\n  \"openapi\": \"3.0.3\",\n  \"info\"")) {
		t.Errorf("the document starts %.60q", r.body)
	}
}

// Each route the handler serves is an operation of the document and each
// operation a route (HTML pages under /ui/ excepted).
func TestRoutesMatchTheDocument(t *testing.T) {
	t.Parallel()
	m, err := metrics.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(nopService{}, &api.Config{Alerts: wshub.NewHub(nil), Metrics: m.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range h.Routes() {
		if !strings.HasPrefix(r, "GET /ui/") {
			served = append(served, r)
		}
	}
	slices.Sort(served)
	doc, err := contract.Document()
	if err != nil {
		t.Fatal(err)
	}
	documented := contract.Operations(doc)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is served but not in api/openapi.yaml", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in api/openapi.yaml but not served", r)
		}
	}
}

// nopService is a Service that is never called.
type nopService struct {
	api.Service
	api.Acknowledger
}

// seedAlert is an alert of GET /tickets/{id} as the seed's clients read it:
// the seed's four keys, details an object.
type seedAlert struct {
	SLAType   string         `json:"sla_type"`
	State     string         `json:"state"`
	CreatedAt time.Time      `json:"created_at"`
	Details   map[string]any `json:"details"`
}

// The seed's alert payload shape holds: details is an object with
// elapsed_minutes, target_minutes and percent_used (the business minutes
// at the stage's due instant and their ratio), plus today's message.
func TestTicketAlertDetailsInTheSeedsShape(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	mustStatus(t, e.do(t, "POST", "/tickets", seedExample), http.StatusOK)
	if _, err := e.eng.Hooks().EvaluateDue(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/tickets/1", "")
	mustStatus(t, r, http.StatusOK)
	got := decode[struct {
		Alerts []seedAlert `json:"alerts"`
	}](t, r.body).Alerts
	want := []struct {
		sla, state                string
		elapsed, target, fraction float64
		message                   string
	}{
		{"response", "alert", 25.5, 30, 0.85, "Response SLA at 85% of its 30m target"},
		{"response", "breach", 30, 30, 1, "Response SLA breached: 30m target reached"},
		{"resolution", "alert", 153, 180, 0.85, "Resolution SLA at 85% of its 3h target"},
		{"resolution", "breach", 180, 180, 1, "Resolution SLA breached: 3h target reached"},
	}
	if len(got) != len(want) {
		t.Fatalf("alerts %s; want %d", r.body, len(want))
	}
	for i, w := range want {
		a := got[i]
		wantDetails := map[string]any{"elapsed_minutes": w.elapsed, "target_minutes": w.target, "percent_used": w.fraction, "message": w.message}
		if a.SLAType != w.sla || a.State != w.state || a.CreatedAt.IsZero() || !equalJSON(a.Details, wantDetails) {
			t.Errorf("alert %d = %+v; want %s %s with details %v", i, a, w.sla, w.state, wantDetails)
		}
	}
}

// equalJSON compares decoded JSON objects.
func equalJSON(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// Without a hub or metrics the documented routes answer the documented
// 404, with the error body.
func TestUnconfiguredRoutesAnswerNotServed(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	for _, path := range []string{"/metrics", "/ws/alerts"} {
		r := e.do(t, "GET", path, "")
		mustStatus(t, r, http.StatusNotFound)
		if eb := decode[errorBody](t, r.body); eb.Error == "" {
			t.Errorf("%s: no error message: %s", path, r.body)
		}
	}
}
