package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/notifytest"
)

const (
	webhookPath = "/services/T0000/B0000/s3cr3tW3bh00kPath"
	botToken    = "xoxb-1234-5678-s3cr3tT0k3n"
)

var testNow = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

func testAlert() watchdog.Alert {
	return watchdog.Alert{
		ID:              11,
		TicketID:        "T-42",
		SLAClock:        watchdog.Resolution,
		Stage:           watchdog.StageBreach,
		State:           "breach",
		DueAt:           time.Date(2026, 3, 2, 15, 0, 0, 0, time.FixedZone("EST", -5*3600)),
		FiredAt:         testNow,
		EscalationLevel: 2,
		Priority:        "high",
		CustomerTier:    "gold",
		Target:          3 * time.Hour,
		Elapsed:         2*time.Hour + 33*time.Minute,
		Message:         "Resolution SLA breached: 3h target reached",
	}
}

// reply is what a fake Slack answers.
type reply struct {
	status int
	header map[string]string
	body   string
	// hang makes the server wait until the client gives up.
	hang bool
}

// fakeSlack is an httptest server that records request bodies and answers
// with rep.
type fakeSlack struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	// arrived receives once per request, after its body is recorded.
	arrived chan struct{}
}

func newFakeSlack(t *testing.T, rep reply) *fakeSlack {
	t.Helper()
	f := &fakeSlack{arrived: make(chan struct{}, 16)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
		f.arrived <- struct{}{}
		if rep.hang {
			<-r.Context().Done()
			return
		}
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		status := rep.status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) body(i int) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[i]
}

func (f *fakeSlack) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// closedAddr returns the address of a listener that has been closed, so
// connecting to it is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// timeoutFor gives a short attempt timeout to cases where the server hangs
// and the default to the rest, so that a loaded machine cannot turn an answer
// into a timeout.
func timeoutFor(rep reply) time.Duration {
	if rep.hang {
		return 50 * time.Millisecond
	}
	return 0
}

// outcome is the expected result of one Deliver.
type outcome struct {
	wantErr   bool
	wantRetry bool
	// wantAfter is the RetryAfterError wait; -1 means no RetryAfterError.
	wantAfter time.Duration
	// throttled is the RetryAfterError's Throttled: a 429, whose attempt
	// does not count.
	throttled bool
	wantCode  string
	wantInMsg string
}

func checkOutcome(t *testing.T, retry bool, err error, want outcome, secrets ...string) {
	t.Helper()
	notifytest.AssertNoSecret(t, err, secrets...)
	if (err != nil) != want.wantErr || retry != want.wantRetry {
		t.Fatalf("Deliver = (%v, %v), want retry %v, error %v", retry, err, want.wantRetry, want.wantErr)
	}
	if err == nil {
		return
	}
	rae, isRA := errors.AsType[*watchdog.RetryAfterError](err)
	switch {
	case want.wantAfter < 0 && isRA:
		t.Errorf("error %v is a RetryAfterError, want none", err)
	case want.wantAfter >= 0 && !isRA:
		t.Errorf("error %v is not a RetryAfterError", err)
	case want.wantAfter >= 0 && rae.After != want.wantAfter:
		t.Errorf("After = %v, want %v", rae.After, want.wantAfter)
	case want.wantAfter >= 0 && rae.Throttled != want.throttled:
		t.Errorf("Throttled = %v, want %v", rae.Throttled, want.throttled)
	}
	de, ok := errors.AsType[*DeliveryError](err)
	if !ok {
		t.Fatalf("error %T %v is not a *DeliveryError", err, err)
	}
	if de.Code != want.wantCode {
		t.Errorf("Code = %q, want %q", de.Code, want.wantCode)
	}
	if de.Retryable != want.wantRetry {
		t.Errorf("Retryable = %v, want %v", de.Retryable, want.wantRetry)
	}
	if !strings.Contains(err.Error(), want.wantInMsg) {
		t.Errorf("error %q does not contain %q", err, want.wantInMsg)
	}
}

func permanentErr(code, msg string) outcome {
	return outcome{wantErr: true, wantAfter: -1, wantCode: code, wantInMsg: msg}
}

