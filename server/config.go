package server

import (
	"cmp"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/config"
)

// Config is everything the service needs to run. A nil *Config means all
// defaults: the SQLite file ./watchdog.db, the SLA file sla_config.yaml, no
// Slack, no authentication, listening on 0.0.0.0:8000.
type Config struct {
	// DatabaseURL names the store to open and migrate (see store.ParseURL);
	// "" means the SQLite file ./watchdog.db. Unused when Store is set.
	DatabaseURL string
	// Store, when set, is used instead of opening DatabaseURL, for a
	// program that builds the store over a database pool of its own. The
	// server does not close it.
	Store watchdog.Store
	// Clock is the engine's clock; nil means the system clock. Tests pass a
	// watchdogtest.Clock.
	Clock watchdog.Clock

	// SLAConfigPath is the SLA policy file, watched and hot-reloaded; the
	// built-in default policy is in force while it is absent. Default
	// sla_config.yaml (in the working directory).
	SLAConfigPath string
	// AlertThreshold and BreachThreshold, when set, override the thresholds
	// of the SLA file (and of the built-in default policy).
	AlertThreshold  *float64
	BreachThreshold *float64
	// SweepInterval is the engine's safety-net sweep; 0 means the engine's
	// default of one minute.
	SweepInterval time.Duration

	// SlackWebhookURL, when set, posts every alert to this incoming webhook.
	SlackWebhookURL string
	// SlackBotToken and SlackChannel, when both set, post every alert to
	// the channel with chat.postMessage.
	SlackBotToken string
	SlackChannel  string
	// SlackMaxAlertsPerMessage is the most alerts one Slack message carries
	// during a burst; 0 means slack.DefaultMaxAlertsPerMessage.
	SlackMaxAlertsPerMessage int
	// PublicURL is the address clients use to reach the service, such as
	// https://watchdog.example.com, when it is not a loopback address (a
	// load balancer's, say). Slack messages link each ticket to
	// PublicURL/tickets/<id> (a "{id}" in it is replaced instead, for a
	// dashboard of your own), and its host is answered and its pages may
	// open the alert stream (see ListenAddr).
	PublicURL string

	// ListenAddr is the HTTP API's host:port. Default 0.0.0.0:8000. It
	// decides which Host headers are answered, against DNS rebinding: on
	// a loopback address only localhost, 127.0.0.1 and [::1] (any port)
	// and PublicURL's host; on another address with PublicURL set, those,
	// any IP address and the listening host name; on another address
	// without PublicURL, every host (a warning is logged). Others get 421.
	ListenAddr string
	// APIToken, when set, is required as a bearer token on every route but
	// /healthz, /readyz and /metrics.
	APIToken string
	// AllowedOrigins are the origin patterns WebSocket clients may connect
	// from besides the same origin, the loopback names and PublicURL's
	// host.
	AllowedOrigins []string
	// MaxWebSocketClients is the most clients /ws/alerts serves at once;
	// further upgrades are refused with 503 and Retry-After. 0 means 1000,
	// WATCHDOG_MAX_WS_CLIENTS's default.
	MaxWebSocketClients int
	// ClaimTTL and DeliveryTimeout tune the engine's delivery (see
	// watchdog.Config); 0 means the engine's defaults, 5s and 30s.
	ClaimTTL        time.Duration
	DeliveryTimeout time.Duration
	// MaxBodyBytes and MaxBatch bound one POST /tickets; 0 means the api
	// package's defaults.
	MaxBodyBytes int64
	MaxBatch     int
	// RequestTimeout bounds the store calls each request makes (and
	// /readyz's, within 5s): one that has not answered by then gets the
	// request a 503 with Retry-After. 0 means 10s, WATCHDOG_REQUEST_TIMEOUT's
	// default.
	RequestTimeout time.Duration
	// DBWait is how long Run keeps trying to open a database that New found
	// unreachable (refused, not resolving, starting up), with backoff,
	// serving /healthz meanwhile (see New). 0 means 60s, WATCHDOG_DB_WAIT's
	// default; a negative value makes New fail at once instead.
	DBWait time.Duration
	// DisableUI leaves the web UI out: no pages under /ui/, and / is the
	// API's 404 instead of a redirect to them.
	DisableUI bool
	// DebugAddr, when set, serves Go's /debug/pprof profiles on this
	// separate address, outside the API's authentication.
	DebugAddr string
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
	// LookupEnv reads the environment variables the SLA file's
	// notifications section references (${VAR}); nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Middleware, when set, wraps the API handler that Run serves and
	// Handler returns: tracing or access logs of your own, or the tests'
	// checks of every answer against the OpenAPI document. The UI's pages
	// (/ui/ and the redirect of /) are served beside it, unwrapped.
	Middleware func(http.Handler) http.Handler
}

