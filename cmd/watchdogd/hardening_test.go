package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// settingsFrom loads the settings from vars alone (no .env file).
func settingsFrom(t *testing.T, vars map[string]string) (*settings, error) {
	t.Helper()
	env, err := loadEnvironment(filepath.Join(t.TempDir(), ".env"), mapLookup(vars))
	if err != nil {
		t.Fatal(err)
	}
	return loadSettings(env, nil, nil)
}

// WATCHDOG_MAX_WS_CLIENTS bounds the alert stream's clients, 1000 by
// default; the hub used to be unbounded.
func TestMaxWebSocketClientsVariable(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]int{"": 1000, "3": 3} {
		s, err := settingsFrom(t, map[string]string{"WATCHDOG_MAX_WS_CLIENTS": value})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.serverConfig(io.Discard).MaxWebSocketClients; got != want {
			t.Errorf("WATCHDOG_MAX_WS_CLIENTS=%q: MaxWebSocketClients %d, want %d", value, got, want)
		}
	}
	for _, value := range []string{"0", "-1", "many"} {
		if _, err := settingsFrom(t, map[string]string{"WATCHDOG_MAX_WS_CLIENTS": value}); err == nil || !strings.Contains(err.Error(), "WATCHDOG_MAX_WS_CLIENTS") {
			t.Errorf("WATCHDOG_MAX_WS_CLIENTS=%q: error %v should name the variable", value, err)
		}
	}
}

// WATCHDOG_PUBLIC_URL is the service's address; WATCHDOG_DASHBOARD_URL,
// its former name, still works when it is unset.
func TestPublicURLVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"WATCHDOG_PUBLIC_URL": "https://wd.example.com"}, "https://wd.example.com"},
		{map[string]string{"WATCHDOG_DASHBOARD_URL": "https://old.example.com"}, "https://old.example.com"},
		{map[string]string{"WATCHDOG_PUBLIC_URL": "https://wd.example.com", "WATCHDOG_DASHBOARD_URL": "https://old.example.com"}, "https://wd.example.com"},
		{nil, ""},
	} {
		s, err := settingsFrom(t, tc.vars)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.serverConfig(io.Discard).PublicURL; got != tc.want {
			t.Errorf("%v: PublicURL %q, want %q", tc.vars, got, tc.want)
		}
	}
	var stderr bytes.Buffer
	vars := map[string]string{"WATCHDOG_PUBLIC_URL": "ftp://wd.example.com", "DATABASE_URL": "sqlite:///" + filepath.Join(t.TempDir(), "wd.db")}
	if code := run(context.Background(), []string{"serve"}, io.Discard, &stderr, mapLookup(vars)); code != 1 || !strings.Contains(stderr.String(), "WATCHDOG_PUBLIC_URL") {
		t.Errorf("WATCHDOG_PUBLIC_URL=ftp://…: exit %d, stderr %q; want 1 naming the variable", code, stderr.String())
	}
}
