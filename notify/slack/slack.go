// Package slack posts watchdog alerts to Slack, through an incoming webhook
// (the seed's SLACK_WEBHOOK_URL) or as a bot with chat.postMessage.
//
// A Notifier makes one attempt per Deliver and classifies the failure for the
// engine's outbox: rate limits (429) retry after Slack's Retry-After, server
// errors (5xx) and network errors retry, and permanent errors (bad token,
// unknown or archived channel, rejected payload) are reported with
// retry=false so they are recorded instead of retried forever.
//
// The webhook URL (its path is a credential) and the bot token never appear
// in errors: every error is a *DeliveryError whose message the Notifier
// builds itself.
//
//	n, err := slack.NewWebhook(os.Getenv("SLACK_WEBHOOK_URL"), &slack.Config{
//		DashboardURL: "https://watchdog.example.com/tickets/{id}",
//	})
//	if err != nil {
//		return err
//	}
//	engine := ... map[string]watchdog.Notifier{"slack": n} ...
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify"
)

// Notifier posts alerts to Slack. It is safe for concurrent use.
type Notifier struct {
	cfg     Config
	op      string // "slack webhook" or "slack chat.postMessage"
	webhook string
	channel string
	api     *slack.Client
	client  *http.Client
	secrets []string
	now     func() time.Time
}

var _ watchdog.BatchNotifier = (*Notifier)(nil)

