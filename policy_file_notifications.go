package watchdog

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Bounds of a notifications section.
const (
	maxGroupInterval = 24 * time.Hour
	maxAckTimeout    = 7 * 24 * time.Hour
	// maxSlackAttachments is the most attachments Slack takes in a message.
	maxSlackAttachments = 100
)

// routeMatchKeys are the keys a route's match may test; attributes.<name>
// is accepted as well.
var routeMatchKeys = []string{"tier", "priority", "sla_type", "stage", "policy", "tags", matchAttributes}

// notifications parses the notifications: section. Receivers are parsed
// first so that routes can name them, wherever they appear.
func (ps *parser) notifications(e *entry, p *Policy) *Notifications {
	before := ps.count()
	entries, ok := ps.mapping(e.val, e.path, exact)
	if !ok {
		return nil
	}
	n := &Notifications{Receivers: map[string]*Receiver{}}
	ps.declared = map[string]bool{}
	var receivers, routes *entry
	for i := range entries {
		f := &entries[i]
		switch f.name {
		case "receivers":
			receivers = f
		case "routes":
			routes = f
		default:
			ps.unknown(f, "receivers", "routes")
		}
	}
	if receivers == nil {
		ps.add(e.key.Line, e.path+".receivers", "missing: a notifications section needs at least one receiver")
	} else {
		ps.receivers(receivers, n)
	}
	if routes == nil {
		ps.add(e.key.Line, e.path+".routes", "missing: a notifications section needs at least one route")
	} else {
		ps.routes(routes, n, p)
	}
	for name := range ps.envRefs {
		n.EnvRefs = append(n.EnvRefs, name)
	}
	sort.Strings(n.EnvRefs)
	if ps.count() != before {
		return nil
	}
	return n
}

func (ps *parser) receivers(e *entry, n *Notifications) {
	entries, ok := ps.mapping(e.val, e.path, exact)
	if !ok {
		return
	}
	if len(entries) == 0 {
		ps.add(e.key.Line, e.path, "no receivers: declare at least one")
	}
	for i := range entries {
		re := &entries[i]
		if !validName(re.name) {
			ps.add(re.key.Line, re.path, "receiver names are 1 to 64 letters, digits, '-', '_' or '.'")
			continue
		}
		kinds, ok := ps.mapping(re.val, re.path, exact)
		if !ok {
			continue
		}
		if len(kinds) != 1 {
			ps.add(re.key.Line, re.path, "a receiver is exactly one of slack, webhook or pagerduty")
			continue
		}
		// Declared: routes may name it even when its settings fail, so
		// that one bad value is one error, not one per route.
		ps.declared[re.name] = true
		r := &Receiver{Name: re.name}
		k := &kinds[0]
		switch k.name {
		case "slack":
			r.Slack = ps.slackReceiver(k)
		case "webhook":
			r.Webhook = ps.webhookReceiver(k)
		case "pagerduty":
			r.PagerDuty = ps.pagerDutyReceiver(k)
		default:
			ps.unknown(k, "slack", "webhook", "pagerduty")
			continue
		}
		if r.Kind() != "" {
			n.Receivers[re.name] = r
		}
	}
}

// validName reports whether s may name a receiver: it is stored with each
// delivery row and shown in logs.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// settings reads a receiver's settings: each key of known, expanded; the
// secret ones never quoted in a message.
func (ps *parser) settings(e *entry, known []string) (map[string]string, map[string]*entry, bool) {
	entries, ok := ps.mapping(e.val, e.path, exact)
	if !ok {
		return nil, nil, false
	}
	vals, at := map[string]string{}, map[string]*entry{}
	valid := true
	for i := range entries {
		f := &entries[i]
		if !slices.Contains(known, f.name) {
			ps.unknown(f, known...)
			valid = false
			continue
		}
		v, ok := ps.expand(f.val, f.path)
		if !ok {
			valid = false
			continue
		}
		vals[f.name], at[f.name] = v, f
	}
	return vals, at, valid
}

