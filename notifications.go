package watchdog

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Notifications is the notifications: section of an SLA file: the
// receivers alerts may go to and the ordered routes that pick them. With
// one, the section is the whole truth about where alerts go; a Policy
// without one (Notifications nil) sends every alert to every notifier the
// engine was given, as before.
type Notifications struct {
	// Receivers by name, as declared.
	Receivers map[string]*Receiver
	// Routes in file order; the first that matches an alert decides, unless
	// it says Continue.
	Routes []*Route
	// EnvRefs names the environment variables the section references with
	// ${VAR}, sorted, so that a server can warn about variables it no
	// longer reads.
	EnvRefs []string
}

// Secret is a configuration value that must never be shown: a webhook URL,
// a token, a signing secret. Formatting it with %v, %s or %q, or encoding it
// as JSON or text, gives "[secret]"; Reveal gives the value.
type Secret string

const redacted = "[secret]"

// Reveal returns the secret's value, for the code that uses it.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string { return redacted }

// GoString hides the value from %#v.
func (s Secret) GoString() string { return redacted }

// MarshalText hides the value from encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Receiver is one named destination of a notifications section: exactly one
// of Slack, Webhook and PagerDuty is set.
type Receiver struct {
	Name      string
	Slack     *SlackReceiver
	Webhook   *WebhookReceiver
	PagerDuty *PagerDutyReceiver
}

// Kind is "slack", "webhook" or "pagerduty".
func (r *Receiver) Kind() string {
	switch {
	case r.Slack != nil:
		return "slack"
	case r.Webhook != nil:
		return "webhook"
	case r.PagerDuty != nil:
		return "pagerduty"
	}
	return ""
}

// Equal reports whether r and o describe the same destination with the
// same settings.
func (r *Receiver) Equal(o *Receiver) bool {
	switch {
	case r == nil || o == nil:
		return r == o
	case r.Name != o.Name || r.Kind() != o.Kind():
		return false
	case r.Slack != nil:
		return *r.Slack == *o.Slack
	case r.Webhook != nil:
		return *r.Webhook == *o.Webhook
	case r.PagerDuty != nil:
		return *r.PagerDuty == *o.PagerDuty
	}
	return true
}

// SlackReceiver posts to Slack through an incoming webhook (WebhookURL) or
// chat.postMessage (BotToken and Channel).
type SlackReceiver struct {
	WebhookURL Secret
	BotToken   Secret
	Channel    string
	// MaxAlerts is the most alerts one message carries; 0 means the
	// server's default.
	MaxAlerts int
}

// WebhookReceiver POSTs JSON to URL, signed with Secret when set.
type WebhookReceiver struct {
	URL    Secret
	Secret Secret
}

// PagerDutyReceiver sends Events API v2 events with RoutingKey to Endpoint
// (empty: PagerDuty's).
type PagerDutyReceiver struct {
	RoutingKey Secret
	Endpoint   string
}

// Route is one entry of the routes list.
type Route struct {
	// Line is the route's line in the SLA file.
	Line int
	// Match selects the alerts of the route; the zero Match matches every
	// alert (the default route).
	Match Match
	// Receivers the route sends to, by name.
	Receivers []string
	// Continue lets later routes match too.
	Continue bool
	// GroupInterval, when set, makes the route's receivers send digests:
	// the first alert on an idle receiver goes at once, later ones at most
	// one message per interval.
	GroupInterval time.Duration
	// DeliverDuring, when set, holds deliveries outside its open hours
	// until it opens, except for the stages in DeliverDuringExcept.
	DeliverDuring       *Calendar
	DeliverDuringName   string
	DeliverDuringExcept []string
	// Inhibit supersedes a lower stage's delivery to a receiver when a
	// higher stage of the same clock cycle is queued for it before the
	// lower one's first attempt. On unless the route says inhibit: false.
	Inhibit bool
	// AckTimeout, when set, sends the route's receivers a reminder when a
	// clock is still breached that long after it was acknowledged.
	AckTimeout time.Duration
}

// stageMatches reports whether a stage name is named by a list of stage
// names, "escalation" naming every escalation step.
func stageMatches(list []string, stage string) bool {
	for _, s := range list {
		if s == stage || (s == "escalation" && strings.HasPrefix(stage, "escalation-")) {
			return true
		}
	}
	return false
}

// stageRank orders the stages of one clock cycle: alert, breach, then the
// escalation steps; -1 for a name it does not know.
func stageRank(stage string) int {
	switch stage {
	case StageAlert:
		return 0
	case StageBreach:
		return 1
	}
	if n, ok := strings.CutPrefix(stage, "escalation-"); ok {
		if i, err := strconv.Atoi(n); err == nil && i > 0 {
			return 1 + i
		}
	}
	return -1
}

// alertSubject is what a route's match sees of an alert and its ticket
// (nil when unknown: then tags and attributes are absent).
type alertSubject struct {
	a *Alert
	t *Ticket
}

// MatchValues answers the route match keys for the alert.
func (s alertSubject) MatchValues(key string) []string {
	switch key {
	case "tier":
		return nonEmpty(s.a.CustomerTier)
	case "priority":
		return nonEmpty(s.a.Priority)
	case "sla_type":
		return nonEmpty(string(s.a.SLAClock))
	case "stage":
		if strings.HasPrefix(s.a.Stage, "escalation-") {
			return []string{s.a.Stage, "escalation"}
		}
		return nonEmpty(s.a.Stage)
	case "policy":
		return nonEmpty(s.a.Policy)
	}
	if s.t == nil {
		return nil
	}
	// tags and attributes.<name> are the ticket's.
	return s.t.MatchValues(key)
}