// NewWebhook returns a Notifier that posts to a Slack incoming webhook URL.
// Its errors do not contain the URL.
func NewWebhook(webhookURL string, cfg *Config) (*Notifier, error) {
	c := cfg.WithDefaults()
	if err := checkHTTPURL(webhookURL); err != nil {
		return nil, fmt.Errorf("slack: webhook URL %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	n := newNotifier(c, "slack webhook")
	n.webhook = webhookURL
	n.addSecrets(webhookURL)
	return n, nil
}

// NewBot returns a Notifier that posts to channel (an ID such as C0123, or a
// #name) with chat.postMessage using a bot token (xoxb-...). Its errors do
// not contain the token.
func NewBot(token, channel string, cfg *Config) (*Notifier, error) {
	c := cfg.WithDefaults()
	if err := checkWord("token", token); err != nil {
		return nil, err
	}
	if err := checkWord("channel", channel); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	n := newNotifier(c, "slack chat.postMessage")
	n.channel = channel
	n.addSecrets(token)
	n.api = slack.New(token, slack.OptionAPIURL(c.APIURL), slack.OptionHTTPClient(n.client))
	return n, nil
}

func newNotifier(c Config, op string) *Notifier {
	var hc http.Client
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		// The default transport keeps two idle connections per host, so a
		// burst of alerts would reconnect for nearly every message.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		// A message of many alerts is tens of KiB. With the default 4 KiB
		// write buffer, the body past it went to the socket through a
		// copy buffer allocated per request.
		t.WriteBufferSize = 64 << 10
		base = t
	}
	hc.Transport = &recordingTransport{base: base}
	return &Notifier{cfg: c, op: op, client: &hc, now: time.Now}
}

// addSecrets registers a secret and the forms it may take in an error
// message, so that any message can be scrubbed of them.
func (n *Notifier) addSecrets(secret string) {
	n.secrets = append(n.secrets, secret)
	if i := strings.Index(secret, "://"); i >= 0 {
		rest := secret[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 && len(rest[j:]) > 1 {
			n.secrets = append(n.secrets, rest[j:])
		}
	}
}

// Deliver posts one message about a and classifies the outcome: retry is
// true for rate limits, server and network errors and timeouts; false for
// success and for errors that another attempt would repeat. An attempt
// Slack answered with 429 or 503 (or with Retry-After) returns a
// *watchdog.RetryAfterError with Slack's Retry-After (zero when it sent
// none), which pauses the destination.
func (n *Notifier) Deliver(ctx context.Context, a watchdog.Alert) (retry bool, err error) {
	msg := buildMessage(a, n.cfg)
	return n.post(ctx, msg.text, []slack.Attachment{msg.attachment})
}

// MaxBatch is Config.MaxAlertsPerMessage; it makes the Notifier a
// watchdog.BatchNotifier.
func (n *Notifier) MaxBatch() int { return n.cfg.MaxAlertsPerMessage }

// DeliverBatch posts one message about several alerts: a summary line and
// each alert's attachment, as Deliver would post it, in order. The outcome
// is classified as Deliver's.
func (n *Notifier) DeliverBatch(ctx context.Context, alerts []watchdog.Alert) (retry bool, err error) {
	switch {
	case len(alerts) == 0:
		return false, nil
	case len(alerts) == 1:
		return n.Deliver(ctx, alerts[0])
	case len(alerts) > n.cfg.MaxAlertsPerMessage:
		return false, fmt.Errorf("%s: %d alerts for one message, more than MaxAlertsPerMessage %d: %w",
			n.op, len(alerts), n.cfg.MaxAlertsPerMessage, watchdog.ErrInvalid)
	}
	sc := getScratch(len(alerts))
	defer putScratch(sc)
	for i, a := range alerts {
		sc.atts[i] = buildMessageInto(a, n.cfg, sc.fields[i*maxFields:i*maxFields:(i+1)*maxFields]).attachment
	}
	return n.post(ctx, summaryText(alerts), sc.atts)
}

// scratch is a batch message's attachments and their fields, reused from
// message to message: a burst posts thousands of messages of twenty
// alerts, each attachment half a KiB before its fields. The message is
// encoded before post returns, and nothing keeps them after.
type scratch struct {
	atts   []slack.Attachment
	fields []slack.AttachmentField
}

var scratches sync.Pool

// getScratch returns a scratch with n attachments and room for their fields.
func getScratch(n int) *scratch {
	sc, _ := scratches.Get().(*scratch)
	if sc == nil || cap(sc.atts) < n {
		sc = &scratch{atts: make([]slack.Attachment, n), fields: make([]slack.AttachmentField, n*maxFields)}
	}
	sc.atts = sc.atts[:n]
	return sc
}

// putScratch clears sc, so that it holds on to no alert's text, and keeps it.
func putScratch(sc *scratch) {
	clear(sc.atts)
	clear(sc.fields)
	scratches.Put(sc)
}

// DeliverDigest posts a notification route's digest (its group_interval):
// one message summing up every alert, listing the first
// watchdog.DigestEntries as attachments and counting the rest, with a link
// to the dashboard when one is configured. It makes the Notifier a
// watchdog.DigestNotifier.
func (n *Notifier) DeliverDigest(ctx context.Context, alerts []watchdog.Alert) (retry bool, err error) {
	if len(alerts) == 0 {
		return false, nil
	}
	shown := alerts[:min(len(alerts), watchdog.DigestEntries)]
	atts := make([]slack.Attachment, len(shown))
	for i, a := range shown {
		atts[i] = buildMessage(a, n.cfg).attachment
	}
	text := summaryText(alerts)
	if rest := len(alerts) - len(shown); rest > 0 {
		text += fmt.Sprintf("; %d more not listed", rest)
		if link := dashboardLink(n.cfg.DashboardURL); link != "" {
			text += ": <" + link + "|see the dashboard>"
		}
	}
	return n.post(ctx, text, atts)
}

var _ watchdog.DigestNotifier = (*Notifier)(nil)

// post sends one message and classifies the outcome.
func (n *Notifier) post(ctx context.Context, text string, atts []slack.Attachment) (retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	ex := &exchange{}
	actx = context.WithValue(actx, exchangeKey{}, ex)

	if n.api == nil {
		wm := &slack.WebhookMessage{
			Username:    n.cfg.Username,
			IconEmoji:   n.cfg.IconEmoji,
			Text:        text,
			Attachments: atts,
		}
		err = slack.PostWebhookCustomHTTPContext(actx, n.webhook, n.client, wm)
	} else {
		opts := []slack.MsgOption{
			slack.MsgOptionText(text, false),
			slack.MsgOptionAttachments(atts...),
		}
		if n.cfg.Username != "" {
			opts = append(opts, slack.MsgOptionUsername(n.cfg.Username))
		}
		if n.cfg.IconEmoji != "" {
			opts = append(opts, slack.MsgOptionIconEmoji(n.cfg.IconEmoji))
		}
		_, _, err = n.api.PostMessageContext(actx, n.channel, opts...)
	}
	if err == nil {
		return false, nil
	}
	de := n.classify(ctx, err, ex)
	throttled := ex.status == http.StatusTooManyRequests || de.Code == "ratelimited" || de.Code == "rate_limited"
	if de.retryAfterKnown || throttled || ex.status == http.StatusServiceUnavailable {
		// Slack asked for a wait: the engine pauses the destination, for
		// RetryAfter or, when Slack named none, one backoff interval.
		return true, &watchdog.RetryAfterError{After: de.RetryAfter, Throttled: throttled, Err: de}
	}
	return de.Retryable, de
}

// DeliveryError is a failed attempt to post to Slack. Its message is built by
// the Notifier and never contains the webhook URL or the token.
type DeliveryError struct {
	// Op is "slack webhook" or "slack chat.postMessage".
	Op string
	// StatusCode is the HTTP status of Slack's answer; 0 when none came.
	StatusCode int
	// Code is Slack's error code, e.g. "channel_not_found", when it gave one.
	Code string
	// Retryable reports whether another attempt may succeed.
	Retryable bool
	// RetryAfter is the wait Slack asked for, if any.
	RetryAfter      time.Duration
	retryAfterKnown bool
	msg             string
	err             error
}

// Error describes the failure without the webhook URL or token.
func (e *DeliveryError) Error() string { return e.msg }

// Unwrap returns the cause: a slack-go error, a network error or a context
// error. Causes that quote the request URL are replaced by their own cause.
func (e *DeliveryError) Unwrap() error { return e.err }

// retryableCodes are Slack Web API error codes (ok:false) that describe a
// passing condition on Slack's side. Every other code describes the request
// or the credentials and is permanent.
var retryableCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

// classify turns a failed attempt into a *DeliveryError. ctx is the caller's
// context, to tell its cancellation from the attempt's own timeout.
func (n *Notifier) classify(ctx context.Context, err error, ex *exchange) *DeliveryError {
	de := &DeliveryError{Op: n.op, StatusCode: ex.status}
	var reason string
	switch {
	case ex.status == http.StatusTooManyRequests:
		de.Retryable = true
		de.Code = slackCode(ex.body)
		if d, ok := notify.RetryAfter(ex.header, n.now()); ok {
			de.RetryAfter, de.retryAfterKnown = d, true
		} else if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
			de.RetryAfter, de.retryAfterKnown = rl.RetryAfter, true
		}
		reason = "HTTP 429: rate limited"
		de.err = keepSlackError(err)
	case ex.status != 0 && ex.status != http.StatusOK:
		de.Retryable = notify.HTTPStatusRetryable(ex.status)
		de.Code = slackCode(ex.body)
		reason = fmt.Sprintf("HTTP %d", ex.status)
		if de.Code != "" {
			reason += ": " + de.Code
		}
		de.err = keepSlackError(err)
	case ex.status == http.StatusOK:
		// chat.postMessage answers 200 with ok:false for API errors.
		if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
			de.Code = se.Err
			de.Retryable = retryableCodes[se.Err]
			if de.Retryable {
				if d, ok := notify.RetryAfter(ex.header, n.now()); ok {
					de.RetryAfter, de.retryAfterKnown = d, true
				}
			}
			reason = "Slack error: " + se.Err
			de.err = se
		} else {
			// A 200 that is not Slack's JSON, e.g. from a proxy.
			de.Retryable = true
			reason = "unreadable response"
			de.err = unwrapURLError(err)
		}
	case ctx.Err() != nil:
		// The caller gave up (shutdown); the outbox keeps the delivery.
		de.Retryable = true
		reason = "cancelled"
		de.err = ctx.Err()
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		de.Retryable = true
		reason = fmt.Sprintf("timed out after %s", n.cfg.Timeout)
		de.err = context.DeadlineExceeded
	default:
		// Connection refused, DNS failure, reset, TLS errors: all network
		// errors are worth another attempt.
		de.Retryable = true
		cause := unwrapURLError(err)
		reason = "POST failed: " + cause.Error()
		de.err = cause
	}
	de.msg = n.scrub(de.Op + ": " + reason)
	return de
}

