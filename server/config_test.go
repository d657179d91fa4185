package server

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := (*Config)(nil).WithDefaults()
	if c.SLAConfigPath != "sla_config.yaml" || c.ListenAddr != "0.0.0.0:8000" || c.Logger == nil {
		t.Errorf("defaults = %+v; want sla_config.yaml, 0.0.0.0:8000 and a logger", c)
	}
	set := (&Config{SLAConfigPath: "x.yaml", ListenAddr: "127.0.0.1:0"}).WithDefaults()
	if set.SLAConfigPath != "x.yaml" || set.ListenAddr != "127.0.0.1:0" {
		t.Errorf("WithDefaults changed set fields: %+v", set)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	const secret = "SECRET-hook-91f2"
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		field string
		cfg   Config
	}{
		{"SweepInterval", Config{SweepInterval: -1}},
		{"MaxBodyBytes", Config{MaxBodyBytes: -1}},
		{"MaxBatch", Config{MaxBatch: -1}},
		{"SlackMaxAlertsPerMessage", Config{SlackMaxAlertsPerMessage: -1}},
		{"SlackBotToken/SlackChannel", Config{SlackBotToken: "xoxb-" + secret}},
		{"AlertThreshold/BreachThreshold", Config{AlertThreshold: f(0.9), BreachThreshold: f(0.5)}},
		{"SlackWebhookURL", Config{SlackWebhookURL: "ftp://hooks.example.com/services/" + secret}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.cfg.DatabaseURL = "sqlite:///" + filepath.Join(dir, "watchdog.db")
			tc.cfg.SLAConfigPath = filepath.Join(dir, "absent.yaml")
			s, err := New(context.Background(), &tc.cfg)
			if err == nil {
				s.Close()
				t.Fatal("New accepted the config")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("New: %v; want a *ConfigError about %s", err, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "server: Config."+tc.field+": ") || ce.Unwrap() == nil {
				t.Errorf("error %q should start with the field and wrap the cause", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes a secret: %v", err)
			}
		})
	}
}

func TestInvalidSLAFileFailsNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla_config.yaml")
	writeFile(t, sla, "tiers:\n  gold:\n    high: {response: soon, resolution: 8h}\n")
	_, err := New(context.Background(), &Config{DatabaseURL: "sqlite:///" + filepath.Join(dir, "watchdog.db"), SLAConfigPath: sla})
	if err == nil || !strings.HasPrefix(err.Error(), "SLA file: ") {
		t.Fatalf("New with a broken SLA file: %v; want an SLA file error", err)
	}
}
