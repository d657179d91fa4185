package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/ticket-watchdog/watchdog/internal/config"
)

// settings is the server's configuration, read from the environment (with
// the seed's names), a .env file in the working directory, and flags.
type settings struct {
	// lookupEnv reads a variable from the environment, then .env: what
	// the SLA file's ${VAR} references see.
	lookupEnv         func(string) (string, bool)
	DatabaseURL       string
	SlackWebhookURL   string
	SlackBotToken     string
	SlackChannel      string
	SlackMaxPerMsg    int
	SLAConfigPath     string
	SchedulerInterval time.Duration
	APIHost           string
	APIPort           int
	// AlertThreshold and BreachThreshold override the SLA file's
	// thresholds when set in the environment.
	AlertThreshold  *float64
	BreachThreshold *float64
	LogLevel        slog.Level
	APIToken        string
	AllowedOrigins  []string
	MaxBodyBytes    int64
	MaxBatch        int
	MaxWSClients    int
	ClaimTTL        time.Duration
	DeliveryTimeout time.Duration
	PublicURL       string
	DebugAddr       string
	RequestTimeout  time.Duration
	// DBWait is how long start-up waits for the database; 0: not at all.
	DBWait time.Duration
	// UI serves the web pages under /ui/.
	UI bool
}

// environment reads variables: the real environment first, then the .env
// file's values for names the environment does not set.
type environment struct {
	dotenv map[string]string
	lookup func(string) (string, bool)
}

func loadEnvironment(dotenvPath string, lookup func(string) (string, bool)) (*environment, error) {
	env := &environment{lookup: lookup}
	m, err := godotenv.Read(dotenvPath)
	switch {
	case err == nil:
		env.dotenv = m
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("reading %s: %w", dotenvPath, err)
	}
	return env, nil
}

func (e *environment) get(name string) string {
	if v, ok := e.lookup(name); ok && v != "" {
		return v
	}
	if v, ok := e.dotenv[name]; ok && v != "" {
		return v
	}
	if v, ok := config.Lookup(name); ok {
		return v.Default
	}
	return ""
}

// lookupVar is a variable's value from the environment, else .env,
// without defaults.
func (e *environment) lookupVar(name string) (string, bool) {
	if v, ok := e.lookup(name); ok {
		return v, true
	}
	v, ok := e.dotenv[name]
	return v, ok
}

func (e *environment) isSet(name string) bool {
	if v, ok := e.lookup(name); ok && v != "" {
		return true
	}
	return e.dotenv[name] != ""
}

