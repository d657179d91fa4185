package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/config"
)

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// repoRoot is the module's root directory, found from this file's path.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s: %v", root, err)
	}
	return root
}

func TestDotenvIsReadAndTheEnvironmentWins(t *testing.T) {
	t.Parallel()
	dotenv := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(dotenv, []byte("# as in the seed's env.local\nAPI_HOST=10.1.2.3\nAPI_PORT=9001\nLOG_LEVEL=debug\nSCHEDULER_INTERVAL_MINUTES=5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, err := loadEnvironment(dotenv, mapLookup(map[string]string{"API_PORT": "9002", "LOG_LEVEL": ""}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadSettings(env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.APIHost != "10.1.2.3" {
		t.Errorf("API_HOST from .env: %q", s.APIHost)
	}
	if s.APIPort != 9002 {
		t.Errorf("API_PORT: %d, want the environment's 9002 over .env's 9001", s.APIPort)
	}
	if s.LogLevel.String() != "DEBUG" {
		t.Errorf("an empty environment value should not hide .env's LOG_LEVEL: %v", s.LogLevel)
	}
	if s.SchedulerInterval != 5*time.Minute {
		t.Errorf("SCHEDULER_INTERVAL_MINUTES: %v", s.SchedulerInterval)
	}

	// Defaults with no .env and an empty environment.
	env, err = loadEnvironment(filepath.Join(t.TempDir(), ".env"), mapLookup(nil))
	if err != nil {
		t.Fatalf("a missing .env must not be an error: %v", err)
	}
	s, err = loadSettings(env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.APIPort != 8000 || s.APIHost != "0.0.0.0" || s.SLAConfigPath != "sla_config.yaml" || s.DatabaseURL != "" ||
		s.SchedulerInterval != time.Minute || s.AlertThreshold != nil || s.BreachThreshold != nil {
		t.Errorf("defaults: %+v", s)
	}
}

func TestBadValuesGiveClearErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value string }{
		{"API_PORT", "abc"},
		{"API_PORT", "70000"},
		{"SCHEDULER_INTERVAL_MINUTES", "-1"},
		{"ALERT_THRESHOLD", "lots"},
		{"LOG_LEVEL", "loud"},
		{"WATCHDOG_MAX_BATCH", "0"},
		{"WATCHDOG_MAX_BODY_BYTES", "12"},
	} {
		env, err := loadEnvironment(filepath.Join(t.TempDir(), ".env"), mapLookup(map[string]string{tc.name: tc.value}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = loadSettings(env, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s=%s: error %v should name the variable", tc.name, tc.value, err)
		}
	}
	// Through run, a flag error and a bad variable both exit 2.
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, &bytes.Buffer{}, &stderr, mapLookup(map[string]string{"API_PORT": "abc"}))
	if code != 2 || !strings.Contains(stderr.String(), "API_PORT") || !strings.Contains(stderr.String(), "port number") {
		t.Errorf("API_PORT=abc: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"--no-such-flag"}, &bytes.Buffer{}, &stderr, mapLookup(nil)); code != 2 {
		t.Errorf("unknown flag: exit %d, stderr %q", code, stderr.String())
	}
}

// TestDotenvInWorkingDirectory runs the command in a directory holding a
// .env, as the seed's `cp env.local .env` step leaves it.
func TestDotenvInWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(".env", []byte("API_PORT=abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, &bytes.Buffer{}, &stderr, mapLookup(nil)); code != 2 || !strings.Contains(stderr.String(), "API_PORT") {
		t.Errorf(".env's API_PORT=abc: exit %d, stderr %q", code, stderr.String())
	}
	// The environment wins over .env: here it makes the flags valid and
	// -h stops before serving.
	stderr.Reset()
	if code := run(context.Background(), []string{"-h"}, &bytes.Buffer{}, &stderr, mapLookup(map[string]string{"API_PORT": "8123"})); code != 0 {
		t.Errorf("-h with API_PORT from the environment: exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "(default 8123)") {
		t.Errorf("-h should show the effective port 8123 from the environment:\n%s", stderr.String())
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"help"}, {"serve", "-h"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, mapLookup(nil)); code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		out := stdout.String() + stderr.String()
		for _, v := range config.Env {
			if !strings.Contains(out, v.Name) {
				t.Errorf("%v does not document %s", args, v.Name)
			}
		}
		for _, f := range []string{"-port", "-host", "-sla-config", "check-config", "migrate", "version"} {
			if !strings.Contains(out, f) {
				t.Errorf("%v does not mention %s", args, f)
			}
		}
	}
}

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	files := []string{filepath.Join(root, "testdata", "sla", "seed.yaml"), filepath.Join(root, "testdata", "sla", "full.yaml"),
		filepath.Join(root, "testdata", "sla", "policies.yaml")}
	// In CI the shared directory sits beside the clone.
	if shared := filepath.Join(root, "..", "shared", "seed", "sla_config.yaml"); fileExists(shared) {
		files = append(files, shared)
	} else {
		t.Logf("%s absent: checking the repository's copy only", shared)
	}
	for _, f := range files {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"check-config", f}, &stdout, &stderr, mapLookup(nil)); code != 0 {
			t.Errorf("check-config %s: exit %d\n%s", f, code, stderr.String())
			continue
		}
		if !strings.Contains(stdout.String(), "OK") || !strings.Contains(stdout.String(), "gold") || !strings.Contains(stdout.String(), "high") {
			t.Errorf("check-config %s printed no policy summary:\n%s", f, stdout.String())
		}
		if strings.HasSuffix(f, "policies.yaml") && !strings.Contains(stdout.String(), "vip-billing  {tier: gold, attributes.group: [billing, payments], tags: vip}") {
			t.Errorf("check-config %s does not list the policies:\n%s", f, stdout.String())
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("tiers:\n  gold:\n    high: {response: soon, resolution: 8h}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, key string }{
		{bad, "response"},
		{filepath.Join(root, "testdata", "sla", "typo.yaml"), "tierz"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"check-config", tc.file}, &stdout, &stderr, mapLookup(nil))
		if code != 1 || !strings.Contains(stderr.String(), tc.key) {
			t.Errorf("check-config %s: exit %d, stderr %q; want 1 and the key %q", tc.file, code, stderr.String(), tc.key)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"check-config", filepath.Join(t.TempDir(), "missing.yaml")}, &bytes.Buffer{}, &stderr, mapLookup(nil)); code != 1 {
		t.Errorf("check-config of a missing file: exit %d", code)
	}
	if code := run(context.Background(), []string{"check-config"}, &bytes.Buffer{}, &stderr, mapLookup(nil)); code != 2 {
		t.Errorf("check-config without a file: exit %d", code)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &stdout, &bytes.Buffer{}, mapLookup(nil)); code != 0 || !strings.HasPrefix(stdout.String(), "watchdogd ") {
		t.Errorf("version: exit %d, %q", code, stdout.String())
	}
}
