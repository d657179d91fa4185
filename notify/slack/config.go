package slack

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// DefaultTimeout bounds one delivery attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config tunes a Notifier. The zero value (or a nil *Config) gives defaults.
type Config struct {
	// HTTPClient sends the requests; nil means a new client with default
	// transport. The Notifier uses a copy with its own transport wrapper, so
	// the caller's client is not changed.
	HTTPClient *http.Client
	// Timeout bounds one delivery attempt, connection to response; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// APIURL is the base URL of the Slack Web API for bot mode, with a
	// trailing slash; "" means https://slack.com/api/. Tests point it at an
	// httptest server.
	APIURL string
	// Username and IconEmoji override the poster's name and icon. In bot mode
	// they need the chat:write.customize scope.
	Username  string
	IconEmoji string
	// DashboardURL, when set, links each message to the ticket. A "{id}" in
	// it is replaced by the ticket id; otherwise "/tickets/<id>" is appended.
	DashboardURL string
	// MaxAlertsPerMessage is the most alerts one message carries, one
	// attachment each, when several are waiting to be sent at once (a burst
	// of due tickets); a lone alert always gets a message of its own. 0
	// means DefaultMaxAlertsPerMessage; 1 sends every alert on its own
	// message, as the seed service did. At most 100, Slack's limit on
	// attachments.
	MaxAlertsPerMessage int
}

// DefaultMaxAlertsPerMessage is Slack's recommended most attachments per
// message.
const DefaultMaxAlertsPerMessage = 20

// WithDefaults returns a copy of c (nil allowed) with defaults filled in.
func (c *Config) WithDefaults() Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.Timeout = cmp.Or(out.Timeout, DefaultTimeout)
	if out.APIURL == "" {
		out.APIURL = "https://slack.com/api/"
	}
	out.MaxAlertsPerMessage = cmp.Or(out.MaxAlertsPerMessage, DefaultMaxAlertsPerMessage)
	if !strings.HasSuffix(out.APIURL, "/") {
		out.APIURL += "/"
	}
	return out
}

func (c Config) validate() error {
	var errs []error
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("slack: Timeout must not be negative: %w", watchdog.ErrInvalid))
	}
	if c.MaxAlertsPerMessage < 1 || c.MaxAlertsPerMessage > 100 {
		errs = append(errs, fmt.Errorf("slack: MaxAlertsPerMessage must be between 1 and 100: %w", watchdog.ErrInvalid))
	}
	if err := checkHTTPURL(c.APIURL); err != nil {
		errs = append(errs, fmt.Errorf("slack: APIURL %w", err))
	}
	if c.DashboardURL != "" {
		if err := checkHTTPURL(c.DashboardURL); err != nil {
			errs = append(errs, fmt.Errorf("slack: DashboardURL %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkHTTPURL checks that raw is an absolute http(s) URL. Its errors never
// contain raw, which may be a secret webhook URL.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error quotes the URL or parts of it, so it is dropped.
		return fmt.Errorf("is not a valid URL: %w", watchdog.ErrInvalid)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("must be an http or https URL: %w", watchdog.ErrInvalid)
	}
	if u.Host == "" {
		return fmt.Errorf("has no host: %w", watchdog.ErrInvalid)
	}
	if u.User != nil {
		return fmt.Errorf("must not contain credentials: %w", watchdog.ErrInvalid)
	}
	return nil
}

// checkWord checks a token or channel: non-empty, no spaces or control
// characters. Its errors never contain the value.
func checkWord(field, v string) error {
	if v == "" {
		return fmt.Errorf("slack: %s is empty: %w", field, watchdog.ErrInvalid)
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("slack: %s contains spaces or control characters: %w", field, watchdog.ErrInvalid)
	}
	return nil
}
