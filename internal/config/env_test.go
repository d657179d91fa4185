package config

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestEnvListIsWellFormed(t *testing.T) {
	nameRE := regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	seen := map[string]bool{}
	for _, v := range Env {
		if !nameRE.MatchString(v.Name) {
			t.Errorf("%q is not an upper-case environment variable name", v.Name)
		}
		if seen[v.Name] {
			t.Errorf("%s listed twice", v.Name)
		}
		seen[v.Name] = true
		if strings.TrimSpace(v.Description) == "" {
			t.Errorf("%s has no description", v.Name)
		}
		if v.Secret && v.Default != "" {
			t.Errorf("%s is secret but has a default %q", v.Name, v.Default)
		}
	}
	// The seed's names must stay.
	for _, name := range []string{"DATABASE_URL", "SLACK_WEBHOOK_URL", "SLA_CONFIG_PATH", "SCHEDULER_INTERVAL_MINUTES", "API_HOST", "API_PORT"} {
		if !seen[name] {
			t.Errorf("seed variable %s missing", name)
		}
	}
}

func TestEnvDefaults(t *testing.T) {
	want := map[string]string{
		"SLA_CONFIG_PATH":            "sla_config.yaml",
		"SCHEDULER_INTERVAL_MINUTES": "1",
		"API_HOST":                   "0.0.0.0",
		"API_PORT":                   "8000",
		"ALERT_THRESHOLD":            "0.85",
		"BREACH_THRESHOLD":           "1.0",
		"LOG_LEVEL":                  "info",
		"WATCHDOG_MAX_BODY_BYTES":    "10485760",
		"WATCHDOG_MAX_BATCH":         "10000",
		"DATABASE_URL":               "",
	}
	for name, def := range want {
		v, ok := Lookup(name)
		if !ok {
			t.Errorf("Lookup(%q) found nothing", name)
			continue
		}
		if v.Default != def {
			t.Errorf("%s default = %q, want %q", name, v.Default, def)
		}
	}
	for _, name := range []string{"SCHEDULER_INTERVAL_MINUTES", "API_PORT", "WATCHDOG_MAX_BODY_BYTES", "WATCHDOG_MAX_BATCH"} {
		v, _ := Lookup(name)
		if _, err := strconv.Atoi(v.Default); err != nil {
			t.Errorf("%s default %q is not an integer: %v", name, v.Default, err)
		}
	}
}

func TestSecretsAreMarked(t *testing.T) {
	for _, name := range []string{"DATABASE_URL", "SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "WATCHDOG_API_TOKEN"} {
		v, ok := Lookup(name)
		if !ok || !v.Secret {
			t.Errorf("%s: found=%v secret=%v, want a known secret", name, ok, v.Secret)
		}
	}
	for _, v := range Env {
		if strings.Contains(v.Name, "TOKEN") && !v.Secret {
			t.Errorf("%s looks secret but is not marked Secret", v.Name)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	if v, ok := Lookup("NOT_A_WATCHDOG_VAR"); ok {
		t.Fatalf("Lookup found %+v for an unknown name", v)
	}
	if _, ok := Lookup("database_url"); ok {
		t.Fatal("Lookup must be case-sensitive: environment names are")
	}
}
