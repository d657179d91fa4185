package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/server"
)

// chromium finds the browser: WATCHDOG_CHROMIUM, else chromium or
// chromium-browser on PATH. Without one the test skips, unless CI is set.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WATCHDOG_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "BROWSER TESTS NOT RUN: no chromium on PATH (apt-get install chromium, or set WATCHDOG_CHROMIUM)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts a headless chromium with a fresh profile for the test
// and returns a tab's context; more tabs come from chromedp.NewContext on
// it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium (%s): %v", path, err)
	}
	return ctx
}

// run runs browser actions with a deadline, failing the test on error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the tab.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return out
}

// evalAwait evaluates a JavaScript expression that gives a promise and
// returns what it resolves to.
func evalAwait[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return out
}

// waitFor polls a JavaScript condition until it holds or the deadline
// passes; it returns how long it took.
func waitFor(t *testing.T, ctx context.Context, what, js string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(cctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return time.Since(start)
		}
		last = err
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s (%s; last error %v)", what, within, js, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot saves the tab as name.png under WATCHDOG_SCREENSHOTS or the
// test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("WATCHDOG_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// service is a watchdogd run in-process on a real listener.
type service struct {
	srv  *server.Server
	URL  string
	Addr string
	stop func()
}

// startService runs the server with cfg's settings over the SQLite file
// db, listening on addr ("127.0.0.1:0" for any port), until the test ends
// or stop is called.
func startService(t *testing.T, db, addr string, cfg server.Config) *service {
	t.Helper()
	cfg.DatabaseURL = "sqlite:///" + db
	if cfg.SLAConfigPath == "" {
		cfg.SLAConfigPath = filepath.Join(filepath.Dir(db), "absent-sla.yaml") // the built-in policy
	}
	cfg.ListenAddr = addr
	srv, err := server.New(context.Background(), &cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var stopped atomic.Bool
	stop := func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server.Run: %v", err)
		}
		_ = srv.Close()
	}
	t.Cleanup(stop)
	s := &service{srv: srv, Addr: srv.Addr(), URL: "http://" + srv.Addr(), stop: stop}
	waitReady(t, s.URL)
	return s
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s not ready: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// event is a ticket event as the helpdesk posts it.
type event struct {
	ID           string    `json:"id"`
	Priority     string    `json:"priority"`
	CustomerTier string    `json:"customer_tier"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func newEvent(id, tier, priority string, created time.Time) event {
	created = created.UTC().Truncate(time.Millisecond)
	return event{ID: id, Priority: priority, CustomerTier: tier, Status: "open", CreatedAt: created, UpdatedAt: created}
}

// ingest posts events to the API as a helpdesk does.
func ingest(t *testing.T, url, token string, evs ...event) {
	t.Helper()
	body, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/tickets", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /tickets: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /tickets: %d", resp.StatusCode)
	}
}

// alertsOf reads a ticket's alerts from the engine: the server's record.
func alertsOf(t *testing.T, s *service, id string) []watchdog.Alert {
	t.Helper()
	v, err := s.srv.Engine().Ticket(context.Background(), id)
	if err != nil {
		t.Fatalf("Ticket(%s): %v", id, err)
	}
	return v.Alerts
}

// text returns the text of the first element matching a CSS selector, or
// "" when there is none.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent.trim()`, sel))
}

// has reports whether a CSS selector matches.
func has(sel string) string { return fmt.Sprintf(`document.querySelector(%q) !== null`, sel) }

// clickAndLoad clicks a link or button that loads another page and waits
// until the new page has loaded.
func clickAndLoad(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	eval[bool](t, ctx, `window.beforeClick = true`)
	run(t, ctx, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
	waitFor(t, ctx, "the page after clicking "+sel, `window.beforeClick === undefined && document.readyState === "complete"`, 10*time.Second)
}

// page is a page to open in a browser, ready when a JavaScript condition
// holds.
type page struct {
	ctx   context.Context
	url   string
	ready string
}

// openAll opens the pages at once, each in its own browser, and waits
// until each is ready.
func openAll(t *testing.T, pages ...page) {
	t.Helper()
	errs := make(chan error, len(pages))
	for _, p := range pages {
		go func() {
			ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(p.url)); err != nil {
				errs <- fmt.Errorf("open %s: %w", p.url, err)
				return
			}
			for {
				if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](p.ready)); err == nil && ok {
					errs <- nil
					return
				}
				select {
				case <-ctx.Done():
					errs <- fmt.Errorf("%s: not ready (%s)", p.url, p.ready)
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
	}
	for range pages {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