func (ps *parser) slackReceiver(e *entry) *SlackReceiver {
	vals, at, ok := ps.settings(e, []string{"webhook_url", "bot_token", "channel", "max_alerts_per_message"})
	if !ok {
		return nil
	}
	s := &SlackReceiver{WebhookURL: Secret(vals["webhook_url"]), BotToken: Secret(vals["bot_token"]), Channel: vals["channel"]}
	switch {
	case s.WebhookURL != "" && s.BotToken != "":
		ps.add(e.key.Line, e.path, "set webhook_url or bot_token with channel, not both")
		return nil
	case s.WebhookURL != "":
		if !ps.httpURL(at["webhook_url"], string(s.WebhookURL)) {
			return nil
		}
		if s.Channel != "" {
			ps.add(at["channel"].key.Line, at["channel"].path, "a webhook posts to its own channel; channel needs bot_token")
			return nil
		}
	case s.BotToken != "":
		if strings.TrimSpace(s.Channel) == "" {
			ps.add(e.key.Line, e.path+".channel", "missing: bot_token posts with chat.postMessage to a channel")
			return nil
		}
	default:
		ps.add(e.key.Line, e.path, "needs webhook_url, or bot_token with channel")
		return nil
	}
	if f := at["max_alerts_per_message"]; f != nil {
		n, ok := ps.number(f.val, f.path)
		if !ok || n != float64(int(n)) || n < 1 || n > maxSlackAttachments {
			if ok {
				ps.add(f.val.Line, f.path, "must be a whole number from 1 to %d (Slack's limit on attachments)", maxSlackAttachments)
			}
			return nil
		}
		s.MaxAlerts = int(n)
	}
	return s
}

func (ps *parser) webhookReceiver(e *entry) *WebhookReceiver {
	vals, at, ok := ps.settings(e, []string{"url", "secret"})
	if !ok {
		return nil
	}
	if at["url"] == nil {
		ps.add(e.key.Line, e.path+".url", "missing: the address alerts are POSTed to")
		return nil
	}
	if !ps.httpURL(at["url"], vals["url"]) {
		return nil
	}
	if f := at["secret"]; f != nil && vals["secret"] == "" {
		ps.add(f.val.Line, f.path, "is empty: leave secret out for unsigned requests")
		return nil
	}
	return &WebhookReceiver{URL: Secret(vals["url"]), Secret: Secret(vals["secret"])}
}

func (ps *parser) pagerDutyReceiver(e *entry) *PagerDutyReceiver {
	vals, at, ok := ps.settings(e, []string{"routing_key", "endpoint"})
	if !ok {
		return nil
	}
	if strings.TrimSpace(vals["routing_key"]) == "" {
		ps.add(e.key.Line, e.path+".routing_key", "missing: the integration key of a PagerDuty service")
		return nil
	}
	if f := at["endpoint"]; f != nil && !ps.httpURL(f, vals["endpoint"]) {
		return nil
	}
	return &PagerDutyReceiver{RoutingKey: Secret(vals["routing_key"]), Endpoint: vals["endpoint"]}
}

// httpURL checks an http(s) URL without quoting it: it may carry a token.
func (ps *parser) httpURL(f *entry, v string) bool {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps.add(f.val.Line, f.path, "is not an http or https URL (its value is not shown: it may hold a secret)")
		return false
	}
	return true
}

// expand returns a scalar's text with each ${NAME} replaced by the
// environment variable NAME. An unset variable is an issue naming it; the
// value is never quoted in an issue.
func (ps *parser) expand(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.add(n.Line, path, "must be a text value, not %s", kindName(n))
		return "", false
	}
	s := n.Value
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			ps.add(n.Line, path, "unterminated ${: write ${NAME} to use the environment variable NAME")
			return "", false
		}
		name := s[i+2 : i+end]
		if !envName(name) {
			ps.add(n.Line, path, "${%s} does not name an environment variable (letters, digits and _)", name)
			return "", false
		}
		if ps.envRefs == nil {
			ps.envRefs = map[string]bool{}
		}
		ps.envRefs[name] = true
		v, ok := ps.lookupEnv(name)
		if !ok {
			ps.add(n.Line, path, "environment variable %s is not set", name)
			return "", false
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
}

func envName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
