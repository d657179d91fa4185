package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binDir holds the built binary; TestMain removes it.
var binDir string

// buildBinary builds watchdogd once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "watchdogd-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "watchdogd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", errors.New("go build: " + err.Error() + ": " + string(out))
	}
	return bin, nil
})

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runFreshBinary starts the built binary in a new empty directory with only
// PATH and HOME (plus extra) in its environment, checks that it serves
// /healthz on port and creates watchdog.db there, then stops it with SIGTERM
// and checks that it exits 0.
func runFreshBinary(t *testing.T, port int, extra ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, extra...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /healthz: %d", resp.StatusCode)
			}
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("watchdogd exited before serving: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("watchdogd did not serve %s within 30s: %v\n%s", url, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "watchdog.db")); err != nil {
		t.Errorf("the SQLite file was not created in the working directory: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("watchdogd after SIGTERM: %v (want exit 0)\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("watchdogd did not exit within 30s of SIGTERM\n%s", out.String())
	}
	logs := out.String()
	for _, want := range []string{"built-in default policy", `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestBinaryFromFreshDirectory(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	runFreshBinary(t, port, "API_PORT="+strconv.Itoa(port))
}

// TestBinaryOnDefaultPort runs the binary with nothing set at all, so it
// serves on the documented default port 8000, when that port is free.
func TestBinaryOnDefaultPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", ":8000")
	if err != nil {
		t.Skipf("port 8000 is in use (%v): the default-port run needs it free", err)
	}
	ln.Close()
	runFreshBinary(t, 8000)
}