// WithDefaults returns a copy of c with every unset field defaulted. The
// defaults of the settings watchdogd reads from the environment are the
// ones its variables document.
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.SLAConfigPath = cmp.Or(out.SLAConfigPath, envDefault("SLA_CONFIG_PATH"))
	out.ListenAddr = cmp.Or(out.ListenAddr, net.JoinHostPort(envDefault("API_HOST"), envDefault("API_PORT")))
	if out.MaxWebSocketClients == 0 {
		out.MaxWebSocketClients, _ = strconv.Atoi(envDefault("WATCHDOG_MAX_WS_CLIENTS"))
	}
	if out.RequestTimeout == 0 {
		out.RequestTimeout, _ = time.ParseDuration(envDefault("WATCHDOG_REQUEST_TIMEOUT"))
	}
	if out.DBWait == 0 {
		out.DBWait, _ = time.ParseDuration(envDefault("WATCHDOG_DB_WAIT"))
	}
	out.Logger = cmp.Or(out.Logger, slog.New(slog.DiscardHandler))
	return &out
}

func envDefault(name string) string {
	v, _ := config.Lookup(name)
	return v.Default
}

func (c *Config) validate() error {
	switch {
	case c.SweepInterval < 0:
		return &ConfigError{Field: "SweepInterval", Err: errors.New("must not be negative")}
	case c.MaxBodyBytes < 0:
		return &ConfigError{Field: "MaxBodyBytes", Err: errors.New("must not be negative")}
	case c.MaxBatch < 0:
		return &ConfigError{Field: "MaxBatch", Err: errors.New("must not be negative")}
	case c.RequestTimeout < 0:
		return &ConfigError{Field: "RequestTimeout", Err: errors.New("must not be negative")}
	case c.MaxWebSocketClients < 0:
		return &ConfigError{Field: "MaxWebSocketClients", Err: errors.New("must not be negative")}
	case c.SlackMaxAlertsPerMessage < 0:
		return &ConfigError{Field: "SlackMaxAlertsPerMessage", Err: errors.New("must not be negative")}
	case c.PublicURL != "" && checkPublicURL(c.PublicURL) != nil:
		return &ConfigError{Field: "PublicURL", Err: checkPublicURL(c.PublicURL)}
	case (c.SlackBotToken == "") != (c.SlackChannel == ""):
		return &ConfigError{Field: slackBotFields, Err: errors.New("set both to post with a bot token, or neither")}
	}
	return nil
}

// Field names of ConfigErrors about two fields at once.
const (
	slackBotFields  = "SlackBotToken/SlackChannel"
	thresholdFields = "AlertThreshold/BreachThreshold"
)

// ConfigError is a Config field New or Run cannot use. Field is the field's
// name, such as "SlackWebhookURL" (two names joined by "/" when the fields
// only make sense together), so that a program that reads them from its
// own settings can name the setting.
type ConfigError struct {
	// Field is the Config field at fault, such as "SlackWebhookURL".
	Field string
	// Err says what is wrong with it.
	Err error
}

// Error names the field and says what is wrong with it; it never quotes a
// secret value.
func (e *ConfigError) Error() string { return "server: Config." + e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }
