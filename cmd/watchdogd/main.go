// Command watchdogd is Ticket Watchdog's reference server: it reads its
// configuration from the environment (the seed's variable names), a .env
// file and flags, and runs the HTTP service package server assembles.
//
//	watchdogd [serve] [flags]      run the service (the default)
//	watchdogd migrate              apply database migrations and exit
//	watchdogd check-config FILE    validate an SLA file and print the policy
//	watchdogd report [flags]       print the SLA report (table or CSV) from the store
//	watchdogd healthcheck          GET /healthz on the local server (for containers)
//	watchdogd version              print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "watchdogd", versionString())
		return 0
	case "check-config":
		return checkConfig(args, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, stderr, lookup)
	case "report":
		return reportCmd(ctx, args, stdout, stderr, lookup)
	case "serve", "migrate":
	case "help":
		usage(stderr, flag.NewFlagSet("watchdogd", flag.ContinueOnError))
		return 0
	default:
		fmt.Fprintf(stderr, "watchdogd: unknown command %q\n", cmd)
		usage(stderr, flag.NewFlagSet("watchdogd", flag.ContinueOnError))
		return 2
	}
	env, err := loadEnvironment(".env", lookup)
	if err != nil {
		fmt.Fprintln(stderr, "watchdogd:", err)
		return 1
	}
	fs := flag.NewFlagSet("watchdogd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr, fs) }
	s, err := loadSettings(env, fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "watchdogd:", err)
		return 2
	}
	if cmd == "migrate" {
		return migrate(ctx, s, stdout, stderr)
	}
	if err := serve(ctx, s, stderr); err != nil {
		fmt.Fprintln(stderr, "watchdogd:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `watchdogd — Ticket Watchdog's SLA service

Usage:
  watchdogd [serve] [flags]      run the HTTP service (default)
  watchdogd migrate              apply database migrations and exit
  watchdogd check-config FILE    validate an SLA file and print the effective policy
  watchdogd report [flags]       print the SLA report from the store (watchdogd report -h)
  watchdogd healthcheck          exit 0 when the local server answers /healthz
  watchdogd version              print the version

Flags (override the environment):
`)
	defined := false
	fs.VisitAll(func(*flag.Flag) { defined = true })
	if !defined {
		// Register the flags on a throwaway set to print them. (A set
		// that has them shows the effective values as defaults.)
		env := &environment{lookup: func(string) (string, bool) { return "", false }}
		tmp := flag.NewFlagSet("", flag.ContinueOnError)
		_, _ = loadSettings(env, tmp, []string{})
		fs = tmp
	}
	fs.SetOutput(w)
	fs.PrintDefaults()
	printEnvHelp(w)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		return v
	}
	return "(devel)"
}

func checkConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: watchdogd check-config FILE")
		return 2
	}
	p, err := watchdog.LoadPolicyFile(args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n\n", args[0])
	if err := p.WriteSummary(stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func migrate(ctx context.Context, s *settings, stdout, stderr io.Writer) int {
	target, err := store.ParseURL(s.DatabaseURL)
	if err != nil {
		fmt.Fprintln(stderr, "watchdogd:", err)
		return 2
	}
	st, err := store.Open(ctx, s.DatabaseURL)
	if err != nil {
		fmt.Fprintln(stderr, "watchdogd: migrate:", err)
		return 1
	}
	defer st.Close()
	fmt.Fprintf(stdout, "migrations applied to %s\n", target)
	return 0
}

func healthcheck(ctx context.Context, stderr io.Writer, lookup func(string) (string, bool)) int {
	port := "8000"
	if v, ok := lookup("API_PORT"); ok && v != "" {
		port = v
	}
	if _, err := strconv.Atoi(port); err != nil {
		fmt.Fprintln(stderr, "healthcheck: API_PORT is not a number")
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "healthcheck: status", resp.StatusCode)
		return 1
	}
	return 0
}
