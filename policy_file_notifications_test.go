package watchdog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

const notificationsFile = `calendars:
  eu-business:
    timezone: Europe/Berlin
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
escalation: [1.5, 2.0]
tiers:
  gold:
    high: {response: 30, resolution: 180}
  silver:
    low: {response: 120, resolution: 480}
notifications:
  receivers:
    support-slack:  {slack: {webhook_url: "${SLACK_WEBHOOK_URL}"}}
    gold-slack:     {slack: {bot_token: "${SLACK_BOT_TOKEN}", channel: "#gold-escalations"}}
    helpdesk-hook:  {webhook: {url: "https://helpdesk.internal/sla-hook", secret: "${HOOK_SECRET}"}}
    oncall:         {pagerduty: {routing_key: "${PD_ROUTING_KEY}", endpoint: "http://127.0.0.1:9/v2/enqueue"}}
  routes:
    - match: {tier: gold, stage: [breach, escalation]}
      receivers: [gold-slack, oncall]
    - match: {attributes.group: billing}
      receivers: [helpdesk-hook]
      continue: true
    - receivers: [support-slack]
      group_interval: 5m
      deliver_during: eu-business
      deliver_during_except: [breach]
      ack_timeout: 30m
`

var notificationsEnv = map[string]string{
	"SLACK_WEBHOOK_URL": "https://hooks.slack.test/services/T0/B0/sekrit-webhook",
	"SLACK_BOT_TOKEN":   "xoxb-sekrit-token",
	"HOOK_SECRET":       "sekrit-hmac",
	"PD_ROUTING_KEY":    "sekrit-routing-key",
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseNotifications(t *testing.T) {
	p, err := watchdog.ParsePolicyEnv([]byte(notificationsFile), envOf(notificationsEnv))
	if err != nil {
		t.Fatal(err)
	}
	n := p.Notifications
	if n == nil {
		t.Fatal("no notifications section")
	}
	if got := strings.Join(n.ReceiverNames(), ","); got != "gold-slack,helpdesk-hook,oncall,support-slack" {
		t.Errorf("receivers %s", got)
	}
	if s := n.Receivers["support-slack"].Slack; s == nil || s.WebhookURL.Reveal() != notificationsEnv["SLACK_WEBHOOK_URL"] {
		t.Errorf("support-slack %+v", s)
	}
	if s := n.Receivers["gold-slack"].Slack; s.BotToken.Reveal() != "xoxb-sekrit-token" || s.Channel != "#gold-escalations" {
		t.Errorf("gold-slack %+v", s)
	}
	if w := n.Receivers["helpdesk-hook"].Webhook; w.URL.Reveal() != "https://helpdesk.internal/sla-hook" || w.Secret.Reveal() != "sekrit-hmac" {
		t.Errorf("hook %+v", w)
	}
	if pd := n.Receivers["oncall"].PagerDuty; pd.RoutingKey.Reveal() != "sekrit-routing-key" || pd.Endpoint != "http://127.0.0.1:9/v2/enqueue" {
		t.Errorf("pagerduty %+v", pd)
	}
	if len(n.Routes) != 3 {
		t.Fatalf("%d routes", len(n.Routes))
	}
	def := n.Routes[2]
	if def.GroupInterval != 5*time.Minute || def.DeliverDuring == nil || def.DeliverDuringName != "eu-business" ||
		strings.Join(def.DeliverDuringExcept, ",") != "breach" || !def.Inhibit || def.AckTimeout != 30*time.Minute || !def.Match.IsZero() {
		t.Errorf("default route %+v", def)
	}
	if !n.Routes[1].Continue || n.Routes[0].Continue {
		t.Errorf("continue: %v %v", n.Routes[0].Continue, n.Routes[1].Continue)
	}
	if got := strings.Join(n.EnvRefs, ","); got != "HOOK_SECRET,PD_ROUTING_KEY,SLACK_BOT_TOKEN,SLACK_WEBHOOK_URL" {
		t.Errorf("env refs %s", got)
	}
	if n.GroupInterval("support-slack") != 5*time.Minute || n.GroupInterval("oncall") != 0 {
		t.Error("group intervals")
	}
	// Secrets never print.
	for _, s := range []string{fmt.Sprintf("%v", n.Receivers), fmt.Sprintf("%+v", *n.Receivers["gold-slack"].Slack),
		fmt.Sprintf("%#v", *n.Receivers["oncall"].PagerDuty), fmt.Sprintf("%s", n.Receivers["helpdesk-hook"].Webhook.Secret)} {
		if strings.Contains(s, "sekrit") {
			t.Errorf("secret shown: %s", s)
		}
	}
}

func TestNotificationsRouting(t *testing.T) {
	p, err := watchdog.ParsePolicyEnv([]byte(notificationsFile), envOf(notificationsEnv))
	if err != nil {
		t.Fatal(err)
	}
	n := p.Notifications
	names := func(a watchdog.Alert) string {
		var out []string
		for _, r := range n.Resolve(a, nil) {
			out = append(out, r.Receiver)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		tier, stage, want string
	}{
		{"gold", "breach", "gold-slack,oncall"},
		{"GOLD", "escalation-2", "gold-slack,oncall"}, // escalation names every step
		{"gold", "alert", "support-slack"},            // first route fails on stage; billing has no attribute
		{"silver", "breach", "support-slack"},
	} {
		a := watchdog.Alert{CustomerTier: c.tier, Priority: "high", Stage: c.stage, SLAClock: watchdog.Response}
		if got := names(a); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.tier, c.stage, got, c.want)
		}
	}
}

