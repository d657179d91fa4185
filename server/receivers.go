package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sync"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/metrics"
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
		nt, err := receiverNotifier(cfg, name, n.Receivers[name])
		if err != nil {
			return nil, err
		}
		out[name] = nt
	}
	warnUnreferenced(cfg, n)
	return out, nil
}

// receiverNotifier builds the notifier of receiver r named name.
func receiverNotifier(cfg *Config, name string, r *watchdog.Receiver) (watchdog.Notifier, error) {
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
	default:
		err = errors.New("no destination")
	}
	if err != nil {
		// The notifiers' errors never quote their secrets.
		return nil, fmt.Errorf("notifications: receiver %s: %w", name, err)
	}
	return nt, nil
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

// receiverSet follows the notifiers the engine has as the SLA file's
// notifications section changes: a reload builds the notifiers of the
// receivers it adds or changes (keeping those of the unchanged ones, with
// their connections), and the engine takes them together with the policy
// (Engine.SetNotifiersAndPolicy). Without a section, the environment's
// Slack destination is the set, as at start-up.
type receiverSet struct {
	cfg *Config
	m   *metrics.Metrics

	mu sync.Mutex
	// cur is the section in force (nil: none) and ns its notifiers.
	cur *watchdog.Notifications
	ns  map[string]watchdog.Notifier
	// env is the environment's notifiers, built once needed.
	env map[string]watchdog.Notifier
	// built holds the notifiers prepared for policies about to be applied.
	built map[*watchdog.Policy]builtSet
}

// builtSet is the notifier set prepared for a policy; changed reports that
// it differs from the set in force.
type builtSet struct {
	ns      map[string]watchdog.Notifier
	changed bool
}

func newReceiverSet(cfg *Config, m *metrics.Metrics, started *watchdog.Notifications, ns map[string]watchdog.Notifier) *receiverSet {
	rs := &receiverSet{cfg: cfg, m: m, cur: started, ns: ns, built: map[*watchdog.Policy]builtSet{}}
	if started == nil {
		rs.env = ns
	}
	return rs
}

// prepare builds the notifiers policy p's section needs: an error (a
// receiver that cannot be built) makes the reload fail like a bad file,
// and the last good policy stays.
func (rs *receiverSet) prepare(p *watchdog.Policy) (*watchdog.Policy, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n := p.Notifications
	var (
		ns      = map[string]watchdog.Notifier{}
		changed bool
	)
	if n == nil {
		if rs.env == nil {
			env, err := notifiers(rs.cfg)
			if err != nil {
				return nil, err
			}
			rs.env = env
		}
		ns, changed = rs.env, rs.cur != nil
	} else {
		for _, name := range n.ReceiverNames() {
			r := n.Receivers[name]
			if rs.cur != nil && r.Equal(rs.cur.Receivers[name]) && rs.ns[name] != nil {
				ns[name] = rs.ns[name]
				continue
			}
			nt, err := receiverNotifier(rs.cfg, name, r)
			if err != nil {
				return nil, err
			}
			ns[name], changed = nt, true
		}
		changed = changed || rs.cur == nil || len(ns) != len(rs.ns)
		if changed {
			warnUnreferenced(rs.cfg, n)
		}
	}
	rs.built[p] = builtSet{ns: ns, changed: changed}
	return p, nil
}

// apply puts p in force in eng with the notifiers prepared for it:
// through SetNotifiersAndPolicy when they differ from those in force.
func (rs *receiverSet) apply(ctx context.Context, eng *watchdog.Engine, p *watchdog.Policy) error {
	rs.mu.Lock()
	b, ok := rs.built[p]
	clear(rs.built)
	rs.mu.Unlock()
	if !ok || !b.changed {
		return eng.SetPolicyAndReplan(ctx, p)
	}
	rs.m.InitNotifiers(slices.Sorted(maps.Keys(b.ns))...)
	if err := eng.SetNotifiersAndPolicy(ctx, b.ns, p); err != nil {
		return err
	}
	rs.mu.Lock()
	rs.cur, rs.ns = p.Notifications, b.ns
	rs.mu.Unlock()
	rs.cfg.Logger.Info("notification receivers reloaded", "receivers", slices.Sorted(maps.Keys(b.ns)))
	return nil
}
