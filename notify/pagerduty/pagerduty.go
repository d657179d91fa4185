// Package pagerduty sends watchdog alerts to PagerDuty through the Events
// API v2.
//
// Each alert is a trigger event whose dedup_key is ticket:clock:cycle
// ("1234:resolution:0"), so one incident per SLA clock cycle gathers its
// stages (alert, breach, escalations) instead of paging once per stage.
// Acknowledge and Resolve send the matching acknowledge and resolve events.
// The routing key never appears in errors.
package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify"
)

// DefaultEndpoint is PagerDuty's Events API v2 enqueue URL.
const DefaultEndpoint = "https://events.pagerduty.com/v2/enqueue"

// Config configures a Notifier. A nil *Config means all defaults.
type Config struct {
	// Name names the receiver in errors.
	Name string
	// Endpoint is the Events API URL; default DefaultEndpoint (tests point
	// it at a stand-in).
	Endpoint string
	// DashboardURL links each ticket (<url>/tickets/<id>, or {id} replaced).
	DashboardURL string
	// Timeout bounds one request. Default 10s.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new client.
	HTTPClient *http.Client
}

// Notifier sends Events API v2 events with one routing key.
type Notifier struct {
	cfg    Config
	key    string
	op     string
	client *http.Client
}

var _ watchdog.Notifier = (*Notifier)(nil)

// New returns a Notifier for the service whose integration (routing) key
// is routingKey.
func New(routingKey string, cfg *Config) (*Notifier, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if strings.TrimSpace(routingKey) == "" {
		return nil, fmt.Errorf("pagerduty: routing key is empty")
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if err := notify.CheckHTTPURL(c.Endpoint); err != nil {
		return nil, fmt.Errorf("pagerduty: endpoint %w", err)
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	op := "pagerduty"
	if c.Name != "" {
		op += " " + c.Name
	}
	return &Notifier{cfg: c, key: routingKey, op: op, client: client}, nil
}

// Event is an Events API v2 event.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
}

// Payload describes a trigger event's incident.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link shown on the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// DedupKey is the incident key of a clock cycle of a ticket.
func DedupKey(ticketID string, c watchdog.SLAClock, cycle int64) string {
	return ticketID + ":" + string(c) + ":" + strconv.FormatInt(cycle, 10)
}

// Deliver sends a's trigger event.
func (n *Notifier) Deliver(ctx context.Context, a watchdog.Alert) (bool, error) {
	ev := Event{EventAction: "trigger", DedupKey: DedupKey(a.TicketID, a.SLAClock, a.Key().Cycle), Payload: &Payload{
		Summary:   fmt.Sprintf("Ticket %s: %s (%s/%s)", a.TicketID, a.Message, a.CustomerTier, a.Priority),
		Source:    "ticket-watchdog",
		Severity:  severity(a.Stage),
		Component: a.CustomerTier,
		Group:     a.Priority,
		Class:     a.Stage,
		CustomDetails: map[string]any{
			"ticket_id": a.TicketID, "sla_type": a.SLAClock, "stage": a.Stage, "escalation_level": a.EscalationLevel,
			"details": a.Details(), "delivery_id": a.DeliveryID,
		},
	}}
	if !a.DueAt.IsZero() {
		ev.Payload.Timestamp = a.DueAt.UTC().Format(time.RFC3339)
	}
	if l := notify.TicketLink(n.cfg.DashboardURL, a.TicketID); l != "" {
		ev.Links = []Link{{Href: l, Text: "Ticket " + a.TicketID}}
	}
	return n.send(ctx, ev)
}

// Acknowledge sends the acknowledge event of a clock cycle's incident.
func (n *Notifier) Acknowledge(ctx context.Context, ticketID string, c watchdog.SLAClock, cycle int64) (bool, error) {
	return n.send(ctx, Event{EventAction: "acknowledge", DedupKey: DedupKey(ticketID, c, cycle)})
}

// Acknowledged sends the acknowledge event of the acknowledged clock
// cycle's incident: it makes the Notifier a watchdog.AckNotifier.
func (n *Notifier) Acknowledged(ctx context.Context, a watchdog.Ack) error {
	_, err := n.Acknowledge(ctx, a.TicketID, a.SLAClock, a.Cycle)
	return err
}

var _ watchdog.AckNotifier = (*Notifier)(nil)

// Resolved sends the resolve event of a closed ticket's clock cycle: it
// makes the Notifier a watchdog.ResolveNotifier.
func (n *Notifier) Resolved(ctx context.Context, ticketID string, c watchdog.SLAClock, cycle int64) error {
	_, err := n.Resolve(ctx, ticketID, c, cycle)
	return err
}

var _ watchdog.ResolveNotifier = (*Notifier)(nil)

// Resolve sends the resolve event of a clock cycle's incident.
func (n *Notifier) Resolve(ctx context.Context, ticketID string, c watchdog.SLAClock, cycle int64) (bool, error) {
	return n.send(ctx, Event{EventAction: "resolve", DedupKey: DedupKey(ticketID, c, cycle)})
}

func (n *Notifier) send(ctx context.Context, ev Event) (bool, error) {
	ev.RoutingKey = n.key
	data, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("%s: encode: %w", n.op, err)
	}
	actx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	return notify.PostJSON(actx, n.client, n.op, n.cfg.Endpoint, data, nil)
}

// severity maps a stage to PagerDuty's severities.
func severity(stage string) string {
	switch {
	case stage == watchdog.StageAlert:
		return "warning"
	case stage == watchdog.StageBreach:
		return "error"
	}
	return "critical"
}