func retryErr(code, msg string) outcome {
	return outcome{wantErr: true, wantRetry: true, wantAfter: -1, wantCode: code, wantInMsg: msg}
}

// waitErr is a retryable failure in which Slack asked for a wait (429 or
// 503): a RetryAfterError that pauses the destination, after for after (0:
// none named), throttled for a rate limit.
func waitErr(code, msg string, after time.Duration, throttled bool) outcome {
	return outcome{wantErr: true, wantRetry: true, wantAfter: after, throttled: throttled, wantCode: code, wantInMsg: msg}
}

func TestWebhookStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rep  reply
		want outcome
	}{
		{"200 ok", reply{body: "ok"}, outcome{}},
		{"400 invalid_payload", reply{status: 400, body: "invalid_payload"}, permanentErr("invalid_payload", "HTTP 400: invalid_payload")},
		{"400 invalid_token", reply{status: 400, body: "invalid_token"}, permanentErr("invalid_token", "HTTP 400: invalid_token")},
		{"400 channel_not_found", reply{status: 400, body: "channel_not_found"}, permanentErr("channel_not_found", "HTTP 400: channel_not_found")},
		{"400 no_service", reply{status: 400, body: "no_service"}, permanentErr("no_service", "HTTP 400: no_service")},
		{"400 invalid_auth", reply{status: 400, body: "invalid_auth"}, permanentErr("invalid_auth", "HTTP 400")},
		{"400 no_text", reply{status: 400, body: "no_text"}, permanentErr("no_text", "HTTP 400: no_text")},
		{"403 action_prohibited", reply{status: 403, body: "action_prohibited"}, permanentErr("action_prohibited", "HTTP 403")},
		{"403 invalid_token", reply{status: 403, body: "invalid_token"}, permanentErr("invalid_token", "HTTP 403")},
		{"404 channel_not_found", reply{status: 404, body: "channel_not_found"}, permanentErr("channel_not_found", "HTTP 404: channel_not_found")},
		{"404 no_service", reply{status: 404, body: "no_service"}, permanentErr("no_service", "HTTP 404: no_service")},
		{"410 channel_is_archived", reply{status: 410, body: "channel_is_archived"}, permanentErr("channel_is_archived", "HTTP 410")},
		{"410 no_service", reply{status: 410, body: "no_service"}, permanentErr("no_service", "HTTP 410")},
		{"404 html body has no code", reply{status: 404, body: "<html>Not found</html>"}, permanentErr("", "HTTP 404")},
		{
			"429 retry-after seconds",
			reply{status: 429, header: map[string]string{"Retry-After": "30"}, body: "rate_limited"},
			waitErr("rate_limited", "HTTP 429", 30*time.Second, true),
		},
		{
			"429 retry-after date",
			reply{status: 429, header: map[string]string{"Retry-After": testNow.Add(90 * time.Second).Format(http.TimeFormat)}},
			waitErr("", "HTTP 429", 90*time.Second, true),
		},
		{"429 without retry-after", reply{status: 429}, waitErr("", "HTTP 429", 0, true)},
		{"500", reply{status: 500, body: "internal_error"}, retryErr("internal_error", "HTTP 500")},
		{"502", reply{status: 502, body: "<html>bad gateway</html>"}, retryErr("", "HTTP 502")},
		{"503", reply{status: 503}, waitErr("", "HTTP 503", 0, false)},
		{"504", reply{status: 504}, retryErr("", "HTTP 504")},
		{"timeout", reply{hang: true}, retryErr("", "timed out after 50ms")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeSlack(t, tt.rep)
			hook := srv.URL + webhookPath
			n, err := NewWebhook(hook, &Config{Timeout: timeoutFor(tt.rep)})
			if err != nil {
				t.Fatal(err)
			}
			n.now = func() time.Time { return testNow }
			retry, err := n.Deliver(t.Context(), testAlert())
			checkOutcome(t, retry, err, tt.want, hook, webhookPath, "s3cr3tW3bh00kPath")
			if got := srv.requests(); got != 1 {
				t.Errorf("server got %d requests, want exactly 1 attempt", got)
			}
		})
	}
}