func TestParseNotificationsErrors(t *testing.T) {
	base := "tiers:\n  gold:\n    high: {response: 30, resolution: 180}\nnotifications:\n"
	for _, c := range []struct {
		name, section string
		want          []string
	}{
		{"unset variable", "  receivers:\n    s: {slack: {webhook_url: \"${NOPE}\"}}\n  routes:\n    - receivers: [s]\n",
			[]string{"line 6: notifications.receivers.s.slack.webhook_url: environment variable NOPE is not set"}},
		{"unknown receiver", "  receivers:\n    s: {slack: {webhook_url: \"${SLACK_WEBHOOK_URL}\"}}\n  routes:\n    - receivers: [t]\n",
			[]string{`line 8: notifications.routes[0].receivers: unknown receiver "t" (declared: s)`}},
		{"bad match key", "  receivers:\n    s: {slack: {webhook_url: \"${SLACK_WEBHOOK_URL}\"}}\n  routes:\n    - match: {teir: gold}\n      receivers: [s]\n",
			[]string{`line 8: notifications.routes[0].match.teir: unknown key "teir" (did you mean tier?)`}},
		{"bad url hides value", "  receivers:\n    h: {webhook: {url: \"ftp://sekrit@x\"}}\n  routes:\n    - receivers: [h]\n",
			[]string{"line 6: notifications.receivers.h.webhook.url: is not an http or https URL"}},
		{"two kinds", "  receivers:\n    h: {webhook: {url: \"http://x\"}, slack: {webhook_url: \"http://y\"}}\n  routes:\n    - receivers: [h]\n",
			[]string{"line 6: notifications.receivers.h: a receiver is exactly one of slack, webhook or pagerduty"}},
		{"unknown calendar", "  receivers:\n    h: {webhook: {url: \"http://x\"}}\n  routes:\n    - receivers: [h]\n      deliver_during: nights\n",
			[]string{`line 9: notifications.routes[0].deliver_during: unknown calendar "nights"`}},
		{"bad interval", "  receivers:\n    h: {webhook: {url: \"http://x\"}}\n  routes:\n    - receivers: [h]\n      group_interval: soon\n",
			[]string{`line 9: notifications.routes[0].group_interval: "soon" is not a duration`}},
		{"disagreeing intervals", "  receivers:\n    h: {webhook: {url: \"http://x\"}}\n  routes:\n    - receivers: [h]\n      group_interval: 1m\n      continue: true\n    - receivers: [h]\n      group_interval: 2m\n",
			[]string{"line 11: notifications.routes[1].group_interval: receiver h has group_interval 1m in the route at line 8"}},
		{"bad stage", "  receivers:\n    h: {webhook: {url: \"http://x\"}}\n  routes:\n    - receivers: [h]\n      deliver_during_except: [brech]\n",
			[]string{`line 9: notifications.routes[0].deliver_during_except: unknown stage "brech"`, "needs deliver_during"}},
		{"ack_timeout", "  receivers:\n    h: {webhook: {url: \"http://x\"}}\n  routes:\n    - receivers: [h]\n      ack_timeout: 10s\n",
			[]string{`line 9: notifications.routes[0].ack_timeout: "10s" is out of range (1m to 168h)`}},
		{"no routes", "  receivers:\n    h: {webhook: {url: \"http://x\"}}\n",
			[]string{"notifications.routes: missing"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := watchdog.ParsePolicyEnv([]byte(base+c.section), envOf(notificationsEnv))
			if !errors.Is(err, watchdog.ErrInvalidPolicy) {
				t.Fatalf("err %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "sekrit") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

func TestPolicyWithoutNotifications(t *testing.T) {
	p, err := watchdog.ParsePolicy([]byte(watchdog.SeedPolicy))
	if err != nil || p.Notifications != nil {
		t.Fatalf("%v %+v", err, p)
	}
}

func TestNotificationsSummaryShowsNoSecret(t *testing.T) {
	p, err := watchdog.ParsePolicyEnv([]byte(notificationsFile), envOf(notificationsEnv))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := p.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"gold-slack: slack channel #gold-escalations", "helpdesk-hook: webhook signed", "oncall: pagerduty",
		"1. line 18: match {tier: gold, stage: [breach, escalation]} -> gold-slack, oncall",
		"3. line 23: match {} -> support-slack; group_interval 5m; deliver_during eu-business except breach; ack_timeout 30m"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "sekrit") || strings.Contains(s, "helpdesk.internal") {
		t.Errorf("summary shows a secret:\n%s", s)
	}
}
