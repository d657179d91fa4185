// Package mockslack is a stand-in for Slack that records what it receives.
//
// It answers like a Slack incoming webhook (POST to any path, such as
// /services/T000/B000/XXXX, with a JSON body; the answer is "ok") and like the
// Web API's chat.postMessage (POST /api/chat.postMessage, form or JSON body;
// the answer is {"ok":true,...}). Every accepted message is kept in memory,
// written as one JSON line to a log writer, and listed by GET /messages;
// DELETE /messages forgets them. Faults can be injected so demos and tests
// see rate limits (429 with Retry-After) and outages (5xx).
//
// cmd/mockslack serves it for the compose stack; tests and benchmarks start it
// in-process with httptest:
//
//	mock, _ := mockslack.New(nil)
//	srv := httptest.NewServer(mock)
//	defer srv.Close()
//	webhook := srv.URL + mockslack.WebhookPath
//	// ... deliver alerts to webhook ...
//	msgs, err := mock.Wait(ctx, 1)
//
// Tokens sent to chat.postMessage are checked but never recorded or printed.
package mockslack

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	sjson "github.com/segmentio/encoding/json"
)

// WebhookPath is the incoming-webhook path the compose file and the examples
// use. Any other POST path is treated as a webhook too.
const WebhookPath = "/services/T000/B000/XXXX"

// PostMessagePath is the Web API method path slack-go calls for
// chat.postMessage when its API URL points at the mock's /api/.
const PostMessagePath = "/api/chat.postMessage"

// Message kinds.
const (
	// KindWebhook marks a message posted to an incoming webhook.
	KindWebhook = "webhook"
	// KindPostMessage marks a message sent with chat.postMessage.
	KindPostMessage = "chat.postMessage"
)

// Message is one accepted Slack message.
type Message struct {
	// Seq numbers accepted messages from 1 in arrival order.
	Seq int `json:"seq"`
	// ReceivedAt is when the mock accepted the message.
	ReceivedAt time.Time `json:"received_at"`
	// Kind is KindWebhook or KindPostMessage.
	Kind string `json:"kind"`
	// Path is the request path.
	Path string `json:"path"`
	// Channel is the channel named by the payload, if any.
	Channel string `json:"channel,omitempty"`
	// Text is the payload's text field, if any.
	Text string `json:"text,omitempty"`
	// Payload is the message as a JSON object: the webhook body as sent, or
	// chat.postMessage's form fields (without the token) with JSON-valued
	// fields such as blocks decoded.
	Payload json.RawMessage `json:"payload"`
	// Attachments is how many attachments the message carries (the Slack
	// notifier sends one per alert).
	Attachments int `json:"attachments"`
}