func TestWebhookConnectionRefused(t *testing.T) {
	t.Parallel()
	hook := "http://" + closedAddr(t) + webhookPath
	n, err := NewWebhook(hook, nil)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Deliver(t.Context(), testAlert())
	checkOutcome(t, retry, err, retryErr("", "POST failed"), hook, webhookPath, "s3cr3tW3bh00kPath")
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q does not say the connection was refused", err)
	}
	if _, ok := errors.AsType[*net.OpError](err); !ok {
		t.Errorf("error %v does not wrap the *net.OpError", err)
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		t.Errorf("error %v still wraps the *url.Error, which quotes the URL", err)
	}
}

func TestDeliverCallerCancelled(t *testing.T) {
	t.Parallel()
	srv := newFakeSlack(t, reply{hang: true})
	hook := srv.URL + webhookPath
	n, err := NewWebhook(hook, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once the request is in flight.
		<-srv.arrived
		cancel()
	}()
	retry, err := n.Deliver(ctx, testAlert())
	checkOutcome(t, retry, err, retryErr("", "cancelled"), hook, webhookPath)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

func TestWebhookMessage(t *testing.T) {
	t.Parallel()
	srv := newFakeSlack(t, reply{body: "ok"})
	n, err := NewWebhook(srv.URL+webhookPath, &Config{
		Username: "watchdog", IconEmoji: ":rotating_light:",
		DashboardURL: "https://watchdog.example.com/",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		stage, state, wantColor, wantLabel string
	}{
		{watchdog.StageAlert, "alert", "warning", "ALERT"},
		{watchdog.StageBreach, "breach", "danger", "BREACH"},
		{watchdog.EscalationStageName(2), "breach", "#8B0000", "ESCALATION 2"},
	}
	for i, tt := range tests {
		a := testAlert()
		a.Stage, a.State = tt.stage, tt.state
		if retry, err := n.Deliver(t.Context(), a); retry || err != nil {
			t.Fatalf("Deliver = (%v, %v)", retry, err)
		}
		var msg slack.WebhookMessage
		if err := json.Unmarshal(srv.body(i), &msg); err != nil {
			t.Fatalf("decoding webhook body: %v", err)
		}
		if msg.Username != "watchdog" || msg.IconEmoji != ":rotating_light:" {
			t.Errorf("username, icon = %q, %q", msg.Username, msg.IconEmoji)
		}
		for _, want := range []string{tt.wantLabel, "T-42", "resolution", "gold/high", "escalation level 2", "3h target reached"} {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("%s: text %q does not contain %q", tt.stage, msg.Text, want)
			}
		}
		if len(msg.Attachments) != 1 {
			t.Fatalf("%d attachments, want 1", len(msg.Attachments))
		}
		att := msg.Attachments[0]
		if att.Color != tt.wantColor {
			t.Errorf("%s: color %q, want %q", tt.stage, att.Color, tt.wantColor)
		}
		if att.TitleLink != "https://watchdog.example.com/tickets/T-42" {
			t.Errorf("title_link %q", att.TitleLink)
		}
		if att.Fallback == "" || string(att.Ts) != "1772463845" {
			t.Errorf("fallback %q, ts %q", att.Fallback, att.Ts)
		}
		fields := map[string]string{}
		for _, f := range att.Fields {
			fields[f.Title] = f.Value
		}
		want := map[string]string{
			"Ticket":           "T-42",
			"State":            tt.wantLabel,
			"Customer tier":    "gold",
			"Priority":         "high",
			"SLA":              "resolution",
			"Escalation level": "2",
			"Elapsed":          "2h 33m of 3h",
			"Due":              "2026-03-02T20:00:00Z",
			"Details":          "Resolution SLA breached: 3h target reached",
		}
		for k, v := range want {
			if fields[k] != v {
				t.Errorf("%s: field %q = %q, want %q", tt.stage, k, fields[k], v)
			}
		}
	}
}

func TestMessageEscapesUserText(t *testing.T) {
	t.Parallel()
	a := testAlert()
	a.TicketID = "<!channel> & co"
	a.Message = "<https://evil.example|click>"
	m := buildMessage(a, Config{DashboardURL: "https://d.example/t/{id}/view"})
	for _, s := range []string{m.text, m.attachment.Fields[0].Value} {
		if strings.ContainsAny(s, "<>") {
			t.Errorf("%q is not escaped", s)
		}
	}
	if !strings.Contains(m.text, "&lt;!channel&gt; &amp; co") {
		t.Errorf("text %q", m.text)
	}
	if m.attachment.TitleLink != "https://d.example/t/%3C%21channel%3E%20&%20co/view" {
		t.Errorf("title_link %q", m.attachment.TitleLink)
	}
}

// A cycle alert names its policy and cycle, once each; the policy, a name
// from the SLA file, is escaped like the ticket's texts; other alerts have
// no cycle field.
func TestMessagePolicyAndCycle(t *testing.T) {
	t.Parallel()
	a := testAlert()
	started := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	a.SLAClock, a.Policy, a.Cycle, a.CycleStartedAt = watchdog.NextReply, "vip <b>", 4, &started
	fields := map[string]string{}
	for _, f := range buildMessage(a, Config{}).attachment.Fields {
		if _, twice := fields[f.Title]; twice {
			t.Errorf("field %q is in the attachment twice", f.Title)
		}
		fields[f.Title] = f.Value
	}
	if fields["Policy"] != "vip &lt;b&gt;" || fields["Cycle"] != "4, since 2026-03-02T14:00:00Z" || fields["SLA"] != "next_reply" {
		t.Errorf("fields %v", fields)
	}
	for _, f := range buildMessage(testAlert(), Config{}).attachment.Fields {
		if f.Title == "Cycle" || f.Title == "Policy" {
			t.Errorf("an alert without policy or cycle has field %q", f.Title)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{400 * time.Millisecond, "0s"},
		{1500 * time.Millisecond, "2s"},
		{25*time.Minute + 30*time.Second, "25m 30s"},
		{3 * time.Hour, "3h"},
		{2*time.Hour + 33*time.Minute, "2h 33m"},
		{26*time.Hour + 5*time.Second, "1d 2h 5s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestBotStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rep  reply
		want outcome
	}{
		{"ok", reply{body: `{"ok":true,"channel":"C1","ts":"1.2"}`}, outcome{}},
		{"HTTP 429", reply{status: 429, header: map[string]string{"Retry-After": "7"}}, waitErr("", "HTTP 429", 7*time.Second, true)},
		{"HTTP 429 date", reply{status: 429, header: map[string]string{"Retry-After": testNow.Add(time.Minute).Format(http.TimeFormat)}}, waitErr("", "HTTP 429", time.Minute, true)},
		{"ok:false ratelimited", reply{body: `{"ok":false,"error":"ratelimited"}`}, waitErr("ratelimited", "Slack error: ratelimited", 0, true)},
		{"ok:false ratelimited with retry-after", reply{header: map[string]string{"Retry-After": "3"}, body: `{"ok":false,"error":"ratelimited"}`}, waitErr("ratelimited", "ratelimited", 3*time.Second, true)},
		{"ok:false internal_error", reply{body: `{"ok":false,"error":"internal_error"}`}, retryErr("internal_error", "internal_error")},
		{"ok:false fatal_error", reply{body: `{"ok":false,"error":"fatal_error"}`}, retryErr("fatal_error", "fatal_error")},
		{"ok:false service_unavailable", reply{body: `{"ok":false,"error":"service_unavailable"}`}, retryErr("service_unavailable", "service_unavailable")},
		{"ok:false invalid_auth", reply{body: `{"ok":false,"error":"invalid_auth"}`}, permanentErr("invalid_auth", "Slack error: invalid_auth")},
		{"ok:false not_authed", reply{body: `{"ok":false,"error":"not_authed"}`}, permanentErr("not_authed", "not_authed")},
		{"ok:false account_inactive", reply{body: `{"ok":false,"error":"account_inactive"}`}, permanentErr("account_inactive", "account_inactive")},
		{"ok:false token_revoked", reply{body: `{"ok":false,"error":"token_revoked"}`}, permanentErr("token_revoked", "token_revoked")},
		// invalid_token and no_service are webhook codes that chat.postMessage
		// does not document (it says invalid_auth); any code not known to be
		// passing is permanent.
		{"ok:false invalid_token", reply{body: `{"ok":false,"error":"invalid_token"}`}, permanentErr("invalid_token", "Slack error: invalid_token")},
		{"ok:false channel_not_found", reply{body: `{"ok":false,"error":"channel_not_found"}`}, permanentErr("channel_not_found", "Slack error: channel_not_found")},
		{"ok:false no_service", reply{body: `{"ok":false,"error":"no_service"}`}, permanentErr("no_service", "Slack error: no_service")},
		{"ok:false is_archived", reply{body: `{"ok":false,"error":"is_archived"}`}, permanentErr("is_archived", "is_archived")},
		{"ok:false not_in_channel", reply{body: `{"ok":false,"error":"not_in_channel"}`}, permanentErr("not_in_channel", "not_in_channel")},
		{"ok:false msg_too_long", reply{body: `{"ok":false,"error":"msg_too_long"}`}, permanentErr("msg_too_long", "msg_too_long")},
		{"ok:false invalid_blocks", reply{body: `{"ok":false,"error":"invalid_blocks"}`}, permanentErr("invalid_blocks", "invalid_blocks")},
		// slack-go reports any status but 200 as a StatusCodeError without
		// reading the body; the code comes from the body the transport kept.
		{"HTTP 400 invalid_token", reply{status: 400, body: `{"ok":false,"error":"invalid_token"}`}, permanentErr("invalid_token", "HTTP 400: invalid_token")},
		{"HTTP 400 channel_not_found", reply{status: 400, body: `{"ok":false,"error":"channel_not_found"}`}, permanentErr("channel_not_found", "HTTP 400: channel_not_found")},
		{"HTTP 400 no_service", reply{status: 400, body: `{"ok":false,"error":"no_service"}`}, permanentErr("no_service", "HTTP 400: no_service")},
		{"HTTP 500", reply{status: 500}, retryErr("", "HTTP 500")},
		{"HTTP 503 json", reply{status: 503, body: `{"ok":false,"error":"service_unavailable"}`}, waitErr("service_unavailable", "HTTP 503: service_unavailable", 0, false)},
		{"HTTP 404", reply{status: 404, body: "not found"}, permanentErr("", "HTTP 404")},
		{"200 html", reply{body: "<html>proxy</html>"}, retryErr("", "unreadable response")},
		{"timeout", reply{hang: true}, retryErr("", "timed out")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeSlack(t, tt.rep)
			n, err := NewBot(botToken, "C0123", &Config{APIURL: srv.URL + "/api", Timeout: timeoutFor(tt.rep)})
			if err != nil {
				t.Fatal(err)
			}
			n.now = func() time.Time { return testNow }
			retry, err := n.Deliver(t.Context(), testAlert())
			checkOutcome(t, retry, err, tt.want, botToken, "s3cr3tT0k3n")
			if got := srv.requests(); got != 1 {
				t.Errorf("server got %d requests, want exactly 1 attempt", got)
			}
		})
	}
}

func TestBotConnectionRefused(t *testing.T) {
	t.Parallel()
	n, err := NewBot(botToken, "C0123", &Config{APIURL: "http://" + closedAddr(t) + "/api/"})
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Deliver(t.Context(), testAlert())
	checkOutcome(t, retry, err, retryErr("", "POST failed"), botToken, "s3cr3tT0k3n")
}

func TestBotMessage(t *testing.T) {
	t.Parallel()
	type request struct {
		path string
		form url.Values
	}
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- request{r.URL.Path, r.PostForm}
		io.WriteString(w, `{"ok":true,"channel":"C0123","ts":"1.2"}`)
	}))
	defer srv.Close()
	n, err := NewBot(botToken, "C0123", &Config{APIURL: srv.URL + "/api/", Username: "watchdog"})
	if err != nil {
		t.Fatal(err)
	}
	a := testAlert()
	a.Stage = watchdog.StageAlert
	a.State = "alert"
	a.Elapsed = 2*time.Hour + 33*time.Minute
	if retry, err := n.Deliver(t.Context(), a); retry || err != nil {
		t.Fatalf("Deliver = (%v, %v)", retry, err)
	}
	req := <-got
	gotPath, form := req.path, req.form
	if gotPath != "/api/chat.postMessage" {
		t.Errorf("path %q", gotPath)
	}
	if form.Get("token") != botToken || form.Get("channel") != "C0123" || form.Get("username") != "watchdog" {
		t.Errorf("token/channel/username not sent as expected: channel %q username %q", form.Get("channel"), form.Get("username"))
	}
	if !strings.HasPrefix(form.Get("text"), "ALERT: ticket T-42") {
		t.Errorf("text %q", form.Get("text"))
	}
	var atts []slack.Attachment
	if err := json.Unmarshal([]byte(form.Get("attachments")), &atts); err != nil {
		t.Fatalf("attachments: %v", err)
	}
	if len(atts) != 1 || atts[0].Color != "warning" || atts[0].Title != "ALERT: ticket T-42" {
		t.Fatalf("attachments %+v", atts)
	}
}