// scrub removes every secret from s, whatever produced it.
func (n *Notifier) scrub(s string) string {
	for _, sec := range n.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// keepSlackError returns slack-go's typed error from err's chain, which
// carries no URL, or nil.
func keepSlackError(err error) error {
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return rl
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return sc
	}
	return nil
}

// unwrapURLError returns the cause inside a *url.Error, whose own message
// quotes the request URL.
func unwrapURLError(err error) error {
	for {
		ue, ok := errors.AsType[*url.Error](err)
		if !ok || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}

func isTimeout(err error) bool {
	t, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err)
	return ok && t.Timeout()
}

// slackCode extracts Slack's error code from an error body: a webhook's
// plain "channel_not_found", or the Web API's {"ok":false,"error":"..."}.
func slackCode(body []byte) string {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || len(b) > 200 {
		return ""
	}
	if b[0] == '{' {
		var r struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &r) != nil {
			return ""
		}
		b = []byte(r.Error)
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return ""
		}
	}
	return string(b)
}

// exchange records what the transport saw of one attempt's response, which
// slack-go does not return: the status, headers and the start of an error
// body.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

type exchangeKey struct{}

// maxErrorBody bounds how much of an error response is kept.
const maxErrorBody = 1 << 10

// recordingTransport fills the request context's *exchange.
type recordingTransport struct {
	base http.RoundTripper
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ex, ok := req.Context().Value(exchangeKey{}).(*exchange)
	if !ok {
		return resp, nil
	}
	ex.status = resp.StatusCode
	ex.header = resp.Header.Clone()
	ex.body = nil
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		ex.body = head
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return resp, nil
}
