package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/ticket-watchdog/watchdog/server"
)

// serve runs the service until ctx is done, then shuts down gracefully:
// in-flight requests and deliveries finish first.
func serve(ctx context.Context, s *settings, logOut io.Writer) error {
	return serveWith(ctx, s, logOut, nil)
}

// serveWith is serve with a hook told the listening address, for tests.
func serveWith(ctx context.Context, s *settings, logOut io.Writer, listening func(addr string)) error {
	srv, err := server.New(ctx, s.serverConfig(logOut))
	if err != nil {
		return envError(err)
	}
	defer srv.Close()
	if listening != nil {
		if err := srv.Listen(); err != nil {
			return err
		}
		listening(srv.Addr())
	}
	return envError(srv.Run(ctx))
}

// serverConfig is the server's configuration from the settings, logging
// JSON lines to logOut.
func (s *settings) serverConfig(logOut io.Writer) *server.Config {
	return &server.Config{
		DatabaseURL:              s.DatabaseURL,
		SLAConfigPath:            s.SLAConfigPath,
		AlertThreshold:           s.AlertThreshold,
		BreachThreshold:          s.BreachThreshold,
		SweepInterval:            s.SchedulerInterval,
		SlackWebhookURL:          s.SlackWebhookURL,
		SlackBotToken:            s.SlackBotToken,
		SlackChannel:             s.SlackChannel,
		SlackMaxAlertsPerMessage: s.SlackMaxPerMsg,
		PublicURL:                s.PublicURL,
		ListenAddr:               net.JoinHostPort(s.APIHost, strconv.Itoa(s.APIPort)),
		APIToken:                 s.APIToken,
		AllowedOrigins:           s.AllowedOrigins,
		MaxBodyBytes:             s.MaxBodyBytes,
		MaxBatch:                 s.MaxBatch,
		MaxWebSocketClients:      s.MaxWSClients,
		ClaimTTL:                 s.ClaimTTL,
		DeliveryTimeout:          s.DeliveryTimeout,
		DebugAddr:                s.DebugAddr,

		LookupEnv:      s.lookupEnv,
		RequestTimeout: s.RequestTimeout,
		DBWait:         dbWait(s.DBWait),
		DisableUI:      !s.UI,
		Logger:         slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: s.LogLevel})),
	}
}

// dbWait is WATCHDOG_DB_WAIT as server.Config.DBWait, where 0 means the
// default and a negative value no wait.
func dbWait(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// envNames are the environment variables behind the server's Config
// fields, for errors about them.
var envNames = map[string]string{
	"SlackWebhookURL":                "SLACK_WEBHOOK_URL",
	"SlackBotToken/SlackChannel":     "SLACK_BOT_TOKEN/SLACK_CHANNEL",
	"AlertThreshold/BreachThreshold": "ALERT_THRESHOLD/BREACH_THRESHOLD",
	"DebugAddr":                      "WATCHDOG_DEBUG_ADDR",
	"PublicURL":                      "WATCHDOG_PUBLIC_URL",
	"SweepInterval":                  "SCHEDULER_INTERVAL_MINUTES",
	"MaxBodyBytes":                   "WATCHDOG_MAX_BODY_BYTES",
	"MaxBatch":                       "WATCHDOG_MAX_BATCH",
	"MaxWebSocketClients":            "WATCHDOG_MAX_WS_CLIENTS",
	"ClaimTTL":                       "WATCHDOG_CLAIM_TTL",
	"DeliveryTimeout":                "WATCHDOG_DELIVERY_TIMEOUT",
	"SlackMaxAlertsPerMessage":       "SLACK_MAX_ALERTS_PER_MESSAGE",

	"RequestTimeout": "WATCHDOG_REQUEST_TIMEOUT",
	"DBWait":         "WATCHDOG_DB_WAIT",
}

// envError names the environment variable a *server.ConfigError is about,
// since that is what the operator set.
func envError(err error) error {
	var ce *server.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	if name, ok := envNames[ce.Field]; ok {
		return fmt.Errorf("%s: %w", name, ce.Err)
	}
	return err
}