func TestConstructorsValidate(t *testing.T) {
	t.Parallel()
	secretish := "https://hooks.slack.com/services/T0/B0/SeCrEt\x7f"
	tests := []struct {
		name string
		new  func() error
		want string
	}{
		{"empty webhook", func() error { _, err := NewWebhook("", nil); return err }, "webhook URL"},
		{"relative webhook", func() error { _, err := NewWebhook("/services/SeCrEt", nil); return err }, "http or https"},
		{"ftp webhook", func() error { _, err := NewWebhook("ftp://h/SeCrEt", nil); return err }, "http or https"},
		{"unparsable webhook", func() error { _, err := NewWebhook(secretish, nil); return err }, "not a valid URL"},
		{"webhook with userinfo", func() error { _, err := NewWebhook("https://u:SeCrEt@h/x", nil); return err }, "credentials"},
		{"negative timeout", func() error { _, err := NewWebhook("https://h/x", &Config{Timeout: -1}); return err }, "Timeout"},
		{"bad dashboard", func() error { _, err := NewWebhook("https://h/x", &Config{DashboardURL: "dash"}); return err }, "DashboardURL"},
		{"empty token", func() error { _, err := NewBot("", "C1", nil); return err }, "token is empty"},
		{"token with space", func() error { _, err := NewBot("xoxb-SeCrEt x", "C1", nil); return err }, "token contains"},
		{"empty channel", func() error { _, err := NewBot("xoxb-SeCrEt", "", nil); return err }, "channel is empty"},
		{"bad api url", func() error { _, err := NewBot("xoxb-SeCrEt", "C1", &Config{APIURL: "nope"}); return err }, "APIURL"},
		{"too many alerts per message", func() error {
			_, err := NewWebhook("https://h/SeCrEt", &Config{MaxAlertsPerMessage: 101})
			return err
		}, "MaxAlertsPerMessage"},
		{"negative alerts per message", func() error {
			_, err := NewBot("xoxb-SeCrEt", "C1", &Config{MaxAlertsPerMessage: -1})
			return err
		}, "MaxAlertsPerMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.new()
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, watchdog.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			notifytest.AssertNoSecret(t, err, "SeCrEt")
		})
	}
}

