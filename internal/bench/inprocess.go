package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ticket-watchdog/watchdog/server"
)

// StartInProcess runs watchdogd's service (package server) over the store
// databaseURL names, with the harness's SLA file and no notifiers, inside
// this process, so that a CPU profile of the harness covers the server's
// side of a request (HTTP, JSON, engine, store). PID is this process's, so
// memory figures include the client. stop shuts the server down and closes
// the store.
func StartInProcess(ctx context.Context, databaseURL string) (srv *Server, stop func() error, err error) {
	dir, err := os.MkdirTemp("", "watchdog-bench-inprocess-")
	if err != nil {
		return nil, nil, fmt.Errorf("in-process server: %w", err)
	}
	sla := filepath.Join(dir, "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(PolicyYAML), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("in-process server: %w", err)
	}
	s, err := server.New(ctx, &server.Config{DatabaseURL: databaseURL, SLAConfigPath: sla, ListenAddr: "127.0.0.1:0"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("in-process server: %w", err)
	}
	if err := s.Listen(); err != nil {
		s.Close()
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("in-process server: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	return &Server{URL: "http://" + s.Addr(), PID: os.Getpid()}, func() error {
		cancel()
		err := <-done
		return errors.Join(err, s.Close(), os.RemoveAll(dir))
	}, nil
}
