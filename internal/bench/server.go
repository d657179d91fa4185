package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ticket-watchdog/watchdog/client"
)

// SpawnConfig starts a watchdogd child process.
type SpawnConfig struct {
	// Binary is the path of a built watchdogd.
	Binary string
	// DatabaseURL is the server's DATABASE_URL.
	DatabaseURL string
	// SLAFile is the server's SLA_CONFIG_PATH.
	SLAFile string
	// SlackWebhookURL is the server's SLACK_WEBHOOK_URL; empty for none.
	SlackWebhookURL string
	// Log receives the server's stdout and stderr; nil discards them.
	Log io.Writer
	// LogLevel is the server's LOG_LEVEL; empty means "warn" (an info
	// line per alert would cost the server more than the alert).
	LogLevel string
	// ReadyTimeout bounds the wait for GET /readyz to answer 200; a server
	// opening a million tickets recomputes them all first. 0 means 15 min.
	ReadyTimeout time.Duration
}

// Server is a watchdogd the harness talks to.
type Server struct {
	// URL is the server's base URL, such as http://127.0.0.1:8000.
	URL string
	// PID is the server's process id when it runs on this machine, else 0.
	PID int
	// ReadyAfter is how long a spawned server took to answer /readyz.
	ReadyAfter time.Duration

	cmd  *exec.Cmd
	done chan error
}

// Remote returns a Server for a watchdogd already running at url. pid may
// be 0 when the server is not local (RSS then goes unreported).
func Remote(url string, pid int) *Server {
	return &Server{URL: strings.TrimRight(url, "/"), PID: pid}
}

// Spawn starts watchdogd on a free loopback port and waits until it is
// ready. The caller must Stop it.
func Spawn(ctx context.Context, c SpawnConfig) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if c.LogLevel == "" {
		c.LogLevel = "warn"
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 15 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	cmd := exec.Command(c.Binary, "serve")
	// Only what the server needs: nothing from the caller's environment
	// (such as a real SLACK_WEBHOOK_URL) leaks into the benchmark.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + c.DatabaseURL,
		"SLA_CONFIG_PATH=" + c.SLAFile,
		"SLACK_WEBHOOK_URL=" + c.SlackWebhookURL,
		"API_HOST=127.0.0.1",
		"API_PORT=" + strconv.Itoa(port),
		"LOG_LEVEL=" + c.LogLevel,
		"SCHEDULER_INTERVAL_MINUTES=1",
	}
	if v := os.Getenv("WATCHDOG_DEBUG_ADDR"); v != "" {
		// Passed through so the spawned server can be profiled mid-run.
		cmd.Env = append(cmd.Env, "WATCHDOG_DEBUG_ADDR="+v)
	}
	// A scratch working directory keeps a stray .env from configuring it.
	cmd.Dir = os.TempDir()
	cmd.Stdout, cmd.Stderr = c.Log, c.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Binary, err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), PID: cmd.Process.Pid, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	readyCtx, cancel := context.WithTimeout(ctx, c.ReadyTimeout)
	defer cancel()
	if err := s.waitReady(readyCtx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	s.ReadyAfter = time.Since(start)
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	api, err := newAPIClient(s.URL, nil, 5*time.Second)
	if err != nil {
		return err
	}
	for {
		// Measure a settled server: wait out the startup recompute of
		// open tickets too, which runs in the background after start.
		r, err := api.Ready(ctx)
		if err == nil && (r.OpenTicketsRecompute == nil || *r.OpenTicketsRecompute != client.ReadinessOpenTicketsRecomputeRunning) {
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("watchdogd exited before it was ready: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("watchdogd not ready at %s: %w", s.URL, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends a spawned server with SIGTERM (a graceful shutdown), and kills
// it if it has not exited after 30 seconds. It does nothing for a remote
// server.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return err
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("watchdogd did not stop within 30s; killed")
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Memory is a process's resident memory from /proc/<pid>/status.
type Memory struct {
	// PeakMB is VmHWM, the peak resident set size.
	PeakMB float64 `json:"peak_rss_mb"`
	// CurrentMB is VmRSS.
	CurrentMB float64 `json:"rss_mb"`
}

// ReadMemory reads pid's memory; ok is false when pid is 0 or /proc has no
// such process (a remote server).
func ReadMemory(pid int) (m Memory, ok bool) {
	if pid <= 0 {
		return Memory{}, false
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Memory{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 1 {
			continue
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM":
			m.PeakMB, ok = round1(kb/1024), true
		case "VmRSS":
			m.CurrentMB = round1(kb / 1024)
		}
	}
	return m, ok
}

// MetricSum reads a Prometheus histogram's _sum and _count from the
// server's /metrics.
func MetricSum(ctx context.Context, baseURL, histogram string) (sum, count float64, err error) {
	api, err := newAPIClient(baseURL, nil, time.Minute)
	if err != nil {
		return 0, 0, err
	}
	resp, err := api.Raw().GetMetrics(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	found := false
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		switch name {
		case histogram + "_sum":
			sum, err = strconv.ParseFloat(value, 64)
			found = true
		case histogram + "_count":
			count, err = strconv.ParseFloat(value, 64)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("/metrics: %s: %w", name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("reading /metrics: %w", err)
	}
	if !found {
		return 0, 0, fmt.Errorf("/metrics has no %s", histogram)
	}
	return sum, count, nil
}

// metricSamples is one scrape of /metrics: each sample's value under its
// series as written (name{labels}), and under its bare name the sum over
// its label sets.
type metricSamples map[string]float64

// scrapeMetrics reads every sample of the server's /metrics.
func scrapeMetrics(ctx context.Context, baseURL string) (metricSamples, error) {
	api, err := newAPIClient(baseURL, nil, time.Minute)
	if err != nil {
		return nil, err
	}
	resp, err := api.Raw().GetMetrics(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	out := metricSamples{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		series := line[:i]
		out[series] = v
		if name, _, found := strings.Cut(series, "{"); found {
			out[name] += v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading /metrics: %w", err)
	}
	return out, nil
}

// ProcCPU reads the CPU time (user and system) process pid has used so
// far from /proc; ok is false when pid is 0 or not a local process.
func ProcCPU(pid int) (cpu time.Duration, ok bool) {
	if pid <= 0 {
		return 0, false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count from after it.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	// Fields 14 and 15 (utime, stime), in clock ticks of 1/100 s (Linux's
	// USER_HZ on every architecture Go supports).
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}
