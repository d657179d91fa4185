package server

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/pagerduty"
	"github.com/ticket-watchdog/watchdog/notify/slack"
	"github.com/ticket-watchdog/watchdog/notify/webhook"
)

// startNotifications reads the notifications: section of the SLA file as
// it is at start-up: nil when the file is absent or has none, so that the
// environment's Slack destination is used as before.
func startNotifications(cfg *Config) (*watchdog.Notifications, error) {
	data, err := watchdog.ReadPolicyFile(cfg.SLAConfigPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("SLA file: sla file: %w", err)
	}
	p, err := watchdog.ParsePolicyEnv(data, cfg.LookupEnv)
	if err != nil {
		var pe *watchdog.PolicyError
		if errors.As(err, &pe) {
			pe.File = cfg.SLAConfigPath
		}
		return nil, fmt.Errorf("SLA file: %w", err)
	}
	return p.Notifications, nil
}

// receiverNotifiers builds a notifier per receiver of n, under the
// receiver's name.
func receiverNotifiers(cfg *Config, n *watchdog.Notifications) (map[string]watchdog.Notifier, error) {
	out := map[string]watchdog.Notifier{}
	for _, name := range n.ReceiverNames() {
		r := n.Receivers[name]
		var (
			nt  watchdog.Notifier
			err error
		)
		switch {
		case r.Slack != nil:
			sc := &slack.Config{DashboardURL: cfg.PublicURL, MaxAlertsPerMessage: cfg.SlackMaxAlertsPerMessage}
			if r.Slack.MaxAlerts > 0 {
				sc.MaxAlertsPerMessage = r.Slack.MaxAlerts
			}
			if r.Slack.WebhookURL != "" {
				nt, err = slack.NewWebhook(r.Slack.WebhookURL.Reveal(), sc)
			} else {
				nt, err = slack.NewBot(r.Slack.BotToken.Reveal(), r.Slack.Channel, sc)
			}
		case r.Webhook != nil:
			nt, err = webhook.New(r.Webhook.URL.Reveal(), &webhook.Config{Name: name, Secret: r.Webhook.Secret.Reveal(), DashboardURL: cfg.PublicURL})
		case r.PagerDuty != nil:
			nt, err = pagerduty.New(r.PagerDuty.RoutingKey.Reveal(), &pagerduty.Config{Name: name, Endpoint: r.PagerDuty.Endpoint, DashboardURL: cfg.PublicURL})
		}
		if err != nil {
			// The notifiers' errors never quote their secrets.
			return nil, fmt.Errorf("notifications: receiver %s: %w", name, err)
		}
		out[name] = nt
	}
	warnUnreferenced(cfg, n)
	return out, nil
}

// warnUnreferenced logs the Slack variables that are set but that the
// notifications section does not reference: with a section, it is the
// whole truth about where alerts go.
func warnUnreferenced(cfg *Config, n *watchdog.Notifications) {
	for _, v := range []struct {
		name string
		set  bool
	}{
		{"SLACK_WEBHOOK_URL", cfg.SlackWebhookURL != ""},
		{"SLACK_BOT_TOKEN", cfg.SlackBotToken != ""},
		{"SLACK_CHANNEL", cfg.SlackChannel != ""},
	} {
		if v.set && !slices.Contains(n.EnvRefs, v.name) {
			cfg.Logger.Warn("environment variable set but not used: the SLA file's notifications section decides where alerts go, and does not reference it",
				"variable", v.name)
		}
	}
}

// sameReceivers refuses a reloaded policy whose receivers differ from those
// the server started with: receivers are built at start-up (their
// connections, delivery loops and pauses), so a change to them takes a
// restart; routes and their options reload live.
func sameReceivers(started *watchdog.Notifications) func(*watchdog.Policy) (*watchdog.Policy, error) {
	return func(p *watchdog.Policy) (*watchdog.Policy, error) {
		now := p.Notifications
		var changed []string
		switch {
		case started == nil && now == nil:
			return p, nil
		case started == nil:
			changed = []string{"a notifications section was added"}
		case now == nil:
			changed = []string{"the notifications section was removed"}
		default:
			for _, name := range started.ReceiverNames() {
				if r, ok := now.Receivers[name]; !ok {
					changed = append(changed, name+" removed")
				} else if !r.Equal(started.Receivers[name]) {
					changed = append(changed, name+" changed")
				}
			}
			for _, name := range now.ReceiverNames() {
				if _, ok := started.Receivers[name]; !ok {
					changed = append(changed, name+" added")
				}
			}
		}
		if len(changed) == 0 {
			return p, nil
		}
		return nil, &watchdog.PolicyError{Issues: []watchdog.PolicyIssue{{Path: "notifications.receivers",
			Message: "receivers differ from those watchdogd started with (" + strings.Join(changed, ", ") +
				"); restart watchdogd to apply them (routes reload without a restart)"}}}
	}
}
