// Package config lists the environment variables the watchdogd server reads.
// The list is the single source of truth for the configuration loader, the
// `watchdogd -h` text, the README table and the deployment tests, which check
// that every variable a compose file or task definition sets is one the
// server knows.
package config

// EnvVar describes one environment variable the server reads.
type EnvVar struct {
	// Name is the variable's name, e.g. "DATABASE_URL".
	Name string
	// Default is the value used when the variable is unset or empty; "" means
	// none.
	Default string
	// Description says what the variable does, in a sentence.
	Description string
	// Secret marks values that must never be logged, echoed in errors or put
	// in a container definition's plain environment.
	Secret bool
}

// Env lists every environment variable the server reads, in the order the
// documentation shows them. The seed's names come first.
var Env = []EnvVar{
	{
		Name: "DATABASE_URL",
		Description: "Store location. A postgres:// or postgresql:// URL (also the seed's postgresql+psycopg:// form) or a libpq key=value string (host=… dbname=… user=… password=…) selects PostgreSQL; " +
			"empty selects the embedded SQLite file ./watchdog.db; sqlite:///relative.db or sqlite:////abs/path.db names another SQLite file.",
		Secret: true,
	},
	{
		Name:        "SLACK_WEBHOOK_URL",
		Description: "Slack incoming-webhook URL alerts are posted to; empty disables webhook delivery.",
		Secret:      true,
	},
	{
		Name:        "SLACK_BOT_TOKEN",
		Description: "Slack bot token (xoxb-...) for chat.postMessage delivery; used with SLACK_CHANNEL instead of a webhook.",
		Secret:      true,
	},
	{
		Name:        "SLACK_CHANNEL",
		Description: "Slack channel ID or name that chat.postMessage posts to when SLACK_BOT_TOKEN is set.",
	},
	{
		Name:        "SLACK_MAX_ALERTS_PER_MESSAGE",
		Default:     "20",
		Description: "Most alerts one Slack message carries (one attachment each) when several are waiting at once, as in a burst of breaches; a lone alert always gets its own message. 1 sends one message per alert. At most 100.",
	},
	{
		Name:        "SLA_CONFIG_PATH",
		Default:     "sla_config.yaml",
		Description: "Path of the SLA policy file; watched and hot-reloaded. A built-in default policy is used when the file is absent.",
	},
	{
		Name:        "SCHEDULER_INTERVAL_MINUTES",
		Default:     "1",
		Description: "Minutes between safety-net full sweeps; alerts themselves fire at their due instants.",
	},
	{
		Name:        "API_HOST",
		Default:     "0.0.0.0",
		Description: "Address the HTTP API listens on.",
	},
	{
		Name:        "API_PORT",
		Default:     "8000",
		Description: "TCP port the HTTP API listens on.",
	},
	{
		Name:        "ALERT_THRESHOLD",
		Default:     "0.85",
		Description: "Fraction of an SLA target at which the alert stage fires; when set, it overrides the SLA file's thresholds.alert.",
	},
	{
		Name:        "BREACH_THRESHOLD",
		Default:     "1.0",
		Description: "Fraction of an SLA target at which the breach stage fires; when set, it overrides the SLA file's thresholds.breach.",
	},
	{
		Name:        "LOG_LEVEL",
		Default:     "info",
		Description: "Minimum log level: debug, info, warn or error.",
	},
	{
		Name:        "WATCHDOG_API_TOKEN",
		Description: "When set, every endpoint but /healthz, /readyz and /metrics requires Authorization: Bearer <token>.",
		Secret:      true,
	},
	{
		Name:        "WATCHDOG_ALLOWED_ORIGINS",
		Description: "Comma-separated origin patterns (host or host:port, wildcards allowed) WebSocket clients may connect from besides the same origin, localhost and WATCHDOG_PUBLIC_URL's host.",
	},
	{
		Name:        "WATCHDOG_MAX_BODY_BYTES",
		Default:     "10485760",
		Description: "Largest POST /tickets body accepted, in bytes; larger bodies get 413.",
	},
	{
		Name:        "WATCHDOG_MAX_BATCH",
		Default:     "10000",
		Description: "Most events accepted in one POST /tickets batch; longer batches get 413.",
	},
	{
		Name:        "WATCHDOG_MAX_WS_CLIENTS",
		Default:     "1000",
		Description: "Most WebSocket clients /ws/alerts serves at once; over it, an upgrade gets 503 with Retry-After and a JSON error. Each idle client costs about 50 KB.",
	},
	{
		Name:    "WATCHDOG_CLAIM_TTL",
		Default: "5s",
		Description: "How long this process's claim on the deliveries it is sending outlives its last heartbeat (renewed every third of it). " +
			"Another replica, or this one restarted after a crash, takes over the deliveries of a claimer whose heartbeat is older; a process that cannot renew stops sending first. A Go duration from 1s to 60s.",
	},
	{
		Name:        "WATCHDOG_DELIVERY_TIMEOUT",
		Default:     "30s",
		Description: "Longest one delivery attempt (a Slack post) may take; one that times out is retried, and pauses its destination for a backoff interval. A Go duration from 1s to 10m.",
	},
	{
		Name: "WATCHDOG_PUBLIC_URL",
		Description: "The address clients use to reach the API, e.g. https://watchdog.example.com. Slack messages link each ticket to <url>/tickets/<id> (or replace {id} in it); " +
			"its host is answered and its pages may open /ws/alerts. On a loopback API_HOST only localhost, 127.0.0.1 and [::1] are answered besides it; " +
			"on any other API_HOST, setting it limits the Host header to it, loopback names and IP addresses (against DNS rebinding), and leaving it empty answers every host. Other hosts get 421.",
	},
	{
		Name:        "WATCHDOG_DASHBOARD_URL",
		Description: "Former name of WATCHDOG_PUBLIC_URL, read when that is unset.",
	},
	{
		Name:    "WATCHDOG_UI",
		Default: "true",
		Description: "Serve the web UI under /ui/ (queue, live feed, tickets, compliance, policy; / redirects there). " +
			"With WATCHDOG_API_TOKEN set it asks for the token once and keeps a 12-hour session cookie. false serves the JSON API alone.",
	},
	{
		Name:        "WATCHDOG_DEBUG_ADDR",
		Description: "When set (e.g. 127.0.0.1:6060), serves Go's /debug/pprof profiles on this separate address; keep it on loopback.",
	},
	{
		Name:    "WATCHDOG_REQUEST_TIMEOUT",
		Default: "10s",
		Description: "Deadline of the database calls each request makes (/readyz's: at most 5s): a database that has not answered by then gets the request 503 with Retry-After, " +
			"whatever it does (even frozen). The alert stream has per-write deadlines instead. A Go duration from 1s to 5m.",
	},
	{
		Name:    "WATCHDOG_DB_WAIT",
		Default: "60s",
		Description: "How long start-up keeps retrying, with backoff, a database it cannot reach (refused, not resolving, starting up), logging each attempt; " +
			"meanwhile /healthz answers 200 and /readyz and the API 503. Then watchdogd exits with code 1. 0 gives up at once. A Go duration up to 1h.",
	},
}

// Lookup returns the variable called name, and whether the server reads it.
func Lookup(name string) (EnvVar, bool) {
	for _, v := range Env {
		if v.Name == name {
			return v, true
		}
	}
	return EnvVar{}, false
}
