// Package contract checks real HTTP traffic against the API's OpenAPI
// document (api/openapi.yaml), for tests: a Checker wraps the real handler,
// validates each request and each response with kin-openapi's
// openapi3filter, and reports whatever the document does not describe — a
// status an operation does not list, a body or a required header that does
// not match, a path or method outside the document answered with anything
// but the documented 404 or 405 error, or a request the document calls
// invalid answered as a success. The api and server tests serve every
// handler through one, so a handler and its contract cannot drift apart.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/ticket-watchdog/watchdog/api"
)

// document loads and validates the served document once per test binary.
var document = sync.OnceValues(func() (*openapi3.T, error) {
	b, err := api.OpenAPI()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("contract: load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contract: the OpenAPI document is invalid: %w", err)
	}
	return doc, nil
})

// Document returns the API's OpenAPI document, loaded from what GET
// /openapi.json serves and validated as OpenAPI 3.
func Document() (*openapi3.T, error) { return document() }

// Operations lists the document's operations as ServeMux patterns, such as
// "GET /tickets/{id}", sorted.
func Operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// CheckSchema validates a JSON value against one of the document's
// component schemas, such as a /ws/alerts message against "AlertMessage".
func CheckSchema(name string, raw []byte) error {
	doc, err := document()
	if err != nil {
		return err
	}
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("contract: no schema %q in the document", name)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("contract: %s: not JSON: %w", name, err)
	}
	if err := ref.Value.VisitJSON(v); err != nil {
		return fmt.Errorf("contract: %s: %w", name, err)
	}
	return nil
}

// Checker validates traffic against the document and keeps the failures.
// It is safe for concurrent use.
type Checker struct {
	doc *openapi3.T

	mu       sync.Mutex
	failures []string
	checked  int
}

// New returns a Checker over the API's document; it fails tb when the
// document does not load.
func New(tb testing.TB) *Checker {
	tb.Helper()
	doc, err := document()
	if err != nil {
		tb.Fatal(err)
	}
	return &Checker{doc: doc}
}

// Serve serves h through a new Checker on a real loopback listener until
// the test ends, then fails tb with every request or response the document
// does not describe.
func Serve(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	c := New(tb)
	tb.Cleanup(func() { c.Report(tb) }) // runs after the server has closed
	srv := httptest.NewServer(c.Wrap(h))
	tb.Cleanup(srv.Close)
	return srv
}

// Report fails tb with the failures so far, and forgets them.
func (c *Checker) Report(tb testing.TB) {
	tb.Helper()
	for _, f := range c.Take() {
		tb.Errorf("contract: %s", f)
	}
}

// Take returns the failures so far and forgets them.
func (c *Checker) Take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.failures
	c.failures = nil
	return f
}

// Checked reports how many exchanges the checker has seen.
func (c *Checker) Checked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checked
}

func (c *Checker) fail(r *http.Request, status int, format string, args ...any) {
	msg := fmt.Sprintf("%s %s → %d: ", r.Method, r.URL.RequestURI(), status) + fmt.Sprintf(format, args...)
	c.mu.Lock()
	c.failures = append(c.failures, msg)
	c.mu.Unlock()
}

// Wrap returns h with every exchange checked.
func (c *Checker) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "contract: reading the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		in, reqErr := c.validateRequest(r, body)
		rec := &recorder{ResponseWriter: w}
		// A WebSocket's handler runs as long as the connection: its 101 is
		// checked when written.
		rec.switched = func() { c.checkResponse(r, in, reqErr, rec) }
		h.ServeHTTP(rec, r)
		if rec.upgraded() || r.Context().Err() != nil {
			return // checked already, or the client went away and read nothing
		}
		c.checkResponse(r, in, reqErr, rec)
	})
}

