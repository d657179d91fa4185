package policywatch_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/policywatch"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// wait bounds every wait for the file system: fsnotify is real I/O.
const wait = 5 * time.Second

// policyYAML is a valid SLA file whose gold/high response target is resp
// minutes, so that tests can tell versions apart.
func policyYAML(resp int) string {
	return fmt.Sprintf("tiers:\n  gold:\n    high:\n      response: %d\n      resolution: 600\n", resp)
}

// brokenYAML fails validation at tiers.gold.high.response on line 4.
const brokenYAML = "tiers:\n  gold:\n    high:\n      response: soon\n      resolution: 600\n"

func goldHighResponse(t *testing.T, p *watchdog.Policy) time.Duration {
	t.Helper()
	tg, _, reason, ok := p.Lookup("gold", "high")
	if !ok {
		t.Fatalf("policy has no gold/high targets: %s", reason)
	}
	return tg.Response
}

// atomicWrite saves content the way editors do: a temporary file renamed
// over the target.
func atomicWrite(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// logLine is one log record: its message and attributes as text.
type logLine struct {
	msg   string
	attrs map[string]string
}

// logRecorder is a slog handler that passes every record to a channel.
type logRecorder struct{ msgs chan logLine }

func (h logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h logRecorder) Handle(_ context.Context, r slog.Record) error {
	l := logLine{msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.String()
		return true
	})
	select {
	case h.msgs <- l:
	default:
	}
	return nil
}
func (h logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logRecorder) WithGroup(string) slog.Handler      { return h }

// harness runs a Watcher on one file and records what it does.
type harness struct {
	w       *policywatch.Watcher
	applied chan *watchdog.Policy
	reloads chan policywatch.Status
	logs    chan logLine
}

func newHarness(t *testing.T, path string, cfg *policywatch.Config) *harness {
	t.Helper()
	h := &harness{
		applied: make(chan *watchdog.Policy, 100),
		reloads: make(chan policywatch.Status, 100),
		logs:    make(chan logLine, 1000),
	}
	if cfg == nil {
		cfg = &policywatch.Config{Debounce: 20 * time.Millisecond}
	}
	cfg.Logger = slog.New(logRecorder{h.logs})
	cfg.OnReload = func(s policywatch.Status) { h.reloads <- s }
	w, err := policywatch.New(path, func(_ context.Context, p *watchdog.Policy) error {
		h.applied <- p
		return nil
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	return h
}

// run starts Run and waits until the directory is watched.
func (h *harness) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after cancel")
		}
	})
	select {
	case <-h.w.Watching():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(wait):
		t.Fatal("Run did not start watching")
	}
	// Forget the logs of Run's first look at the file.
	for {
		select {
		case <-h.logs:
		default:
			return
		}
	}
}

func (h *harness) nextApplied(t *testing.T) *watchdog.Policy {
	t.Helper()
	select {
	case p := <-h.applied:
		return p
	case <-time.After(wait):
		t.Fatal("apply was not called")
		return nil
	}
}

func (h *harness) nextReload(t *testing.T) policywatch.Status {
	t.Helper()
	select {
	case s := <-h.reloads:
		return s
	case <-time.After(wait):
		t.Fatal("no reload was reported")
		return policywatch.Status{}
	}
}

// waitLog waits for a log with the message and returns the logs before it.
func (h *harness) waitLog(t *testing.T, msg string) []logLine {
	t.Helper()
	deadline := time.After(wait)
	var before []logLine
	for {
		select {
		case l := <-h.logs:
			if l.msg == msg {
				return before
			}
			before = append(before, l)
		case <-deadline:
			t.Fatalf("no log %q", msg)
		}
	}
}

func (h *harness) noApply(t *testing.T) {
	t.Helper()
	select {
	case p := <-h.applied:
		t.Fatalf("apply called unexpectedly with gold/high response %v", goldHighResponse(t, p))
	default:
	}
}

