// Command mockpagerduty is a stand-in for PagerDuty's Events API v2 for
// local stacks and demos: point a pagerduty receiver's endpoint at
// http://<addr>/v2/enqueue. It prints one JSON line per accepted event
// (without its routing key), lists them on GET /events and forgets them
// on DELETE /events.
//
//	mockpagerduty -addr :8090 [-routing-key KEY]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/mockpagerduty"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mockpagerduty:", err)
		}
		os.Exit(1)
	}
}

// run serves until ctx ends; ready, when set, receives the bound address.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("mockpagerduty", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":8090", "address to listen on")
	key := fs.String("routing-key", "", "routing key events must carry (reported as routing_key_ok; empty accepts any)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mock := mockpagerduty.New(&mockpagerduty.Config{RoutingKey: *key})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	var (
		mu      sync.Mutex
		printed int
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mock.ServeHTTP(w, r)
		mu.Lock()
		defer mu.Unlock()
		evs := mock.Events()
		enc := json.NewEncoder(stdout)
		for ; printed < len(evs); printed++ {
			_ = enc.Encode(evs[printed])
		}
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