// usesTicketFields reports whether a route matches on the ticket's tags or
// attributes, which alerts do not carry: routing an alert then needs its
// ticket.
func (n *Notifications) usesTicketFields() bool {
	if n == nil {
		return false
	}
	for _, r := range n.Routes {
		for _, k := range r.Match.Keys() {
			if k == "tags" || strings.HasPrefix(k, attributePrefix) {
				return true
			}
		}
	}
	return false
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// RoutedDelivery is one receiver an alert is routed to and how.
type RoutedDelivery struct {
	Receiver string
	// Route is the first route that chose this receiver for the alert.
	Route *Route
}

// Resolve returns the receivers of alert a of ticket t (nil when unknown:
// routes on tags and attributes then do not match), each once, in name
// order, with the first route that chose it.
func (n *Notifications) Resolve(a Alert, t *Ticket) []RoutedDelivery {
	if n == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []RoutedDelivery
	for _, r := range n.Routes {
		if !r.Match.Matches(alertSubject{&a, t}) {
			continue
		}
		for _, name := range r.Receivers {
			if !seen[name] {
				seen[name] = true
				out = append(out, RoutedDelivery{Receiver: name, Route: r})
			}
		}
		if !r.Continue {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Receiver < out[j].Receiver })
	return out
}

// ReceiverNames lists the receivers, sorted.
func (n *Notifications) ReceiverNames() []string {
	if n == nil {
		return nil
	}
	out := make([]string, 0, len(n.Receivers))
	for name := range n.Receivers {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// GroupInterval is the digest interval of a receiver: that of the routes
// naming it (the parser makes them agree), zero when none sets one.
func (n *Notifications) GroupInterval(receiver string) time.Duration {
	if n == nil {
		return 0
	}
	for _, r := range n.Routes {
		if r.GroupInterval > 0 && slices.Contains(r.Receivers, receiver) {
			return r.GroupInterval
		}
	}
	return 0
}

// heldUntil is when a delivery of a routed through r at now may go: zero
// when at once, else the next opening of the route's calendar.
func (r *Route) heldUntil(a Alert, now time.Time) time.Time {
	if r == nil || r.DeliverDuring == nil || stageMatches(r.DeliverDuringExcept, a.Stage) {
		return time.Time{}
	}
	open := r.DeliverDuring.NextOpen(now)
	if !open.After(now) {
		return time.Time{}
	}
	return open
}

// writeSummary describes the section for check-config: receivers by kind
// (no secret: a Slack channel is shown, URLs and keys are not) and routes
// in order with their options.
func (n *Notifications) writeSummary(b *strings.Builder) {
	if n == nil {
		return
	}
	b.WriteString("receivers:\n")
	for _, name := range n.ReceiverNames() {
		r := n.Receivers[name]
		fmt.Fprintf(b, "  %s: %s", name, r.Kind())
		if r.Slack != nil && r.Slack.Channel != "" {
			fmt.Fprintf(b, " channel %s", r.Slack.Channel)
		}
		if r.Webhook != nil && r.Webhook.Secret != "" {
			b.WriteString(" signed")
		}
		b.WriteString("\n")
	}
	b.WriteString("routes:\n")
	for i, r := range n.Routes {
		fmt.Fprintf(b, "  %d. line %d: match %s -> %s", i+1, r.Line, r.Match, strings.Join(r.Receivers, ", "))
		if r.Continue {
			b.WriteString("; continue")
		}
		if !r.Inhibit {
			b.WriteString("; no inhibition")
		}
		if r.GroupInterval > 0 {
			b.WriteString("; group_interval " + shortDuration(r.GroupInterval))
		}
		if r.DeliverDuring != nil {
			b.WriteString("; deliver_during " + r.DeliverDuringName)
			if len(r.DeliverDuringExcept) > 0 {
				b.WriteString(" except " + strings.Join(r.DeliverDuringExcept, ", "))
			}
		}
		if r.AckTimeout > 0 {
			b.WriteString("; ack_timeout " + shortDuration(r.AckTimeout))
		}
		b.WriteString("\n")
	}
}

// ackTimeout is the reminder delay for an acknowledged clock whose latest
// alert is a, and the receivers to remind: the smallest ack_timeout of the
// routes that pick a, and their receivers; zero when none sets one.
func (n *Notifications) ackTimeout(a Alert, t *Ticket) (time.Duration, []string) {
	var (
		d         time.Duration
		receivers []string
	)
	if n == nil {
		return 0, nil
	}
	for _, r := range n.Routes {
		if !r.Match.Matches(alertSubject{&a, t}) {
			continue
		}
		if r.AckTimeout > 0 {
			if d == 0 || r.AckTimeout < d {
				d = r.AckTimeout
			}
			for _, name := range r.Receivers {
				if !slices.Contains(receivers, name) {
					receivers = append(receivers, name)
				}
			}
		}
		if !r.Continue {
			break
		}
	}
	return d, receivers
}

// minAckTimeout is the smallest ack_timeout of any route; zero for none.
func (n *Notifications) minAckTimeout() time.Duration {
	var d time.Duration
	if n == nil {
		return 0
	}
	for _, r := range n.Routes {
		if r.AckTimeout > 0 && (d == 0 || r.AckTimeout < d) {
			d = r.AckTimeout
		}
	}
	return d
}
