// Command mockslack is a stand-in for Slack for local stacks, demos and
// tests. It accepts incoming-webhook posts on any path and
// chat.postMessage on /api/chat.postMessage, prints one JSON line per
// message on stdout, lists them on GET /messages and forgets them on
// DELETE /messages. Flags inject failures:
//
//	mockslack -addr :8080 -fail-first 3 -status 429 -retry-after 2
//	mockslack -fail-rate 0.2 -status 503
//
// Every flag has an environment variable (MOCKSLACK_ADDR, ...) so the
// compose file can set them; a flag given on the command line wins.
// `mockslack -healthcheck` GETs /healthz on the local address and exits 0 or
// 1, for container health checks in images without curl.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mockslack:", err)
		}
		os.Exit(1)
	}
}

// options are the command's settings after flags and environment.
type options struct {
	addr        string
	failFirst   int
	failRate    float64
	status      int
	retryAfter  int
	token       string
	healthcheck bool
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("mockslack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envInt := func(name string, def int) (int, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not an integer", name, v)
		}
		return n, nil
	}
	failFirst, err := envInt("MOCKSLACK_FAIL_FIRST", 0)
	if err != nil {
		return o, err
	}
	status, err := envInt("MOCKSLACK_STATUS", http.StatusServiceUnavailable)
	if err != nil {
		return o, err
	}
	retryAfter, err := envInt("MOCKSLACK_RETRY_AFTER", 0)
	if err != nil {
		return o, err
	}
	failRate := 0.0
	if v := getenv("MOCKSLACK_FAIL_RATE"); v != "" {
		if failRate, err = strconv.ParseFloat(v, 64); err != nil {
			return o, fmt.Errorf("MOCKSLACK_FAIL_RATE=%q is not a number", v)
		}
	}
	fs.StringVar(&o.addr, "addr", env("MOCKSLACK_ADDR", ":8080"), "listen address (env MOCKSLACK_ADDR)")
	fs.IntVar(&o.failFirst, "fail-first", failFirst, "fail the first N message requests (env MOCKSLACK_FAIL_FIRST)")
	fs.Float64Var(&o.failRate, "fail-rate", failRate, "fail this fraction, 0 to 1, of later message requests (env MOCKSLACK_FAIL_RATE)")
	fs.IntVar(&o.status, "status", status, "HTTP status of an injected failure, e.g. 429 or 503 (env MOCKSLACK_STATUS)")
	fs.IntVar(&o.retryAfter, "retry-after", retryAfter, "Retry-After seconds on an injected failure; 429 always sends at least 1 (env MOCKSLACK_RETRY_AFTER)")
	fs.StringVar(&o.token, "token", getenv("MOCKSLACK_TOKEN"), "the only bot token chat.postMessage accepts; empty accepts any (env MOCKSLACK_TOKEN)")
	fs.BoolVar(&o.healthcheck, "healthcheck", false, "GET /healthz on the local listen address and exit 0 if healthy, 1 otherwise")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.retryAfter < 0 {
		return o, fmt.Errorf("-retry-after %d is negative", o.retryAfter)
	}
	return o, nil
}

// run serves until ctx is done. ready, if not nil, is told the address
// actually listened on.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(addr string)) error {
	o, err := parse(args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.healthcheck {
		return healthcheck(ctx, o.addr)
	}
	mock, err := mockslack.New(&mockslack.Config{
		Faults: mockslack.Faults{
			FailFirst:  o.failFirst,
			FailRate:   o.failRate,
			Status:     o.status,
			RetryAfter: time.Duration(o.retryAfter) * time.Second,
		},
		Token: o.token,
		Log:   stdout,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	srv := &http.Server{
		Handler:           mock,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	f := mock.Faults()
	fmt.Fprintf(stderr, "mockslack: listening on %s (webhook %s, chat.postMessage %s; faults: fail-first=%d fail-rate=%g status=%d retry-after=%s)\n",
		ln.Addr(), mockslack.WebhookPath, mockslack.PostMessagePath, f.FailFirst, f.FailRate, f.Status, f.RetryAfter)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// healthcheck GETs /healthz on the loopback interface at addr's port.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", resp.Status)
	}
	return nil
}
