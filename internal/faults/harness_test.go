package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds watchdogd once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "faults-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "watchdogd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ticket-watchdog/watchdog/cmd/watchdogd").CombinedOutput()
	if err != nil {
		return "", errors.New("go build: " + err.Error() + ": " + string(out))
	}
	return bin, nil
})

// slack is a Slack stand-in on a real listener.
type slack struct {
	*mockslack.Server
	url string
}

func newSlack(t *testing.T, f mockslack.Faults) *slack {
	t.Helper()
	m, err := mockslack.New(&mockslack.Config{Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return &slack{Server: m, url: srv.URL + "/services/T000/B000/secret"}
}

// stages counts, per alerted stage (ticket/clock/state), how many times
// Slack received it, from the messages received at or after since.
func (s *slack) stages(t *testing.T, since time.Time) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range s.Messages() {
		if m.ReceivedAt.Before(since) {
			continue
		}
		atts, err := m.AttachmentFields()
		if err != nil {
			t.Fatalf("message %d: %v", m.Seq, err)
		}
		for _, f := range atts {
			out[f["Ticket"]+"/"+f["SLA"]+"/"+f["State"]]++
		}
	}
	return out
}

// duplicates counts the stages received more than once, and the extra
// copies.
func duplicates(stages map[string]int) (keys, extra int) {
	for _, n := range stages {
		if n > 1 {
			keys++
			extra += n - 1
		}
	}
	return keys, extra
}

// waitStages waits until Slack has received want distinct stages.
func (s *slack) waitStages(t *testing.T, want int, within time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := s.stages(t, time.Time{})
		if len(got) >= want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("Slack received %d of %d stages within %v", len(got), want, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proc is a running watchdogd.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	out    *syncBuffer
	exited chan error
}

// startWatchdogd runs the binary in dir with env (API_HOST and API_PORT are
// set here) and waits until /readyz answers 200; readyAt is when it did.
func startWatchdogd(t *testing.T, dir string, port int, env ...string) (p *proc, readyAt time.Time) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "API_HOST=127.0.0.1",
		"API_PORT=" + strconv.Itoa(port), "LOG_LEVEL=warn", "SLA_CONFIG_PATH=" + filepath.Join(dir, "no-sla.yaml")}, env...)
	p = &proc{t: t, cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), out: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("watchdogd log (tail):\n%s", p.out.tail(4000))
		}
	})
	return p, p.waitReady(60 * time.Second)
}

// waitReady polls /readyz until it answers 200.
func (p *proc) waitReady(within time.Duration) time.Time {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now()
			}
		}
		select {
		case err := <-p.exited:
			p.t.Fatalf("watchdogd exited before it was ready: %v\n%s", err, p.out.tail(4000))
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("watchdogd not ready within %v\n%s", within, p.out.tail(4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill9 kills the process with SIGKILL and waits for it.
func (p *proc) kill9() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	<-p.exited
}

// postTickets posts n tickets created created, in batches of 1,000, with
// the API client.
func (p *proc) postTickets(prefix string, n int, created time.Time) {
	p.t.Helper()
	c, err := client.New(p.base, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	ts := created.UTC().Truncate(time.Second)
	for start := 0; start < n; start += 1000 {
		var evs []client.Event
		for i := start; i < min(n, start+1000); i++ {
			evs = append(evs, client.Event{ID: fmt.Sprintf("%s%05d", prefix, i), Priority: "high", CustomerTier: "gold",
				Status: "open", CreatedAt: ts, UpdatedAt: ts})
		}
		if _, err := c.Ingest(context.Background(), evs...); err != nil {
			p.t.Fatalf("POST /tickets: %v", err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// term sends SIGTERM and returns how long the process took to exit, and
// its exit code (-1 when it did not exit within limit).
func (p *proc) term(limit time.Duration) (took time.Duration, code int) {
	p.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.exited:
		return time.Since(start), p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		return time.Since(start), -1
	}
}
