package client

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures a Client. A nil *Config means all defaults.
type Config struct {
	// Token is the API token (WATCHDOG_API_TOKEN), sent as a bearer token;
	// "" sends none.
	Token string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds each call, its retries included, when the caller's
	// context has no earlier deadline. Default 30s; negative means none.
	Timeout time.Duration
	// MaxRetries bounds how often a call answered 429 or 503 is sent
	// again. Default 3; negative means never.
	MaxRetries int
	// MaxRetryWait bounds each wait before a retry, whatever Retry-After
	// asks. Default 30s.
	MaxRetryWait time.Duration
}

// Defaults of Config.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetries   = 3
	DefaultMaxRetryWait = 30 * time.Second
)

func (c *Config) withDefaults() Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.HTTPClient = cmp.Or(out.HTTPClient, http.DefaultClient)
	out.Timeout = cmp.Or(out.Timeout, DefaultTimeout)
	out.MaxRetries = cmp.Or(out.MaxRetries, DefaultMaxRetries)
	if out.MaxRetryWait <= 0 {
		out.MaxRetryWait = DefaultMaxRetryWait
	}
	return out
}

// Client calls one Ticket Watchdog server. It is safe for concurrent use.
// Create it with New.
type Client struct {
	base string
	cfg  Config
	raw  *ClientWithResponses
}

// New returns a client of the server at baseURL, such as
// "http://localhost:8000" (with a path prefix where the API is mounted
// under one).
func New(baseURL string, cfg *Config) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want http:// or https:// and a host", baseURL)
	}
	c := &Client{base: strings.TrimSuffix(baseURL, "/"), cfg: cfg.withDefaults()}
	opts := []ClientOption{WithHTTPClient(&retrier{doer: c.cfg.HTTPClient, cfg: c.cfg})}
	if c.cfg.Token != "" {
		opts = append(opts, WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
			return nil
		}))
	}
	if c.raw, err = NewClientWithResponses(c.base, opts...); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// Raw is the generated client, with one method per operation of the API's
// OpenAPI document, sharing this client's token, retries and HTTP client.
func (c *Client) Raw() *ClientWithResponses { return c.raw }

// withTimeout bounds ctx by Config.Timeout unless it ends sooner.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.Timeout < 0 {
		return ctx, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.cfg.Timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// Ingest records events and returns the resulting tickets, in order of
// first appearance. One event is sent as an object, as the seed's clients
// did, and several as an array; either way the answer is a slice. The
// batch is validated whole: an invalid item gives an *APIError (422) whose
// Details name each bad item and field, and nothing is written. Sending
// the same events again changes nothing, so a failed call can be retried.
func (c *Client) Ingest(ctx context.Context, events ...Event) ([]Ticket, error) {
	var body Events
	var err error
	switch len(events) {
	case 0:
		return nil, errors.New("client: Ingest: no events")
	case 1:
		err = body.FromEvent(events[0])
	default:
		err = body.FromEventBatch(events)
	}
	if err != nil {
		return nil, fmt.Errorf("client: Ingest: %w", err)
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.raw.PostTicketsWithResponse(ctx, nil, body)
	if err != nil {
		return nil, fmt.Errorf("client: POST /tickets: %w", err)
	}
	if resp.JSON200 == nil {
		return nil, answerError(resp.HTTPResponse, resp.Body)
	}
	// One ticket for one event, an array for a batch.
	if b := bytes.TrimLeft(resp.Body, " \t\r\n"); len(b) > 0 && b[0] == '{' {
		t, err := resp.JSON200.AsTicket()
		if err != nil {
			return nil, fmt.Errorf("client: POST /tickets: %w", err)
		}
		return []Ticket{t}, nil
	}
	ts, err := resp.JSON200.AsTicketList()
	if err != nil {
		return nil, fmt.Errorf("client: POST /tickets: %w", err)
	}
	return ts, nil
}

// IngestEncoded posts a body already encoded as JSON (one event object or
// an array of them) and reads the answer without decoding it: for load
// generators, whose measurements must not include encoding and decoding.
func (c *Client) IngestEncoded(ctx context.Context, body []byte) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.raw.PostTicketsWithBody(ctx, nil, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("client: POST /tickets: %w", err)
	}
	return drain(resp)
}

