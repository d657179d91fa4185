package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"sync"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
	"github.com/ticket-watchdog/watchdog/store"
)

// StartInProcess serves the API over an engine over the store databaseURL
// names, inside this process, so that a CPU profile of the harness covers
// the server's side of a request (HTTP, JSON, engine, store). It is
// watchdogd's ingest path without notifiers, metrics or the WebSocket hub.
// PID is this process's, so memory figures include the client. stop ends
// the server and closes the store.
func StartInProcess(ctx context.Context, databaseURL string) (srv *Server, stop func() error, err error) {
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, databaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("in-process server: %w", err)
	}
	eng, err := watchdog.New(st, &watchdog.Config{Policy: p})
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("in-process server: %w", err)
	}
	h, err := api.New(eng, nil)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("in-process server: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = eng.Run(runCtx)
	}()
	hs := httptest.NewServer(h)
	return &Server{URL: hs.URL, PID: os.Getpid()}, func() error {
		hs.Close()
		cancel()
		wg.Wait()
		return errors.Join(st.Close())
	}, nil
}
