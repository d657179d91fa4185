// Package webhook POSTs watchdog alerts as JSON to an HTTP endpoint, signed
// with HMAC-SHA256 so that the receiver can check they come from the
// watchdog.
//
// Each request carries one or more alerts (several when they queued up
// together, or a route's digest), each with its own delivery_id: a retried
// delivery may come in a different group, so receivers de-duplicate by
// delivery_id, not by body. With a secret, the request has the header
//
//	X-Watchdog-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>
//
// Verify reports whether a body and header match a secret; see its example.
// Failures are classified as Slack's are: 429 (with Retry-After) and 503
// pause the destination, other 5xx and network errors retry, any other 4xx
// is permanent.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify"
)

// SignatureHeader is the request header that carries the signature.
const SignatureHeader = "X-Watchdog-Signature"

// Config configures a Notifier. A nil *Config means all defaults.
type Config struct {
	// Name names the receiver in errors and in the body ("receiver").
	Name string
	// Secret signs each body; empty sends unsigned requests.
	Secret string
	// DashboardURL links each ticket (<url>/tickets/<id>, or {id} replaced).
	DashboardURL string
	// MaxAlertsPerRequest is the most alerts one request carries when
	// several queued up. Default 100.
	MaxAlertsPerRequest int
	// Timeout bounds one request. Default 10s.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new client.
	HTTPClient *http.Client
}

// Notifier posts alerts to one URL. It is a watchdog.DigestNotifier.
type Notifier struct {
	cfg    Config
	url    string
	op     string
	client *http.Client
}

var _ watchdog.DigestNotifier = (*Notifier)(nil)
var _ watchdog.BatchNotifier = (*Notifier)(nil)

// New returns a Notifier posting to target. Its errors never quote the URL
// or the secret.
func New(target string, cfg *Config) (*Notifier, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if err := notify.CheckHTTPURL(target); err != nil {
		return nil, fmt.Errorf("webhook: url %w", err)
	}
	if c.MaxAlertsPerRequest == 0 {
		c.MaxAlertsPerRequest = 100
	}
	if c.MaxAlertsPerRequest < 1 {
		return nil, fmt.Errorf("webhook: MaxAlertsPerRequest %d must be at least 1", c.MaxAlertsPerRequest)
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	op := "webhook"
	if c.Name != "" {
		op += " " + c.Name
	}
	return &Notifier{cfg: c, url: target, op: op, client: client}, nil
}

// Body is the JSON a request carries.
type Body struct {
	// Receiver is the receiver's name.
	Receiver string `json:"receiver,omitempty"`
	// Digest marks a route's digest (group_interval).
	Digest bool    `json:"digest,omitempty"`
	Alerts []Entry `json:"alerts"`
}

// Entry is one alert of a request, with its ticket.
type Entry struct {
	// DeliveryID identifies this alert's delivery to this receiver: the
	// same on every retry.
	DeliveryID int64 `json:"delivery_id"`
	watchdog.Alert
	Ticket Ticket `json:"ticket"`
}

// Ticket is what the alert says of its ticket.
type Ticket struct {
	ID              string `json:"id"`
	CustomerTier    string `json:"customer_tier"`
	Priority        string `json:"priority"`
	EscalationLevel int    `json:"escalation_level"`
	URL             string `json:"url,omitempty"`
}

// MarshalJSON keeps the alert's own JSON (with its details object) beside
// delivery_id and ticket.
func (e Entry) MarshalJSON() ([]byte, error) {
	a, err := json.Marshal(e.Alert)
	if err != nil {
		return nil, err
	}
	extra, err := json.Marshal(struct {
		DeliveryID int64  `json:"delivery_id"`
		Ticket     Ticket `json:"ticket"`
	}{e.DeliveryID, e.Ticket})
	if err != nil {
		return nil, err
	}
	// Both are JSON objects: join their members.
	return append(append(extra[:len(extra)-1:len(extra)-1], ','), a[1:]...), nil
}

// Deliver posts one alert.
func (n *Notifier) Deliver(ctx context.Context, a watchdog.Alert) (bool, error) {
	return n.post(ctx, []watchdog.Alert{a}, false)
}

// MaxBatch is Config.MaxAlertsPerRequest.
func (n *Notifier) MaxBatch() int { return n.cfg.MaxAlertsPerRequest }

// DeliverBatch posts several alerts in one request.
func (n *Notifier) DeliverBatch(ctx context.Context, alerts []watchdog.Alert) (bool, error) {
	return n.post(ctx, alerts, false)
}

// DeliverDigest posts a route's digest: every alert, marked as a digest.
func (n *Notifier) DeliverDigest(ctx context.Context, alerts []watchdog.Alert) (bool, error) {
	return n.post(ctx, alerts, true)
}

func (n *Notifier) post(ctx context.Context, alerts []watchdog.Alert, digest bool) (bool, error) {
	body := Body{Receiver: n.cfg.Name, Digest: digest, Alerts: make([]Entry, len(alerts))}
	for i, a := range alerts {
		a.Deliveries = nil
		body.Alerts[i] = Entry{DeliveryID: a.DeliveryID, Alert: a, Ticket: Ticket{
			ID: a.TicketID, CustomerTier: a.CustomerTier, Priority: a.Priority, EscalationLevel: a.EscalationLevel,
			URL: notify.TicketLink(n.cfg.DashboardURL, a.TicketID)}}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return false, fmt.Errorf("%s: encode: %w", n.op, err)
	}
	h := http.Header{}
	if n.cfg.Secret != "" {
		h.Set(SignatureHeader, Sign(data, n.cfg.Secret))
	}
	h.Set("User-Agent", "ticket-watchdog")
	actx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	return notify.PostJSON(actx, n.client, n.op, n.url, data, h)
}

// Sign returns the signature header value of body with secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header, the X-Watchdog-Signature value of a
// request, signs body with secret. It compares in constant time.
func Verify(body []byte, header, secret string) bool {
	want := Sign(body, secret)
	return hmac.Equal([]byte(header), []byte(want))
}
