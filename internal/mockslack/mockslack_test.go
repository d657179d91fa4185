package mockslack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func setup(t *testing.T, cfg *Config) (*Server, *httptest.Server, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	c.Log = log
	if c.Now == nil {
		c.Now = func() time.Time { return fixedNow }
	}
	mock, err := New(&c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	return mock, srv, log
}

func do(t *testing.T, method, url, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestWebhookRecordsPrintsListsAndResets(t *testing.T) {
	t.Parallel()
	mock, srv, log := setup(t, nil)

	err := slack.PostWebhookContext(t.Context(), srv.URL+WebhookPath, &slack.WebhookMessage{Text: "ticket 1 breached response SLA", Channel: "#support"})
	if err != nil {
		t.Fatalf("slack-go PostWebhook: %v", err)
	}
	resp, body := do(t, http.MethodPost, srv.URL+"/services/T1/B2/other", "application/json", `{"blocks":[{"type":"section"}]}`)
	if resp.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("webhook answered %d %q, want 200 ok", resp.StatusCode, body)
	}

	resp, body = do(t, http.MethodGet, srv.URL+"/messages", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /messages: %d", resp.StatusCode)
	}
	var got []Message
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("GET /messages body %q: %v", body, err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d messages, want 2: %s", len(got), body)
	}
	if got[0].Seq != 1 || got[0].Kind != KindWebhook || got[0].Path != WebhookPath ||
		got[0].Text != "ticket 1 breached response SLA" || got[0].Channel != "#support" || !got[0].ReceivedAt.Equal(fixedNow) {
		t.Errorf("first message = %+v", got[0])
	}
	if got[1].Seq != 2 || got[1].Path != "/services/T1/B2/other" || string(got[1].Payload) != `{"blocks":[{"type":"section"}]}` {
		t.Errorf("second message = %+v payload %s", got[1], got[1].Payload)
	}

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log has %d lines, want one per message:\n%s", len(lines), log.String())
	}
	var logged Message
	if err := json.Unmarshal([]byte(lines[0]), &logged); err != nil || logged.Text != got[0].Text {
		t.Errorf("log line %q: %v, text %q", lines[0], err, logged.Text)
	}

	resp, body = do(t, http.MethodDelete, srv.URL+"/messages", "", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"deleted":2`) {
		t.Fatalf("DELETE /messages: %d %s", resp.StatusCode, body)
	}
	if n := len(mock.Messages()); n != 0 {
		t.Fatalf("%d messages after reset", n)
	}
	_, body = do(t, http.MethodGet, srv.URL+"/messages", "", "")
	if strings.TrimSpace(body) != "[]" {
		t.Errorf("GET /messages after reset = %q, want []", body)
	}
	// Sequence numbers keep counting across a reset.
	if err := slack.PostWebhookContext(t.Context(), srv.URL+WebhookPath, &slack.WebhookMessage{Text: "again"}); err != nil {
		t.Fatal(err)
	}
	if m := mock.Messages(); len(m) != 1 || m[0].Seq != 3 {
		t.Errorf("after reset got %+v, want one message with seq 3", m)
	}
}

func TestPostMessageWithSlackGo(t *testing.T) {
	t.Parallel()
	const token = "xoxb-secret-token-123"
	mock, srv, log := setup(t, &Config{Token: token})

	api := slack.New(token, slack.OptionAPIURL(srv.URL+"/api/"))
	channel, ts, err := api.PostMessageContext(t.Context(), "C0123", slack.MsgOptionText("ticket 7 alert", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*ticket 7*", false, false), nil, nil)))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if channel != "C0123" || ts == "" {
		t.Errorf("PostMessage = (%q, %q), want channel C0123 and a ts", channel, ts)
	}
	msgs := mock.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Kind != KindPostMessage || m.Channel != "C0123" || m.Text != "ticket 7 alert" {
		t.Errorf("message = %+v", m)
	}
	var payload map[string]any
	if err := json.Unmarshal(m.Payload, &payload); err != nil {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	if blocks, ok := payload["blocks"].([]any); !ok || len(blocks) != 1 {
		t.Errorf("blocks not decoded as JSON: %s", m.Payload)
	}
	if strings.Contains(string(m.Payload), token) || strings.Contains(log.String(), token) {
		t.Errorf("token leaked into the record or log: %s / %s", m.Payload, log.String())
	}

	// A wrong token is a permanent Slack error, not an HTTP failure.
	_, _, err = slack.New("xoxb-wrong", slack.OptionAPIURL(srv.URL+"/api/")).PostMessageContext(t.Context(), "C0123", slack.MsgOptionText("x", false))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("wrong token: err = %v, want invalid_auth", err)
	}
	if n := len(mock.Messages()); n != 1 {
		t.Errorf("rejected message recorded: %d messages", n)
	}
}

func TestPostMessageErrors(t *testing.T) {
	t.Parallel()
	_, srv, _ := setup(t, nil)
	tests := []struct {
		name, contentType, auth, body, wantErr string
	}{
		{"no token", "application/x-www-form-urlencoded", "", "channel=C1&text=hi", "not_authed"},
		{"no channel", "application/x-www-form-urlencoded", "Bearer xoxb-1", "text=hi", "channel_not_found"},
		{"no text", "application/x-www-form-urlencoded", "Bearer xoxb-1", "channel=C1", "no_text"},
		{"bad json", "application/json", "Bearer xoxb-1", "{", "invalid_json"},
		{"bad form", "application/x-www-form-urlencoded", "Bearer xoxb-1", "%zz", "invalid_form_data"},
		{"json ok", "application/json; charset=utf-8", "Bearer xoxb-1", `{"channel":"C1","text":"hi"}`, ""},
		{"form token ok", "application/x-www-form-urlencoded", "", "token=xoxb-1&channel=C1&text=hi", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+PostMessagePath, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || out.OK != (tt.wantErr == "") || out.Error != tt.wantErr {
				t.Errorf("got %d %+v, want ok=%v error=%q", resp.StatusCode, out, tt.wantErr == "", tt.wantErr)
			}
		})
	}
}

func TestWebhookRejectsBadPayloads(t *testing.T) {
	t.Parallel()
	mock, srv, _ := setup(t, &Config{MaxBodyBytes: 64})
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"not json", "text=hi", http.StatusBadRequest, "invalid_payload"},
		{"array", `["hi"]`, http.StatusBadRequest, "invalid_payload"},
		{"null", `null`, http.StatusBadRequest, "invalid_payload"},
		{"no text", `{"channel":"#x"}`, http.StatusBadRequest, "no_text"},
		{"empty blocks", `{"blocks":[]}`, http.StatusBadRequest, "no_text"},
		{"too big", `{"text":"` + strings.Repeat("x", 100) + `"}`, http.StatusRequestEntityTooLarge, "request_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, http.MethodPost, srv.URL+WebhookPath, "application/json", tt.body)
			if resp.StatusCode != tt.status || body != tt.want {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
	t.Cleanup(func() {
		if n := len(mock.Messages()); n != 0 {
			t.Errorf("bad payloads recorded: %d messages", n)
		}
	})
}

func TestRateLimitWithRetryAfter(t *testing.T) {
	t.Parallel()
	mock, srv, _ := setup(t, &Config{Faults: Faults{FailFirst: 2, Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second}})

	for i := range 2 {
		err := slack.PostWebhookContext(t.Context(), srv.URL+WebhookPath, &slack.WebhookMessage{Text: "x"})
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) {
			t.Fatalf("attempt %d: err = %v, want *slack.RateLimitedError", i+1, err)
		}
		if rl.RetryAfter != 2*time.Second {
			t.Errorf("attempt %d: RetryAfter = %v, want 2s", i+1, rl.RetryAfter)
		}
	}
	if err := slack.PostWebhookContext(t.Context(), srv.URL+WebhookPath, &slack.WebhookMessage{Text: "x"}); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if got, want := mock.Stats(), (Stats{Requests: 3, Injected: 2, Accepted: 1}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	// chat.postMessage is limited by the same counter.
	if err := mock.SetFaults(Faults{FailFirst: 1, Status: http.StatusTooManyRequests}); err != nil {
		t.Fatal(err)
	}
	_, _, err := slack.New("xoxb-1", slack.OptionAPIURL(srv.URL+"/api/")).PostMessageContext(t.Context(), "C1", slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Errorf("postMessage err = %v, want rate limit with the default Retry-After of 1s", err)
	}
}

func TestServerErrorInjection(t *testing.T) {
	t.Parallel()
	_, srv, _ := setup(t, &Config{Faults: Faults{FailFirst: 1}})
	resp, body := do(t, http.MethodPost, srv.URL+WebhookPath, "application/json", `{"text":"x"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "" || body != "injected_failure" {
		t.Errorf("got %d Retry-After=%q %q, want 503 without Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Inspection endpoints never fail.
	if resp, _ := do(t, http.MethodGet, srv.URL+"/healthz", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	resp, _ = do(t, http.MethodPost, srv.URL+WebhookPath, "application/json", `{"text":"x"}`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("second request = %d, want 200", resp.StatusCode)
	}
}

func TestFailRate(t *testing.T) {
	t.Parallel()
	// A scripted random source: fails where the draw is below the rate.
	draws := []float64{0.1, 0.9, 0.29, 0.3, 0.5}
	var mu sync.Mutex
	next := func() float64 {
		mu.Lock()
		defer mu.Unlock()
		d := draws[0]
		draws = draws[1:]
		return d
	}
	_, srv, _ := setup(t, &Config{Faults: Faults{FailRate: 0.3, Status: http.StatusBadGateway, RetryAfter: 1500 * time.Millisecond}, Rand: next})
	var got []int
	for range 5 {
		resp, _ := do(t, http.MethodPost, srv.URL+WebhookPath, "application/json", `{"text":"x"}`)
		got = append(got, resp.StatusCode)
		if resp.StatusCode == http.StatusBadGateway && resp.Header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After = %q, want 1.5s rounded up to 2", resp.Header.Get("Retry-After"))
		}
	}
	want := []int{502, 200, 502, 200, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", got, want)
		}
	}
}

func TestFaultsEndpoint(t *testing.T) {
	t.Parallel()
	mock, srv, _ := setup(t, nil)
	resp, body := do(t, http.MethodPut, srv.URL+"/faults", "application/json", `{"fail_first":1,"status":429,"retry_after_seconds":3}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /faults: %d %s", resp.StatusCode, body)
	}
	if f := mock.Faults(); f.FailFirst != 1 || f.Status != 429 || f.RetryAfter != 3*time.Second {
		t.Errorf("Faults = %+v", f)
	}
	resp, _ = do(t, http.MethodPost, srv.URL+WebhookPath, "application/json", `{"text":"x"}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("after PUT: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, bad := range []string{`{"fail_rate":2}`, `{"status":200}`, `{"fail_first":-1}`, `{"retry_after_seconds":-1}`, `{"nope":1}`, `[`} {
		resp, body := do(t, http.MethodPut, srv.URL+"/faults", "application/json", bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "error") {
			t.Errorf("PUT /faults %s = %d %s, want 400 with an error", bad, resp.StatusCode, body)
		}
	}
	if f := mock.Faults(); f.Status != 429 {
		t.Errorf("a rejected PUT changed the faults: %+v", f)
	}
	_, body = do(t, http.MethodGet, srv.URL+"/stats", "", "")
	if !strings.Contains(body, `"injected":1`) {
		t.Errorf("GET /stats = %s", body)
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	_, srv, _ := setup(t, nil)
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/healthz", 200},
		{http.MethodPost, "/healthz", 405},
		{http.MethodPost, "/messages", 405},
		{http.MethodGet, WebhookPath, 405},
		{http.MethodPost, "/api/users.list", 404},
		{http.MethodDelete, "/faults", 405},
		{http.MethodPost, "/stats", 405},
	}
	for _, tt := range tests {
		resp, body := do(t, tt.method, srv.URL+tt.path, "", "")
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.status)
		}
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	mock, srv, _ := setup(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := mock.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on an empty mock = %v, want deadline exceeded", err)
	}
	done := make(chan []Message, 1)
	go func() {
		msgs, err := mock.Wait(t.Context(), 2)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		done <- msgs
	}()
	for _, text := range []string{"a", "b"} {
		if err := slack.PostWebhookContext(t.Context(), srv.URL+WebhookPath, &slack.WebhookMessage{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := <-done
	if len(msgs) != 2 || msgs[0].Text != "a" || msgs[1].Text != "b" {
		t.Errorf("Wait returned %+v", msgs)
	}
}

func TestConcurrentPosts(t *testing.T) {
	t.Parallel()
	mock, srv, log := setup(t, nil)
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := slack.PostWebhookContext(t.Context(), srv.URL+WebhookPath, &slack.WebhookMessage{Text: "x"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	msgs := mock.Messages()
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m.Seq != i+1 {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
	}
	if lines := strings.Count(log.String(), "\n"); lines != n {
		t.Errorf("%d log lines, want %d", lines, n)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for _, f := range []Faults{{FailRate: -0.1}, {FailRate: 1.1}, {Status: 302}, {FailFirst: -1}, {RetryAfter: -time.Second}} {
		if _, err := New(&Config{Faults: f}); err == nil {
			t.Errorf("New accepted faults %+v", f)
		}
	}
	if _, err := New(&Config{MaxBodyBytes: -1}); err == nil {
		t.Error("New accepted a negative MaxBodyBytes")
	}
	if _, err := New(nil); err != nil {
		t.Errorf("New(nil) = %v", err)
	}
}

func TestCompactKeepsCompactBodiesAndRewritesOthers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"text":"a b","n":[1,2]}`, `{"text":"a b","n":[1,2]}`},
		{`{"text":"quote \" and space","x":{}}`, `{"text":"quote \" and space","x":{}}`},
		{"{\n  \"text\": \"a b\",\n  \"n\": [1, 2]\n}", `{"text":"a b","n":[1,2]}`},
		{`{"text":"back\\slash" , "y":1}`, `{"text":"back\\slash","y":1}`},
	} {
		if got := string(compact([]byte(c.in))); got != c.want {
			t.Errorf("compact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAttachmentsAreCountedAndAwaited(t *testing.T) {
	mock, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan []Message, 1)
	go func() {
		msgs, err := mock.WaitAttachments(ctx, 4)
		if err != nil {
			t.Error(err)
		}
		done <- msgs
	}()
	for _, body := range []string{
		`{"text":"3 SLA alerts","attachments":[{"title":"a"},{"title":"b"},{"title":"c"}]}`,
		`{"text":"plain text, no attachment"}`,
		`{"attachments":[{"title":"d"}]}`,
	} {
		if resp, got := do(t, http.MethodPost, srv.URL+WebhookPath, "application/json", body); resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d %q", resp.StatusCode, got)
		}
	}
	msgs := <-done
	if len(msgs) != 3 || msgs[0].Attachments != 3 || msgs[1].Attachments != 0 || msgs[2].Attachments != 1 {
		t.Fatalf("messages %+v, want 3 with 3, 0 and 1 attachments", msgs)
	}
	fields, err := msgs[0].AttachmentFields()
	if err != nil || len(fields) != 3 || fields[1]["title"] != "" {
		t.Errorf("AttachmentFields of the first message = %v, %v; want three attachments without fields", fields, err)
	}
	withFields := Message{Payload: json.RawMessage(`{"attachments":[{"fields":[{"title":"Ticket","value":"T-1"},{"title":"State","value":"BREACH"}]},{"fields":[]}]}`)}
	if fields, err := withFields.AttachmentFields(); err != nil || len(fields) != 2 || fields[0]["Ticket"] != "T-1" || fields[0]["State"] != "BREACH" || len(fields[1]) != 0 {
		t.Errorf("AttachmentFields = %v, %v", fields, err)
	}
	if _, err := (Message{Payload: json.RawMessage(`not json`)}).AttachmentFields(); err == nil {
		t.Error("AttachmentFields of a payload that is not JSON: no error")
	}
	if n := mock.AttachmentCount(); n != 4 {
		t.Errorf("AttachmentCount = %d, want 4", n)
	}
	mock.Reset()
	if n := mock.AttachmentCount(); n != 0 {
		t.Errorf("AttachmentCount after Reset = %d, want 0", n)
	}
}

// TestIsCompactAgreesWithCompact holds the fast check to its meaning: a
// valid JSON document is compact exactly when json.Compact leaves it as it
// is.
func TestIsCompactAgreesWithCompact(t *testing.T) {
	for _, in := range []string{
		`{}`, `{"a":1}`, `{ "a":1}`, `{"a":"x y"}`, `{"a":"x\"y","b":[1,2]}`, `{"a":"\\","b":2}`,
		`{"a":"\\" ,"b":2}`, `{"a":"\\\"","b":[ 1]}`, "{\"a\":\"tab\\t\"}", "[1,\n2]", `"a b"`, `["\u0022 ", 1]`,
		`{"text":"quote \" and space","x":{}}`, `{"a":"é ü","b":"\\\\"}`, `  {"a":1}`, `{"a":1}  `,
	} {
		check(t, []byte(in))
	}
}

func FuzzIsCompact(f *testing.F) {
	f.Add([]byte(`{"a":"x\" y","b":[1, 2]}`))
	f.Add([]byte(`{"a":"\\","b":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if json.Valid(b) {
			check(t, b)
		}
	})
}

func check(t *testing.T, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	if want := bytes.Equal(buf.Bytes(), b); isCompact(b) != want {
		t.Errorf("isCompact(%q) = %v, want %v", b, !want, want)
	}
}

// TestWebhookDecodeAgreesWithEncodingJSON holds the webhook's faster parser
// to encoding/json: the same bodies taken, with the same fields.
func TestWebhookDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"text":"a","attachments":[{"title":"x"},{"fields":[{"title":"T","value":"1"}]}]}`,
		`{"text":"a"} {"text":"b"}`, `{"text":"a",}`, `{"text":"a"`, `{"text":1}`, `{"attachments":{}}`,
		`{"attachments":null,"blocks":[{"type":"section"}],"channel":"#x"}`, `{"TEXT":"upper"}`,
		`{"text":"a\u00e9\"b","attachments":[]}`, "{\"text\":\"bad \xff utf-8\"}", `{"text":"a","text":"b"}`,
		`{"attachments":[1,"two",null,{}]}`, `{"text":"a"}   `, `{"text":"\ud800"}`,
	} {
		var got, want webhookPayload
		gotErr, wantErr := got.decode([]byte(in)), json.Unmarshal([]byte(in), &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: decode error %v, encoding/json %v", in, gotErr, wantErr)
			continue
		}
		if gotErr == nil && !reflect.DeepEqual(normalise(got), normalise(want)) {
			t.Errorf("%s: decoded %+v, encoding/json %+v", in, got, want)
		}
	}
}

// normalise compacts the raw values so that two parsers' results compare.
func normalise(p webhookPayload) webhookPayload {
	c := func(r json.RawMessage) json.RawMessage {
		if r == nil {
			return nil
		}
		return compact(r)
	}
	out := webhookPayload{Text: c(p.Text), Channel: c(p.Channel), Blocks: c(p.Blocks)}
	for _, a := range p.Attachments {
		out.Attachments = append(out.Attachments, c(a))
	}
	return out
}