// loaded writes the file, loads it and checks the first apply.
func loaded(t *testing.T, cfg *policywatch.Config) (*harness, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sla_config.yaml")
	if err := os.WriteFile(path, []byte(policyYAML(30)), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, path, cfg)
	if err := h.w.Load(t.Context()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := goldHighResponse(t, h.nextApplied(t)); got != 30*time.Minute {
		t.Fatalf("initial response target %v, want 30m", got)
	}
	h.nextReload(t)
	return h, path
}

func TestAtomicRenameIsApplied(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, nil)
	h.run(t)

	atomicWrite(t, path, policyYAML(45))
	if got := goldHighResponse(t, h.nextApplied(t)); got != 45*time.Minute {
		t.Fatalf("response target after save %v, want 45m", got)
	}
	st := h.nextReload(t)
	if st.LastError != "" || st.Generation != 2 || !st.Loaded() {
		t.Fatalf("status after reload %+v, want generation 2 without error", st)
	}
	if got := goldHighResponse(t, h.w.Policy()); got != 45*time.Minute {
		t.Fatalf("Policy() response target %v, want 45m", got)
	}
}

func TestPlainWriteIsApplied(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, nil)
	h.run(t)
	if err := os.WriteFile(path, []byte(policyYAML(50)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := goldHighResponse(t, h.nextApplied(t)); got != 50*time.Minute {
		t.Fatalf("response target after write %v, want 50m", got)
	}
}

// TestConfigMapSymlinkSwap updates the file the way the kubelet updates a
// mounted ConfigMap: a new timestamped directory, then "..data" re-pointed
// at it by renaming a temporary symlink over it.
func TestConfigMapSymlinkSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeVersion := func(name string, resp int) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "sla_config.yaml"), []byte(policyYAML(resp)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("..2026_11_27_01", 30)
	if err := os.Symlink("..2026_11_27_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sla_config.yaml")
	if err := os.Symlink(filepath.Join("..data", "sla_config.yaml"), path); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, path, nil)
	if err := h.w.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := goldHighResponse(t, h.nextApplied(t)); got != 30*time.Minute {
		t.Fatalf("initial response target %v, want 30m", got)
	}
	h.nextReload(t)
	h.run(t)

	writeVersion("..2026_11_27_02", 90)
	if err := os.Symlink("..2026_11_27_02", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2026_11_27_01")); err != nil {
		t.Fatal(err)
	}
	if got := goldHighResponse(t, h.nextApplied(t)); got != 90*time.Minute {
		t.Fatalf("response target after swap %v, want 90m", got)
	}
	if st := h.nextReload(t); st.Generation != 2 || st.LastError != "" {
		t.Fatalf("status after swap %+v", st)
	}
}

func TestBrokenFileKeepsLastGoodPolicy(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, nil)
	before := h.w.Status()
	h.run(t)

	atomicWrite(t, path, brokenYAML)
	st := h.nextReload(t)
	for _, want := range []string{"tiers.gold.high.response", "line 4", path} {
		if !strings.Contains(st.LastError, want) {
			t.Errorf("LastError %q does not name %q", st.LastError, want)
		}
	}
	h.noApply(t)
	if st.Generation != 1 || st.Hash != before.Hash || !st.LastSuccess.Equal(before.LastSuccess) {
		t.Errorf("status after broken file %+v, want generation, hash and success of %+v", st, before)
	}
	if !st.LastAttempt.After(before.LastAttempt) && !st.LastAttempt.Equal(before.LastAttempt) {
		t.Errorf("LastAttempt went back: %v before %v", st.LastAttempt, before.LastAttempt)
	}
	if got := goldHighResponse(t, h.w.Policy()); got != 30*time.Minute {
		t.Errorf("policy in force has response %v, want the last good 30m", got)
	}
	if !st.Loaded() {
		t.Error("a failed reload must leave the last good policy loaded")
	}

	// Restoring the very content that was in force puts it in force again
	// and clears the error.
	atomicWrite(t, path, policyYAML(30))
	if got := goldHighResponse(t, h.nextApplied(t)); got != 30*time.Minute {
		t.Fatalf("restored response target %v, want 30m", got)
	}
	if st := h.nextReload(t); st.LastError != "" || st.Generation != 2 || st.Hash != before.Hash {
		t.Fatalf("status after restore %+v", st)
	}
}