func TestCallerHTTPClientIsNotModified(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	if _, err := NewWebhook("https://hooks.slack.com/services/x", &Config{HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil {
		t.Error("NewWebhook changed the caller's client")
	}
}

// batchAlerts returns three alerts of different tickets and stages.
func batchAlerts() []watchdog.Alert {
	a, b, c := testAlert(), testAlert(), testAlert()
	a.TicketID, a.Stage, a.State = "T-1", watchdog.StageBreach, "breach"
	b.TicketID, b.Stage, b.State = "T-2", watchdog.StageAlert, "alert"
	c.TicketID, c.Stage, c.State = "T-3", watchdog.StageBreach, "breach"
	return []watchdog.Alert{a, b, c}
}

func TestWebhookDeliverBatch(t *testing.T) {
	t.Parallel()
	f := newFakeSlack(t, reply{body: "ok"})
	n, err := NewWebhook(f.URL+webhookPath, &Config{MaxAlertsPerMessage: 3})
	if err != nil {
		t.Fatal(err)
	}
	if n.MaxBatch() != 3 {
		t.Errorf("MaxBatch = %d, want 3", n.MaxBatch())
	}
	alerts := batchAlerts()
	if retry, err := n.DeliverBatch(t.Context(), alerts); retry || err != nil {
		t.Fatalf("DeliverBatch = (%v, %v)", retry, err)
	}
	if f.requests() != 1 {
		t.Fatalf("%d requests for one batch, want 1", f.requests())
	}
	var msg slack.WebhookMessage
	if err := json.Unmarshal(f.body(0), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Text != "3 SLA alerts: 2 BREACH, 1 ALERT" {
		t.Errorf("text %q", msg.Text)
	}
	if len(msg.Attachments) != 3 {
		t.Fatalf("%d attachments, want 3", len(msg.Attachments))
	}
	for i, a := range alerts {
		// Each attachment is the one Deliver would post for the alert alone.
		want := buildMessage(a, n.cfg).attachment
		got := msg.Attachments[i]
		if got.Title != want.Title || got.Color != want.Color || len(got.Fields) != len(want.Fields) {
			t.Errorf("attachment %d = %q %q with %d fields, want %q %q with %d", i, got.Title, got.Color, len(got.Fields), want.Title, want.Color, len(want.Fields))
		}
	}

	// More than the limit is refused, not silently split.
	if _, err := n.DeliverBatch(t.Context(), append(alerts, testAlert())); !errors.Is(err, watchdog.ErrInvalid) {
		t.Errorf("DeliverBatch of 4 with a limit of 3: %v, want ErrInvalid", err)
	}
	// One alert is an ordinary message.
	if retry, err := n.DeliverBatch(t.Context(), alerts[:1]); retry || err != nil {
		t.Fatalf("DeliverBatch of one = (%v, %v)", retry, err)
	}
	if err := json.Unmarshal(f.body(1), &msg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Text, "BREACH: ticket T-1") || len(msg.Attachments) != 1 {
		t.Errorf("single-alert batch posted %q with %d attachments", msg.Text, len(msg.Attachments))
	}
	if f.requests() != 2 {
		t.Errorf("%d requests, want 2", f.requests())
	}
}

// TestDeliverBatchAfterLargerBatch posts a batch whose alerts have every
// optional field, then a smaller one whose alerts have none: the second
// message's attachments are exactly what Deliver would build for each
// alert, with nothing left from the first (their arrays are reused).
func TestDeliverBatchAfterLargerBatch(t *testing.T) {
	t.Parallel()
	f := newFakeSlack(t, reply{body: "ok"})
	n, err := NewWebhook(f.URL+webhookPath, &Config{MaxAlertsPerMessage: 3})
	if err != nil {
		t.Fatal(err)
	}
	full := batchAlerts()
	for i := range full {
		started := testNow.Add(-time.Hour)
		full[i].Policy, full[i].Cycle, full[i].CycleStartedAt, full[i].AcknowledgedBy = "vip", 2, &started, "ana"
	}
	bare := batchAlerts()[:2]
	for i := range bare {
		bare[i].Message, bare[i].Target, bare[i].Elapsed, bare[i].DueAt = "", 0, 0, time.Time{}
	}
	for i, batch := range [][]watchdog.Alert{full, bare} {
		if retry, err := n.DeliverBatch(t.Context(), batch); retry || err != nil {
			t.Fatalf("DeliverBatch %d = (%v, %v)", i, retry, err)
		}
		var got, want struct{ Attachments []slack.Attachment }
		if err := json.Unmarshal(f.body(i), &got); err != nil {
			t.Fatal(err)
		}
		for _, a := range batch {
			want.Attachments = append(want.Attachments, buildMessage(a, n.cfg).attachment)
		}
		// Through JSON, as Slack sees them.
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		want.Attachments = nil
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want.Attachments, got.Attachments); d != "" {
			t.Errorf("batch %d's attachments (-want +got):\n%s", i, d)
		}
	}
}

func TestDeliverBatchOutcomesAsDeliver(t *testing.T) {
	t.Parallel()
	for _, rep := range []reply{
		{status: http.StatusServiceUnavailable, body: "service_unavailable"},
		{status: http.StatusNotFound, body: "no_service"},
		{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "7"}, body: "rate_limited"},
	} {
		f := newFakeSlack(t, rep)
		n, err := NewWebhook(f.URL+webhookPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		bRetry, bErr := n.DeliverBatch(t.Context(), batchAlerts())
		sRetry, sErr := n.Deliver(t.Context(), testAlert())
		if bErr == nil || sErr == nil || bRetry != sRetry || bErr.Error() != sErr.Error() {
			t.Errorf("HTTP %d: DeliverBatch = (%v, %v), Deliver = (%v, %v); want the same outcome", rep.status, bRetry, bErr, sRetry, sErr)
		}
		var ra *watchdog.RetryAfterError
		if rep.status == http.StatusTooManyRequests && (!errors.As(bErr, &ra) || ra.After != 7*time.Second) {
			t.Errorf("HTTP 429: DeliverBatch error %v carries no 7s Retry-After", bErr)
		}
		notifytest.AssertNoSecret(t, bErr, webhookPath)
	}
}

func TestBotDeliverBatch(t *testing.T) {
	t.Parallel()
	got := make(chan url.Values, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- r.PostForm
		io.WriteString(w, `{"ok":true,"channel":"C0123","ts":"1.2"}`)
	}))
	defer srv.Close()
	n, err := NewBot(botToken, "C0123", &Config{APIURL: srv.URL + "/api/"})
	if err != nil {
		t.Fatal(err)
	}
	if n.MaxBatch() != DefaultMaxAlertsPerMessage {
		t.Errorf("MaxBatch = %d, want the default %d", n.MaxBatch(), DefaultMaxAlertsPerMessage)
	}
	if retry, err := n.DeliverBatch(t.Context(), batchAlerts()); retry || err != nil {
		t.Fatalf("DeliverBatch = (%v, %v)", retry, err)
	}
	form := <-got
	var atts []slack.Attachment
	if err := json.Unmarshal([]byte(form.Get("attachments")), &atts); err != nil {
		t.Fatalf("attachments: %v", err)
	}
	if form.Get("text") != "3 SLA alerts: 2 BREACH, 1 ALERT" || len(atts) != 3 || atts[1].Title != "ALERT: ticket T-2" {
		t.Errorf("posted text %q with attachments %+v", form.Get("text"), atts)
	}
}

