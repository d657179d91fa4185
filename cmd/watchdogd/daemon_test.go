package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon is a watchdogd process run by startDaemon, for the tests of
// process and database faults.
type daemon struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	logs *syncBuffer
	// exited is closed when the process has exited; err is then Wait's.
	exited chan struct{}
	err    error
}

// count is how many log lines hold every one of parts.
func (s *syncBuffer) count(parts ...string) int {
	n := 0
	for _, l := range strings.Split(s.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all && l != "" {
			n++
		}
	}
	return n
}

// startDaemon starts the built binary in a new directory on a free
// loopback port, with env added to a bare environment, and kills it when
// the test ends if it is still running.
func startDaemon(t *testing.T, env ...string) *daemon {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := strconv.Itoa(freePort(t))
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "API_HOST=127.0.0.1", "API_PORT=" + port}, env...)
	d := &daemon{t: t, cmd: cmd, base: "http://127.0.0.1:" + port, logs: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			_ = cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("watchdogd's log:\n%s", d.logs)
		}
	})
	return d
}

// reply is an HTTP answer and how long it took.
type reply struct {
	code   int
	header http.Header
	body   string
	took   time.Duration
}

// errorText is the "error" field of a JSON error body, or "" when the body
// is not one.
func (r reply) errorText() string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(r.body), &e) != nil {
		return ""
	}
	return e.Error
}

// do sends a request (a JSON body unless body is ""), giving up after
// timeout.
func (d *daemon) do(method, path, body string, timeout time.Duration) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{took: time.Since(start)}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, header: resp.Header, body: string(b), took: time.Since(start)}, err
}

// waitFor polls GET path until it answers code, failing the test after
// within or when the process exits.
func (d *daemon) waitFor(path string, code int, within time.Duration) reply {
	d.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r, err := d.do(http.MethodGet, path, "", 5*time.Second)
		if err == nil && r.code == code {
			return r
		}
		select {
		case <-d.exited:
			d.t.Fatalf("watchdogd exited (%v) before GET %s answered %d", d.err, path, code)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("GET %s did not answer %d within %s: last %d %s (%v)", path, code, within, r.code, r.body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exitCode waits up to within for the process to exit and returns its
// exit code, or -1 when it has not exited.
func (d *daemon) exitCode(within time.Duration) int {
	select {
	case <-d.exited:
	case <-time.After(within):
		return -1
	}
	var ee *exec.ExitError
	switch {
	case d.err == nil:
		return 0
	case errors.As(d.err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// terminate sends SIGTERM and returns the exit code (-1 when the process
// did not exit within within) and how long it took.
func (d *daemon) terminate(within time.Duration) (code int, took time.Duration) {
	d.t.Helper()
	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	code = d.exitCode(within)
	return code, time.Since(start)
}

// ticketJSON is one event of an open gold/high ticket created at created.
func ticketJSON(id string, created time.Time) string {
	ts := created.UTC().Format(time.RFC3339)
	return fmt.Sprintf(`{"id":%q,"priority":"high","customer_tier":"gold","status":"open","created_at":%q,"updated_at":%q}`, id, ts, ts)
}