func TestUnchangedContentIsNotAppliedAgain(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, nil)
	h.run(t)

	atomicWrite(t, path, policyYAML(30)) // same bytes, new inode
	h.waitLog(t, "sla file unchanged")
	h.noApply(t)
	if st := h.w.Status(); st.Generation != 1 || st.LastError != "" {
		t.Fatalf("status %+v, want generation 1", st)
	}

	// A broken file seen twice is reported once.
	atomicWrite(t, path, brokenYAML)
	if st := h.nextReload(t); st.LastError == "" {
		t.Fatal("broken file not reported")
	}
	if err := os.Chtimes(path, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	h.waitLog(t, "sla file unchanged")
	select {
	case s := <-h.reloads:
		t.Fatalf("unchanged broken file reported again: %+v", s)
	default:
	}
}

// TestDebounceCollapsesBurst writes several versions in a burst: only the
// last is applied. A later write proves no intermediate apply was pending.
func TestDebounceCollapsesBurst(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, &policywatch.Config{Debounce: 300 * time.Millisecond})
	h.run(t)

	for resp := 31; resp <= 36; resp++ {
		if err := os.WriteFile(path, []byte(policyYAML(resp)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := goldHighResponse(t, h.nextApplied(t)); got != 36*time.Minute {
		t.Fatalf("first apply after the burst has response %v, want the last version's 36m", got)
	}
	atomicWrite(t, path, policyYAML(99))
	if got := goldHighResponse(t, h.nextApplied(t)); got != 99*time.Minute {
		t.Fatalf("next apply has response %v, want 99m: the burst was applied more than once", got)
	}
	h.nextReload(t)
	if st := h.nextReload(t); st.Generation != 3 {
		t.Fatalf("generation %d, want 3 (initial, burst, sentinel)", st.Generation)
	}
}

func TestFileRemovedAndRecreated(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, nil)
	h.run(t)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	st := h.nextReload(t)
	if !strings.Contains(st.LastError, "no such file") || st.Generation != 1 {
		t.Fatalf("status after removal %+v, want a missing-file error at generation 1", st)
	}
	h.noApply(t)
	if goldHighResponse(t, h.w.Policy()) != 30*time.Minute {
		t.Fatal("last good policy lost after removal")
	}

	if err := os.WriteFile(path, []byte(policyYAML(30)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := goldHighResponse(t, h.nextApplied(t)); got != 30*time.Minute {
		t.Fatalf("recreated file response %v, want 30m", got)
	}
	if st := h.nextReload(t); st.LastError != "" || st.Generation != 2 {
		t.Fatalf("status after recreation %+v", st)
	}
}

func TestOtherFilesInDirectoryAreIgnored(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, nil)
	h.run(t)
	dir := filepath.Dir(path)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".sla_config.yaml.swp"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	atomicWrite(t, path, policyYAML(30)) // same content: a reload, no apply
	seen := 0
	for _, l := range h.waitLog(t, "sla file unchanged") {
		if l.msg != "sla file change seen" {
			continue
		}
		seen++
		if ev := l.attrs["event"]; !strings.Contains(ev, `sla_config.yaml"`) {
			t.Errorf("change of another file triggered a reload: %s", ev)
		}
	}
	if seen == 0 {
		t.Error("the file's own change was not logged")
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "absent.yaml")
		h := newHarness(t, path, nil)
		err := h.w.Load(t.Context())
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Load of a missing file: %v, want fs.ErrNotExist", err)
		}
		st := h.w.Status()
		if st.Loaded() || st.LastError == "" || st.Path != path {
			t.Fatalf("status %+v", st)
		}
		h.noApply(t)
	})
	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "sla.yaml")
		if err := os.WriteFile(path, []byte(brokenYAML), 0o644); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, path, nil)
		err := h.w.Load(t.Context())
		var pe *watchdog.PolicyError
		if !errors.Is(err, watchdog.ErrInvalidPolicy) || !errors.As(err, &pe) || pe.File != path {
			t.Fatalf("Load of a broken file: %v, want a *PolicyError naming the file", err)
		}
		if h.w.Policy() != nil || h.w.Status().Loaded() {
			t.Fatal("a broken file must not load")
		}
		h.noApply(t)
	})
	t.Run("oversized", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "sla.yaml")
		big := policyYAML(30) + "#" + strings.Repeat("x", watchdog.MaxPolicySize) + "\n"
		if err := os.WriteFile(path, []byte(big), 0o644); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, path, nil)
		if err := h.w.Load(t.Context()); !errors.Is(err, watchdog.ErrInvalidPolicy) {
			t.Fatalf("Load of an oversized file: %v, want ErrInvalidPolicy", err)
		}
		h.noApply(t)
	})
}