// drain reads an answer whole, as any client would, and returns an
// *APIError unless it is a 200.
func drain(resp *http.Response) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return answerError(resp, b)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("client: %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return nil
}

// Ticket returns a ticket with its status history, its alerts (each with
// its details object and deliveries) and both SLA clocks evaluated now. An
// unknown id is an *APIError with StatusCode 404 (see IsNotFound).
func (c *Client) Ticket(ctx context.Context, id string) (*TicketDetail, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.raw.GetTicketWithResponse(ctx, id, nil)
	if err != nil {
		return nil, fmt.Errorf("client: GET /tickets/%s: %w", id, err)
	}
	if resp.JSON200 == nil {
		return nil, answerError(resp.HTTPResponse, resp.Body)
	}
	return resp.JSON200, nil
}

// Acknowledge acknowledges clocks of ticket id (req.SLAType nil: every
// running clock) and returns the acknowledgements made. A stopped clock
// is an *APIError with StatusCode 409; an until in the past, 422.
func (c *Client) Acknowledge(ctx context.Context, id string, req AckRequest) ([]Ack, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.raw.AcknowledgeTicketWithResponse(ctx, id, nil, req)
	if err != nil {
		return nil, fmt.Errorf("client: POST /tickets/%s/ack: %w", id, err)
	}
	if resp.JSON200 == nil {
		return nil, answerError(resp.HTTPResponse, resp.Body)
	}
	return resp.JSON200.Acks, nil
}

// Unacknowledge withdraws the acknowledgement of clock slaType of ticket
// id ("" for every clock's) and returns how many it removed.
func (c *Client) Unacknowledge(ctx context.Context, id, slaType string) (int, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	p := &UnacknowledgeTicketParams{}
	if slaType != "" {
		st := SLAType(slaType)
		p.SLAType = &st
	}
	resp, err := c.raw.UnacknowledgeTicketWithResponse(ctx, id, p)
	if err != nil {
		return 0, fmt.Errorf("client: DELETE /tickets/%s/ack: %w", id, err)
	}
	if resp.JSON200 == nil || resp.JSON200.Removed == nil {
		return 0, answerError(resp.HTTPResponse, resp.Body)
	}
	return *resp.JSON200.Removed, nil
}

// DashboardQuery filters and pages the dashboard; the zero value asks for
// the first 100 tickets, newest first.
type DashboardQuery struct {
	Offset int
	// Limit is the page size, 1 to 1000; 0 means the server's 100.
	Limit int
	// State is "ok", "alert" (alert or breach, as the seed had it),
	// "breach" or "untracked"; "" means any.
	State string
	// Tier and Priority filter case-insensitively; "" means any.
	Tier     string
	Priority string
	// Policy keeps the tickets under this SLA policy (by name, exactly);
	// "" means any.
	Policy string
	// Open selects open (true) or closed (false) tickets; nil means both.
	Open *bool
	// Order is "created" (newest first, the default) or "urgency" (soonest
	// breach first).
	Order string
}

func (q DashboardQuery) params() *GetDashboardParams {
	p := &GetDashboardParams{Open: q.Open}
	if q.Offset != 0 {
		p.Offset = &q.Offset
	}
	if q.Limit != 0 {
		p.Limit = &q.Limit
	}
	if q.State != "" {
		s := GetDashboardParamsState(q.State)
		p.State = &s
	}
	if q.Tier != "" {
		p.Tier = &q.Tier
	}
	if q.Priority != "" {
		p.Priority = &q.Priority
	}
	if q.Policy != "" {
		p.Policy = &q.Policy
	}
	if q.Order != "" {
		o := GetDashboardParamsOrder(q.Order)
		p.Order = &o
	}
	return p
}