// AttachmentFields decodes the message's attachments: for each, in order,
// its fields as title → value (the Slack notifier writes one attachment per
// alert, with fields such as Ticket, SLA and State).
func (m Message) AttachmentFields() ([]map[string]string, error) {
	var p struct {
		Attachments []struct {
			Fields []struct {
				Title string `json:"title"`
				Value string `json:"value"`
			} `json:"fields"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return nil, fmt.Errorf("mockslack: message %d: decode payload: %w", m.Seq, err)
	}
	out := make([]map[string]string, len(p.Attachments))
	for i, a := range p.Attachments {
		out[i] = make(map[string]string, len(a.Fields))
		for _, f := range a.Fields {
			out[i][f.Title] = f.Value
		}
	}
	return out, nil
}

// Faults describes injected failures. The first FailFirst requests that
// would post a message fail; after them each fails with probability
// FailRate. Health and inspection endpoints never fail.
type Faults struct {
	// FailFirst is how many message requests fail before any succeeds.
	FailFirst int
	// FailRate is the fraction, 0 to 1, of later message requests that fail.
	FailRate float64
	// Status is the HTTP status of a failed request; 0 means 503.
	Status int
	// RetryAfter is sent as the Retry-After header, in whole seconds, on a
	// failed request. For Status 429 a zero RetryAfter still sends
	// "Retry-After: 1", as Slack always does.
	RetryAfter time.Duration
	// Delay holds the answer to every message this long after recording
	// it, as a slow Slack would.
	Delay time.Duration
	// Hang records every message and then holds the answer until the
	// faults are set again without it (or the client gives up), as a
	// Slack that took a post and hung would: a client that gives up and
	// posts again makes a duplicate.
	Hang bool
	// RatePerSecond, when above 0, is the most messages accepted per
	// second, as Slack's rate limit (about one message per second per
	// webhook or channel): a request over it gets 429 with a Retry-After of
	// the whole seconds until the next one would be accepted. It applies to
	// requests that FailFirst and FailRate let through.
	RatePerSecond float64
}

func (f Faults) withDefaults() Faults {
	f.Status = cmp.Or(f.Status, http.StatusServiceUnavailable)
	return f
}

func (f Faults) validate() error {
	if f.FailFirst < 0 {
		return fmt.Errorf("mockslack: FailFirst %d is negative", f.FailFirst)
	}
	if f.FailRate < 0 || f.FailRate > 1 {
		return fmt.Errorf("mockslack: FailRate %v is outside [0, 1]", f.FailRate)
	}
	if f.Status < 400 || f.Status > 599 {
		return fmt.Errorf("mockslack: Status %d is not a 4xx or 5xx status", f.Status)
	}
	if f.RetryAfter < 0 {
		return fmt.Errorf("mockslack: RetryAfter %v is negative", f.RetryAfter)
	}
	if f.Delay < 0 || f.RatePerSecond < 0 {
		return fmt.Errorf("mockslack: Delay %v and RatePerSecond %v must not be negative", f.Delay, f.RatePerSecond)
	}
	return nil
}

// Config configures a Server. The zero value accepts everything and fails
// nothing.
type Config struct {
	// Faults are the injected failures.
	Faults Faults
	// Token, when set, is the only bot token chat.postMessage accepts;
	// others get {"ok":false,"error":"invalid_auth"}. When empty any
	// non-empty token is accepted.
	Token string
	// Log receives one JSON line per accepted message; nil discards.
	Log io.Writer
	// MaxBodyBytes bounds request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// Now tells the time of receipt; nil means time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1) for FailRate; nil means math/rand/v2.
	Rand func() float64
}

// WithDefaults returns a copy of c with zero fields set to their defaults.
// A nil c gives the defaults.
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.Faults = out.Faults.withDefaults()
	out.Log = cmp.Or(out.Log, io.Discard)
	out.MaxBodyBytes = cmp.Or(out.MaxBodyBytes, 1<<20)
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Rand == nil {
		out.Rand = rand.Float64
	}
	return &out
}

func (c *Config) validate() error {
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("mockslack: MaxBodyBytes %d is negative", c.MaxBodyBytes)
	}
	return c.Faults.validate()
}

// Stats counts what a Server has seen since it started or its faults were
// last set.
type Stats struct {
	// Requests counts message requests (webhook and chat.postMessage).
	Requests int `json:"requests"`
	// Injected counts message requests failed on purpose.
	Injected int `json:"injected"`
	// Accepted counts messages recorded.
	Accepted int `json:"accepted"`
}

// Server is an http.Handler that mimics Slack. It is safe for concurrent use.
type Server struct {
	cfg *Config

	mu       sync.Mutex
	faults   Faults
	stats    Stats
	seq      int
	messages []Message
	attached int           // attachments over messages
	changed  chan struct{} // closed and replaced whenever messages change
	refault  chan struct{} // closed and replaced whenever the faults are set
	nextSlot time.Time     // when RatePerSecond accepts the next message
	logMu    sync.Mutex
}

// New returns a Server. A nil cfg means defaults.
func New(cfg *Config) (*Server, error) {
	c := cfg.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: c, faults: c.Faults, changed: make(chan struct{}), refault: make(chan struct{})}, nil
}

// Messages returns a copy of the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message{}, s.messages...)
}

// AttachmentCount returns how many attachments the recorded messages carry
// in all.
func (s *Server) AttachmentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attached
}

// Reset forgets the recorded messages and returns how many there were.
// Sequence numbers keep counting so a message is never confused with an
// earlier one.
func (s *Server) Reset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.messages)
	s.messages, s.attached = nil, 0
	s.notifyLocked()
	return n
}

// SetFaults replaces the injected failures and restarts the FailFirst count
// and the Stats.
func (s *Server) SetFaults(f Faults) error {
	f = f.withDefaults()
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.stats = Stats{}
	close(s.refault) // releases requests held by Hang
	s.refault = make(chan struct{})
	return nil
}

// Faults returns the injected failures in force.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Wait blocks until at least n messages are recorded, then returns them
// all. It returns ctx's error, with the messages seen so far, if ctx ends
// first.
func (s *Server) Wait(ctx context.Context, n int) ([]Message, error) {
	return s.wait(ctx, n, "messages", func() int { return len(s.messages) })
}

// WaitAttachments is Wait until the messages carry at least n attachments
// in all: n alerts from the Slack notifier, which groups alerts that queue
// up into one message.
func (s *Server) WaitAttachments(ctx context.Context, n int) ([]Message, error) {
	return s.wait(ctx, n, "attachments", func() int { return s.attached })
}

// wait blocks until count(), read under the lock, reaches n.
func (s *Server) wait(ctx context.Context, n int, what string, count func() int) ([]Message, error) {
	for {
		s.mu.Lock()
		have, changed := count(), s.changed
		var msgs []Message
		if have >= n {
			// Copy only once there are enough: copying on every arrival
			// made waiting for a burst quadratic, and the CPU it burned
			// slowed the very server being measured.
			msgs = append([]Message(nil), s.messages...)
		}
		s.mu.Unlock()
		if msgs != nil {
			return msgs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("mockslack: waiting for %d %s, have %d: %w", n, what, have, ctx.Err())
		}
	}
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/healthz":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	case r.URL.Path == "/messages":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, s.Messages())
		case http.MethodDelete:
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "deleted": s.Reset()})
		default:
			methodNotAllowed(w, "GET, HEAD, DELETE")
		}
	case r.URL.Path == "/faults":
		s.serveFaults(w, r)
	case r.URL.Path == "/stats":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		writeJSON(w, http.StatusOK, s.Stats())
	case r.Method != http.MethodPost:
		methodNotAllowed(w, "POST")
	case r.URL.Path == PostMessagePath:
		s.servePostMessage(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		// Another Web API method: answer as Slack does for unknown methods.
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "unknown_method"})
	default:
		s.serveWebhook(w, r)
	}
}

// faultsJSON is Faults on the wire, with RetryAfter in seconds.
type faultsJSON struct {
	FailFirst         int     `json:"fail_first"`
	FailRate          float64 `json:"fail_rate"`
	Status            int     `json:"status"`
	RetryAfterSeconds int     `json:"retry_after_seconds"`
	DelayMillis       int64   `json:"delay_ms,omitempty"`
	Hang              bool    `json:"hang,omitempty"`
	RatePerSecond     float64 `json:"rate_per_second,omitempty"`
}

func toJSON(f Faults) faultsJSON {
	return faultsJSON{f.FailFirst, f.FailRate, f.Status, int(f.RetryAfter / time.Second), f.Delay.Milliseconds(), f.Hang, f.RatePerSecond}
}

func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		f := s.Faults()
		writeJSON(w, http.StatusOK, toJSON(f))
	case http.MethodPut:
		var in faultsJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body must be a JSON object with fail_first, fail_rate, status, retry_after_seconds: " + err.Error()})
			return
		}
		f := Faults{FailFirst: in.FailFirst, FailRate: in.FailRate, Status: in.Status, RetryAfter: time.Duration(in.RetryAfterSeconds) * time.Second,
			Delay: time.Duration(in.DelayMillis) * time.Millisecond, Hang: in.Hang, RatePerSecond: in.RatePerSecond}
		if in.RetryAfterSeconds < 0 {
			f.RetryAfter = -1
		}
		if err := s.SetFaults(f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, toJSON(s.Faults()))
	default:
		methodNotAllowed(w, "GET, PUT")
	}
}

// inject counts a message request and reports whether it must fail; if so
// it has written the failure.
func (s *Server) inject(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.stats.Requests++
	f := s.faults
	fail := s.stats.Requests <= f.FailFirst || (f.FailRate > 0 && s.cfg.Rand() < f.FailRate)
	if !fail && f.RatePerSecond > 0 {
		now := s.cfg.Now()
		if now.Before(s.nextSlot) {
			fail = true
			f.Status = http.StatusTooManyRequests
			f.RetryAfter = s.nextSlot.Sub(now)
		} else {
			s.nextSlot = now.Add(time.Duration(float64(time.Second) / f.RatePerSecond))
		}
	}
	if fail {
		s.stats.Injected++
	}
	s.mu.Unlock()
	if !fail {
		return false
	}
	retryAfter := int((f.RetryAfter + time.Second - 1) / time.Second)
	if f.Status == http.StatusTooManyRequests && retryAfter == 0 {
		retryAfter = 1
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(f.Status)
	if f.Status == http.StatusTooManyRequests {
		_, _ = io.WriteString(w, "rate_limited")
	} else {
		_, _ = io.WriteString(w, "injected_failure")
	}
	return true
}

// hold holds the answer to a recorded message as Delay and Hang say; it
// reports false when the client went away meanwhile.
func (s *Server) hold(r *http.Request) bool {
	if d := s.Faults().Delay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		}
	}
	for {
		s.mu.Lock()
		f, refault := s.faults, s.refault
		s.mu.Unlock()
		if !f.Hang {
			return true
		}
		select {
		case <-refault:
		case <-r.Context().Done():
			return false
		}
	}
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= s.cfg.MaxBodyBytes {
		// One allocation of the announced size (and a byte to see the
		// end), instead of ReadAll's doublings from 512 bytes: a burst
		// of grouped alerts is thousands of 20 KB bodies, and the
		// stand-in's CPU is taken from the server it measures.
		buf.Grow(int(n) + 1)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	body := buf.Bytes()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			plain(w, http.StatusRequestEntityTooLarge, "request_too_large")
		} else {
			plain(w, http.StatusBadRequest, "invalid_payload")
		}
		return nil, false
	}
	return body, true
}

// serveWebhook answers like a Slack incoming webhook: "ok", or a 400 with a
// short error code as the body.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if s.inject(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var payload webhookPayload
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' || payload.decode(t) != nil {
		plain(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	text := rawString(payload.Text)
	if text == "" && !nonEmpty(payload.Blocks) && len(payload.Attachments) == 0 {
		plain(w, http.StatusBadRequest, "no_text")
		return
	}
	s.record(Message{Kind: KindWebhook, Path: r.URL.Path, Channel: rawString(payload.Channel), Text: text, Payload: compact(body),
		Attachments: len(payload.Attachments)})
	if !s.hold(r) {
		return
	}
	plain(w, http.StatusOK, "ok")
}

// webhookPayload is what the webhook checks read of a body, which is kept
// whole.
type webhookPayload struct {
	Text        json.RawMessage   `json:"text"`
	Channel     json.RawMessage   `json:"channel"`
	Blocks      json.RawMessage   `json:"blocks"`
	Attachments []json.RawMessage `json:"attachments"`
}

// decode fills p from a JSON object, its raw values pointing into data. It
// parses with github.com/segmentio/encoding/json, about a tenth of
// encoding/json's CPU on a message of twenty attachments. A body that
// parser refuses, or that holds more than one value, goes to encoding/json,
// which then decides, so a body is refused only when encoding/json refuses
// it too (TestWebhookDecodeAgreesWithEncodingJSON).
func (p *webhookPayload) decode(data []byte) error {
	rest, err := sjson.Parse(data, p, sjson.ZeroCopy)
	if err == nil && len(bytes.TrimLeft(rest, " \t\r\n")) == 0 {
		return nil
	}
	*p = webhookPayload{}
	return json.Unmarshal(data, p)
}

// servePostMessage answers like chat.postMessage: HTTP 200 with
// {"ok":true,...} or {"ok":false,"error":...}.
func (s *Server) servePostMessage(w http.ResponseWriter, r *http.Request) {
	if s.inject(w, r) {
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	payload := map[string]json.RawMessage{}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/json" {
		if err := json.Unmarshal(body, &payload); err != nil || payload == nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_json"})
			return
		}
	} else {
		values, err := url.ParseQuery(string(body))
		if err != nil {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		for k := range values {
			v := values.Get(k)
			if json.Valid([]byte(v)) && (strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{")) {
				payload[k] = json.RawMessage(v)
			} else {
				payload[k], _ = json.Marshal(v)
			}
		}
	}
	if t := stringField(payload, "token"); t != "" && token == "" {
		token = t
	}
	delete(payload, "token")
	switch {
	case token == "":
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "not_authed"})
		return
	case s.cfg.Token != "" && token != s.cfg.Token:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	channel := stringField(payload, "channel")
	if channel == "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	text := stringField(payload, "text")
	if text == "" && !nonEmpty(payload["blocks"]) && !nonEmpty(payload["attachments"]) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	var atts []json.RawMessage
	_ = json.Unmarshal(payload["attachments"], &atts)
	m := s.record(Message{Kind: KindPostMessage, Path: r.URL.Path, Channel: channel, Text: text, Payload: raw, Attachments: len(atts)})
	if !s.hold(r) {
		return
	}
	ts := fmt.Sprintf("%d.%06d", m.ReceivedAt.Unix(), m.Seq%1000000)
	writeJSON(w, http.StatusOK, map[string]any{
		"ok":      true,
		"channel": channel,
		"ts":      ts,
		"message": map[string]any{"type": "message", "text": text, "ts": ts},
	})
}

func (s *Server) record(m Message) Message {
	s.mu.Lock()
	s.seq++
	m.Seq = s.seq
	m.ReceivedAt = s.cfg.Now().UTC()
	s.messages = append(s.messages, m)
	s.attached += m.Attachments
	s.stats.Accepted++
	s.notifyLocked()
	s.mu.Unlock()

	if s.cfg.Log == io.Discard {
		return m
	}
	line, err := json.Marshal(m)
	if err == nil {
		s.logMu.Lock()
		_, _ = s.cfg.Log.Write(append(line, '\n'))
		s.logMu.Unlock()
	}
	return m
}

func stringField(payload map[string]json.RawMessage, key string) string {
	return rawString(payload[key])
}

// rawString decodes a JSON string; anything else gives "".
func rawString(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

func nonEmpty(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null")) && !bytes.Equal(t, []byte("[]")) && !bytes.Equal(t, []byte(`""`))
}

func compact(body []byte) json.RawMessage {
	if isCompact(body) {
		return json.RawMessage(body)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return json.RawMessage(body)
	}
	return buf.Bytes()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"ok": false, "error": "method not allowed; use " + allow})
}

// isCompact reports whether valid JSON has no whitespace outside strings,
// which is how clients send it; compact skips the rewrite then. It jumps
// over each string's contents with bytes.IndexByte, as a message's bytes
// are mostly strings.
func isCompact(b []byte) bool {
	for len(b) > 0 {
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			return false
		case '"':
			end := stringEnd(b[1:])
			if end < 0 {
				return true // not valid JSON: left to the caller's parser
			}
			b = b[1+end+1:]
		default:
			b = b[1:]
		}
	}
	return true
}

// stringEnd returns the index in s of the quote that ends the JSON string
// s starts inside of, or -1 when none does.
func stringEnd(s []byte) int {
	off := 0
	for {
		q := bytes.IndexByte(s[off:], '"')
		if q < 0 {
			return -1
		}
		e := bytes.IndexByte(s[off:off+q], '\\')
		if e < 0 {
			return off + q
		}
		off += e + 2 // the backslash and the byte it escapes
		if off > len(s) {
			return -1
		}
	}
}