func TestTransform(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sla.yaml")
	if err := os.WriteFile(path, []byte(policyYAML(30)), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, path, &policywatch.Config{Transform: func(p *watchdog.Policy) (*watchdog.Policy, error) {
		return p.WithThresholds(0.5, 1.0)
	}})
	if err := h.w.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := h.nextApplied(t).Thresholds.Alert; got != 0.5 {
		t.Fatalf("applied alert threshold %v, want the transformed 0.5", got)
	}

	// A file the transform rejects counts as invalid.
	bad := policyYAML(30) + "escalation: [0.9]\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err == nil {
		err = h.w.Load(t.Context())
		if !errors.Is(err, watchdog.ErrInvalidPolicy) {
			t.Fatalf("Load: %v, want ErrInvalidPolicy", err)
		}
	} else {
		t.Fatal(err)
	}
	h.noApply(t)
	if h.w.Policy().Thresholds.Alert != 0.5 {
		t.Fatal("last good policy lost")
	}
}

// TestApplyFailureIsRetried drives the debounce and retry timers with a
// fake clock: the file change is real, the waiting is not.
func TestApplyFailureIsRetried(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sla.yaml")
	if err := os.WriteFile(path, []byte(policyYAML(30)), 0o644); err != nil {
		t.Fatal(err)
	}
	clock := watchdogtest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	failNext := false
	calls := make(chan time.Duration, 10)
	w, err := policywatch.New(path, func(_ context.Context, p *watchdog.Policy) error {
		tg, _, _, _ := p.Lookup("gold", "high")
		calls <- tg.Response
		mu.Lock()
		defer mu.Unlock()
		if failNext {
			failNext = false
			return errors.New("store unreachable")
		}
		return nil
	}, &policywatch.Config{Clock: clock, Debounce: time.Second, ApplyRetry: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-calls
	if got := w.Status().LastSuccess; !got.Equal(clock.Now()) {
		t.Fatalf("LastSuccess %v, want the clock's %v", got, clock.Now())
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	select {
	case <-w.Watching():
	case <-time.After(wait):
		t.Fatal("not watching")
	}

	mu.Lock()
	failNext = true
	mu.Unlock()
	atomicWrite(t, path, policyYAML(40))
	clock.WaitForTimers(t, 1) // the debounce timer
	clock.Advance(time.Second)
	select {
	case got := <-calls:
		if got != 40*time.Minute {
			t.Fatalf("applied %v, want 40m", got)
		}
	case <-time.After(wait):
		t.Fatal("apply not called after the debounce")
	}
	clock.WaitForTimers(t, 1) // the retry timer
	st := w.Status()
	if !strings.Contains(st.LastError, "store unreachable") || st.Generation != 1 {
		t.Fatalf("status after failed apply %+v", st)
	}
	clock.Advance(10 * time.Second)
	select {
	case got := <-calls:
		if got != 40*time.Minute {
			t.Fatalf("retried %v, want 40m", got)
		}
	case <-time.After(wait):
		t.Fatal("apply not retried")
	}
	deadline := time.After(wait)
	for w.Status().Generation != 2 {
		select {
		case <-deadline:
			t.Fatalf("status after retry %+v", w.Status())
		case <-time.After(time.Millisecond):
		}
	}
	if st := w.Status(); st.LastError != "" || !st.LastSuccess.Equal(clock.Now()) {
		t.Fatalf("status after retry %+v", st)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	apply := func(context.Context, *watchdog.Policy) error { return nil }
	for name, tc := range map[string]struct {
		path  string
		apply policywatch.ApplyFunc
		cfg   *policywatch.Config
		want  string
	}{
		"empty path":        {"", apply, nil, "path"},
		"nil apply":         {"x.yaml", nil, nil, "apply"},
		"negative debounce": {"x.yaml", apply, &policywatch.Config{Debounce: -1}, "Debounce"},
		"negative retry":    {"x.yaml", apply, &policywatch.Config{ApplyRetry: -1}, "ApplyRetry"},
	} {
		_, err := policywatch.New(tc.path, tc.apply, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New error %v, want one naming %s", name, err, tc.want)
		}
	}
}

func TestRunFailsOnMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gone", "sla.yaml")
	w, err := policywatch.New(path, func(context.Context, *watchdog.Policy) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("Run on a missing directory: %v, want an error naming it", err)
	}
}

// TestSymlinkToAnotherDirectory follows a file linked from elsewhere:
// edits at the target are seen, and so is re-pointing the link.
func TestSymlinkToAnotherDirectory(t *testing.T) {
	t.Parallel()
	confA, confB, link := t.TempDir(), t.TempDir(), t.TempDir()
	targetA := filepath.Join(confA, "real.yaml")
	targetB := filepath.Join(confB, "other.yaml")
	if err := os.WriteFile(targetA, []byte(policyYAML(30)), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(link, "sla_config.yaml")
	if err := os.Symlink(targetA, path); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, path, nil)
	if err := h.w.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.nextApplied(t)
	h.run(t)

	atomicWrite(t, targetA, policyYAML(40))
	if got := goldHighResponse(t, h.nextApplied(t)); got != 40*time.Minute {
		t.Fatalf("after editing the target: %v, want 40m", got)
	}

	// Re-point the link atomically at a file in a third directory.
	if err := os.WriteFile(targetB, []byte(policyYAML(50)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(targetB, path+".new"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	if got := goldHighResponse(t, h.nextApplied(t)); got != 50*time.Minute {
		t.Fatalf("after re-pointing the link: %v, want 50m", got)
	}
	atomicWrite(t, targetB, policyYAML(60))
	if got := goldHighResponse(t, h.nextApplied(t)); got != 60*time.Minute {
		t.Fatalf("after editing the new target: %v, want 60m", got)
	}
}

func TestChangeBeforeRunIsSeen(t *testing.T) {
	t.Parallel()
	h, path := loaded(t, nil)
	atomicWrite(t, path, policyYAML(45)) // between Load and Run: no watch yet
	h.run(t)
	if got := goldHighResponse(t, h.nextApplied(t)); got != 45*time.Minute {
		t.Fatalf("response target %v, want 45m", got)
	}
}

// TestFileAppearsLater starts without the file, as a server on its built-in
// default policy does, and loads the file once it is created.
func TestFileAppearsLater(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sla_config.yaml")
	h := newHarness(t, path, nil)
	if err := h.w.Load(t.Context()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load: %v, want fs.ErrNotExist", err)
	}
	if st := h.nextReload(t); st.LastError == "" || st.Loaded() {
		t.Fatalf("status %+v, want an error and nothing loaded", st)
	}
	h.run(t)
	select {
	case st := <-h.reloads:
		t.Fatalf("a still-missing file was reported twice: %+v", st)
	default:
	}
	atomicWrite(t, path, policyYAML(20))
	if got := goldHighResponse(t, h.nextApplied(t)); got != 20*time.Minute {
		t.Fatalf("response target %v, want 20m", got)
	}
	if st := h.nextReload(t); st.LastError != "" || st.Generation != 1 {
		t.Fatalf("status %+v", st)
	}
}