// DashboardPage is a page of the dashboard and the number of tickets
// matching its filters across all pages.
type DashboardPage struct {
	Tickets []Ticket
	Total   int
}

// Dashboard lists a page of tickets.
func (c *Client) Dashboard(ctx context.Context, q DashboardQuery) (*DashboardPage, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.raw.GetDashboardWithResponse(ctx, q.params())
	if err != nil {
		return nil, fmt.Errorf("client: GET /dashboard: %w", err)
	}
	if resp.JSON200 == nil || resp.Headers200 == nil {
		return nil, answerError(resp.HTTPResponse, resp.Body)
	}
	return &DashboardPage{Tickets: *resp.JSON200, Total: resp.Headers200.XTotalCount}, nil
}

// AlertsQuery pages the recorded alerts, newest first; the zero value
// asks for the newest 100.
type AlertsQuery struct {
	// AfterID lists only alerts with a greater id: after the last
	// AlertMessage.AlertID a stream client saw, to fill a gap.
	AfterID int64
	// BeforeID, when above 0, lists only alerts with a smaller id: the
	// next page back.
	BeforeID int64
	// Limit is the most alerts answered (1 to 1000); 0 means 100.
	Limit int
}

// Alerts lists recorded alerts of every ticket, newest first.
func (c *Client) Alerts(ctx context.Context, q AlertsQuery) ([]Alert, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	p := &GetAlertsParams{}
	if q.AfterID != 0 {
		p.AfterID = &q.AfterID
	}
	if q.BeforeID != 0 {
		p.BeforeID = &q.BeforeID
	}
	if q.Limit != 0 {
		p.Limit = &q.Limit
	}
	resp, err := c.raw.GetAlertsWithResponse(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("client: GET /alerts: %w", err)
	}
	if resp.JSON200 == nil {
		return nil, answerError(resp.HTTPResponse, resp.Body)
	}
	return *resp.JSON200, nil
}

// Ready asks /readyz, once (a 503 is its answer, not a reason to retry).
// It returns the server's readiness details either way, and an *APIError
// with StatusCode 503 when it is not ready.
func (c *Client) Ready(ctx context.Context) (*Readiness, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.raw.GetReadinessWithResponse(withoutRetries(ctx), nil)
	if err != nil {
		return nil, fmt.Errorf("client: GET /readyz: %w", err)
	}
	switch {
	case resp.JSON200 != nil:
		return resp.JSON200, nil
	case resp.JSON503 != nil:
		return resp.JSON503, answerError(resp.HTTPResponse, resp.Body)
	}
	return nil, answerError(resp.HTTPResponse, resp.Body)
}

// Health asks /healthz, once: nil means the server is alive.
func (c *Client) Health(ctx context.Context) error {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.raw.GetHealthWithResponse(withoutRetries(ctx), nil)
	if err != nil {
		return fmt.Errorf("client: GET /healthz: %w", err)
	}
	if resp.JSON200 == nil {
		return answerError(resp.HTTPResponse, resp.Body)
	}
	return nil
}

// AlertsURL is the ws:// (or wss://) address of the alert stream with the
// given filters (ticket_id, tier, priority, state, sla_type; nil for
// none). Dial it with AuthHeader when the server needs a token.
func (c *Client) AlertsURL(filters url.Values) string {
	u := "ws" + strings.TrimPrefix(c.base, "http") + "/ws/alerts"
	if len(filters) > 0 {
		u += "?" + filters.Encode()
	}
	return u
}

// AuthHeader holds the Authorization header the client sends (none
// without a token), for dialling AlertsURL.
func (c *Client) AuthHeader() http.Header {
	h := http.Header{}
	if c.cfg.Token != "" {
		h.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	return h
}