// validateRequest finds r's operation and validates r against it. in is
// nil when the document has no operation for r; then reqErr says why.
func (c *Checker) validateRequest(r *http.Request, body []byte) (in *openapi3filter.RequestValidationInput, reqErr error) {
	route, params, err := c.findRoute(r)
	if err != nil {
		return nil, err
	}
	vr := r.Clone(r.Context())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	if isJSONSuffix(vr.Header.Get("Content-Type")) {
		// The API takes any application/*+json as JSON; the document
		// lists application/json.
		vr.Header.Set("Content-Type", "application/json")
	}
	in = &openapi3filter.RequestValidationInput{
		Request:    vr,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	return in, openapi3filter.ValidateRequest(r.Context(), in)
}

// isJSONSuffix reports a structured-syntax JSON type other than
// application/json itself.
func isJSONSuffix(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// errMethod reports a path the document has, asked with a method it lacks.
var errMethod = errors.New("method not in the document")

// findRoute matches r against the document's path templates, segment by
// segment as ServeMux does.
func (c *Checker) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // ServeMux serves HEAD with the GET route
	}
	segs := strings.Split(r.URL.EscapedPath(), "/")
	for path, item := range c.doc.Paths.Map() {
		params, ok := matchPath(path, segs)
		if !ok {
			continue
		}
		op := item.GetOperation(method)
		if op == nil {
			return nil, nil, errMethod
		}
		return &routers.Route{Spec: c.doc, Path: path, PathItem: item, Method: method, Operation: op}, params, nil
	}
	return nil, nil, routers.ErrPathNotFound
}

func matchPath(template string, segs []string) (map[string]string, bool) {
	tsegs := strings.Split(template, "/")
	if len(tsegs) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, t := range tsegs {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[t[1:len(t)-1]] = v
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// checkResponse validates the answer rec recorded for r.
func (c *Checker) checkResponse(r *http.Request, in *openapi3filter.RequestValidationInput, reqErr error, rec *recorder) {
	c.mu.Lock()
	c.checked++
	c.mu.Unlock()
	status, header, body := rec.result()
	if in == nil {
		c.checkUnrouted(r, reqErr, status, header, body)
		return
	}
	if reqErr != nil && status < 400 {
		c.fail(r, status, "the document calls the request invalid, yet it succeeded: %v", reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                in.Options,
	}
	if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
		c.fail(r, status, "%v\nbody: %s", err, clip(body))
	}
}

// checkUnrouted checks the answer to a request outside the document: a
// path it lacks is 404, a method it lacks 405 with Allow, each with the
// documented error body; or 421 for a host the server does not answer.
func (c *Checker) checkUnrouted(r *http.Request, why error, status int, header http.Header, body []byte) {
	want := http.StatusNotFound
	if errors.Is(why, errMethod) {
		want = http.StatusMethodNotAllowed
	}
	switch {
	case status == http.StatusMisdirectedRequest:
	case status != want:
		c.fail(r, status, "outside the document (%v): want %d", why, want)
		return
	case status == http.StatusMethodNotAllowed && header.Get("Allow") == "":
		c.fail(r, status, "405 without an Allow header")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		c.fail(r, status, "error body is not JSON: %s", clip(body))
		return
	}
	if err := c.doc.Components.Schemas["Error"].Value.VisitJSON(v); err != nil {
		c.fail(r, status, "error body does not match components.schemas.Error: %v\nbody: %s", err, clip(body))
	}
	if header.Get("X-Request-ID") == "" {
		c.fail(r, status, "no X-Request-ID")
	}
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// recorder passes a response through while keeping its status, headers
// (as they were when written: a hijacked WebSocket's 101 included) and
// body.
type recorder struct {
	http.ResponseWriter
	switched func() // called on a 101, before it is sent

	mu     sync.Mutex
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.mu.Lock()
	first := r.status == 0
	if first {
		r.status, r.header = code, r.ResponseWriter.Header().Clone()
	}
	r.mu.Unlock()
	if first && code == http.StatusSwitchingProtocols {
		r.switched()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) upgraded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status == http.StatusSwitchingProtocols
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	if r.status == 0 {
		r.status, r.header = http.StatusOK, r.ResponseWriter.Header().Clone()
	}
	r.body.Write(b)
	r.mu.Unlock()
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (flushes, deadlines, the WebSocket's
// hijack) reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) result() (int, http.Header, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status == 0 {
		return http.StatusOK, r.ResponseWriter.Header().Clone(), nil
	}
	return r.status, r.header, bytes.Clone(r.body.Bytes())
}