func TestSummaryTextOrdersBySeverity(t *testing.T) {
	a := testAlert()
	esc, alert, breach := a, a, a
	esc.Stage = "escalation-2"
	alert.Stage, alert.State = watchdog.StageAlert, "alert"
	breach.Stage = watchdog.StageBreach
	got := summaryText([]watchdog.Alert{alert, breach, esc, alert})
	if want := "4 SLA alerts: 1 ESCALATION 2, 1 BREACH, 2 ALERT"; got != want {
		t.Errorf("summaryText = %q, want %q", got, want)
	}
}

func TestDeliverDigestListsFiftyAndCounts(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		got = append(got, m)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	n, err := NewWebhook(srv.URL+"/hook", &Config{DashboardURL: "https://wd.example.com/tickets/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	alerts := make([]watchdog.Alert, 73)
	for i := range alerts {
		alerts[i] = watchdog.Alert{TicketID: strconv.Itoa(i), SLAClock: watchdog.Response, Stage: "breach", State: "breach"}
	}
	if _, err := n.DeliverDigest(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	atts, _ := got[0]["attachments"].([]any)
	text, _ := got[0]["text"].(string)
	if len(got) != 1 || len(atts) != watchdog.DigestEntries || !strings.Contains(text, "73 SLA alerts") ||
		!strings.Contains(text, "23 more not listed: <https://wd.example.com/ui/|see the dashboard>") {
		t.Errorf("digest: %d messages, %d attachments, text %q", len(got), len(atts), text)
	}
}
