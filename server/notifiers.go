package server

import (
	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/notify/slack"
)

// notifiers builds the Slack notifiers cfg asks for, under the names their
// deliveries are stored with.
func notifiers(cfg *Config) (map[string]watchdog.Notifier, error) {
	out := map[string]watchdog.Notifier{}
	sc := &slack.Config{DashboardURL: cfg.PublicURL, MaxAlertsPerMessage: cfg.SlackMaxAlertsPerMessage}
	if cfg.SlackWebhookURL != "" {
		n, err := slack.NewWebhook(cfg.SlackWebhookURL, sc)
		if err != nil {
			return nil, &ConfigError{Field: "SlackWebhookURL", Err: err}
		}
		out["slack"] = n
	}
	if cfg.SlackBotToken != "" {
		n, err := slack.NewBot(cfg.SlackBotToken, cfg.SlackChannel, sc)
		if err != nil {
			return nil, &ConfigError{Field: slackBotFields, Err: err}
		}
		out["slack-bot"] = n
	}
	return out, nil
}
