//go:build unix

package policywatch_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/policywatch"
)

// A FIFO at the SLA file's path (no writer will ever come) is refused at
// once, not waited on: opening it for reading used to block the load, and
// with it every later reload and the shutdown.
func TestFIFOIsRefusedWithoutBlocking(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sla_config.yaml")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := policywatch.New(path, func(context.Context, *watchdog.Policy) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	loaded := make(chan error, 1)
	go func() { loaded <- w.Load(context.Background()) }()
	select {
	case err := <-loaded:
		if !errors.Is(err, watchdog.ErrNotRegularFile) {
			t.Errorf("Load of a FIFO: %v; want ErrNotRegularFile", err)
		}
	case <-time.After(wait):
		t.Fatal("Load of a FIFO blocked")
	}
	st := w.Status()
	if !strings.Contains(st.LastErrorSummary, "not a regular file") || !strings.Contains(st.LastErrorSummary, path) {
		t.Errorf("LastErrorSummary %q; want the path and why", st.LastErrorSummary)
	}

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()
	select {
	case <-w.Watching():
	case <-time.After(wait):
		t.Fatal("Run never began watching: its first load blocked")
	}
	cancel()
	select {
	case <-ran:
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := watchdog.LoadPolicyFile(path); !errors.Is(err, watchdog.ErrNotRegularFile) {
		t.Errorf("LoadPolicyFile of a FIFO: %v; want ErrNotRegularFile", err)
	}
}