// loadSettings reads the environment, then lets flags override it.
func loadSettings(env *environment, fs *flag.FlagSet, args []string) (*settings, error) {
	s := &settings{
		lookupEnv:       env.lookupVar,
		DatabaseURL:     env.get("DATABASE_URL"),
		SlackWebhookURL: env.get("SLACK_WEBHOOK_URL"),
		SlackBotToken:   env.get("SLACK_BOT_TOKEN"),
		SlackChannel:    env.get("SLACK_CHANNEL"),
		SLAConfigPath:   env.get("SLA_CONFIG_PATH"),
		APIHost:         env.get("API_HOST"),
		APIToken:        env.get("WATCHDOG_API_TOKEN"),
		PublicURL:       env.get("WATCHDOG_PUBLIC_URL"),
		DebugAddr:       env.get("WATCHDOG_DEBUG_ADDR"),
	}
	var errs []string
	bad := func(name, msg string) { errs = append(errs, name+": "+msg) }
	if s.PublicURL == "" {
		s.PublicURL = env.get("WATCHDOG_DASHBOARD_URL") // its former name
	}

	port, err := strconv.Atoi(env.get("API_PORT"))
	if err != nil || port < 1 || port > 65535 {
		bad("API_PORT", "must be a port number between 1 and 65535")
	}
	s.APIPort = port
	minutes, err := strconv.ParseFloat(env.get("SCHEDULER_INTERVAL_MINUTES"), 64)
	if err != nil || minutes <= 0 || minutes > 24*60 {
		bad("SCHEDULER_INTERVAL_MINUTES", "must be a number of minutes above 0 and at most 1440")
	}
	s.SchedulerInterval = time.Duration(minutes * float64(time.Minute))
	for _, th := range []struct {
		name string
		dst  **float64
	}{{"ALERT_THRESHOLD", &s.AlertThreshold}, {"BREACH_THRESHOLD", &s.BreachThreshold}} {
		if !env.isSet(th.name) {
			continue
		}
		f, err := strconv.ParseFloat(env.get(th.name), 64)
		if err != nil || f <= 0 || f > 100 {
			bad(th.name, "must be a positive fraction of the target such as 0.85")
			continue
		}
		*th.dst = &f
	}
	if err := s.LogLevel.UnmarshalText([]byte(env.get("LOG_LEVEL"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
	if s.RequestTimeout, err = time.ParseDuration(env.get("WATCHDOG_REQUEST_TIMEOUT")); err != nil || s.RequestTimeout < time.Second || s.RequestTimeout > 5*time.Minute {
		bad("WATCHDOG_REQUEST_TIMEOUT", "must be a duration from 1s to 5m, such as 10s")
	}
	if s.DBWait, err = time.ParseDuration(env.get("WATCHDOG_DB_WAIT")); err != nil || s.DBWait < 0 || s.DBWait > time.Hour {
		bad("WATCHDOG_DB_WAIT", "must be a duration from 0s to 1h, such as 60s")
	}
	for _, o := range strings.Split(env.get("WATCHDOG_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			s.AllowedOrigins = append(s.AllowedOrigins, o)
		}
	}
	if s.MaxBodyBytes, err = strconv.ParseInt(env.get("WATCHDOG_MAX_BODY_BYTES"), 10, 64); err != nil || s.MaxBodyBytes < 1024 {
		bad("WATCHDOG_MAX_BODY_BYTES", "must be a number of bytes, at least 1024")
	}
	if s.SlackMaxPerMsg, err = strconv.Atoi(env.get("SLACK_MAX_ALERTS_PER_MESSAGE")); err != nil || s.SlackMaxPerMsg < 1 || s.SlackMaxPerMsg > 100 {
		bad("SLACK_MAX_ALERTS_PER_MESSAGE", "must be a number of alerts from 1 to 100")
	}
	if s.MaxBatch, err = strconv.Atoi(env.get("WATCHDOG_MAX_BATCH")); err != nil || s.MaxBatch < 1 {
		bad("WATCHDOG_MAX_BATCH", "must be a positive number of events")
	}
	if s.MaxWSClients, err = strconv.Atoi(env.get("WATCHDOG_MAX_WS_CLIENTS")); err != nil || s.MaxWSClients < 1 {
		bad("WATCHDOG_MAX_WS_CLIENTS", "must be a positive number of clients")
	}
	if s.ClaimTTL, err = time.ParseDuration(env.get("WATCHDOG_CLAIM_TTL")); err != nil || s.ClaimTTL < time.Second || s.ClaimTTL > time.Minute {
		bad("WATCHDOG_CLAIM_TTL", "must be a duration from 1s to 60s, such as 5s")
	}
	if s.DeliveryTimeout, err = time.ParseDuration(env.get("WATCHDOG_DELIVERY_TIMEOUT")); err != nil || s.DeliveryTimeout < time.Second || s.DeliveryTimeout > 10*time.Minute {
		bad("WATCHDOG_DELIVERY_TIMEOUT", "must be a duration from 1s to 10m, such as 30s")
	}
	if s.UI, err = strconv.ParseBool(env.get("WATCHDOG_UI")); err != nil {
		bad("WATCHDOG_UI", "must be true or false")
	}
	if (s.SlackBotToken == "") != (s.SlackChannel == "") {
		bad("SLACK_BOT_TOKEN/SLACK_CHANNEL", "set both to post with a bot token, or neither")
	}

	if fs != nil {
		fs.StringVar(&s.APIHost, "host", s.APIHost, "address to listen on (API_HOST)")
		fs.IntVar(&s.APIPort, "port", s.APIPort, "port to listen on (API_PORT)")
		fs.StringVar(&s.SLAConfigPath, "sla-config", s.SLAConfigPath, "SLA policy file (SLA_CONFIG_PATH)")
		fs.DurationVar(&s.SchedulerInterval, "interval", s.SchedulerInterval, "safety-net sweep interval (SCHEDULER_INTERVAL_MINUTES)")
		fs.TextVar(&s.LogLevel, "log-level", s.LogLevel, "log level: debug, info, warn, error (LOG_LEVEL)")
		fs.Int64Var(&s.MaxBodyBytes, "max-body-bytes", s.MaxBodyBytes, "largest request body (WATCHDOG_MAX_BODY_BYTES)")
		fs.IntVar(&s.MaxBatch, "max-batch", s.MaxBatch, "most events per POST /tickets (WATCHDOG_MAX_BATCH)")
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
	}
	if len(errs) > 0 {
		return nil, errors.New("configuration: " + strings.Join(errs, "; "))
	}
	return s, nil
}

// printEnvHelp documents every environment variable.
func printEnvHelp(w io.Writer) {
	fmt.Fprintln(w, "\nEnvironment (a .env file in the working directory is read too; the real environment wins):")
	for _, v := range config.Env {
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		secret := ""
		if v.Secret {
			secret = " [secret: never logged]"
		}
		fmt.Fprintf(w, "  %s%s%s\n      %s\n", v.Name, def, secret, v.Description)
	}
}
