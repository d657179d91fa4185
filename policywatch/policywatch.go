// Package policywatch reloads the SLA file while the service runs.
//
// A Watcher watches the file's directory rather than the file itself, so
// that it sees editors' atomic saves (write a temporary file, rename it over
// the old one) and Kubernetes ConfigMap updates (the "..data" symlink
// re-pointed at a new timestamped directory). After a burst of changes has
// settled it re-reads the file; content it has already seen is skipped; a
// file that fails to parse or validate is logged with the key and line at
// fault and the last good policy stays in force; a good one is handed to the
// apply function, typically (*watchdog.Engine).SetPolicy, which recomputes
// the due instants of in-flight tickets and wakes the scheduler.
//
//	w, err := policywatch.New("sla_config.yaml", engine.SetPolicy, nil)
//	if err != nil { ... }
//	if err := w.Load(ctx); err != nil { ... } // e.g. fall back to a default
//	go w.Run(ctx)
package policywatch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ticket-watchdog/watchdog"
)

// DefaultDebounce is how long the file must stay quiet before it is re-read.
const DefaultDebounce = 250 * time.Millisecond

// DefaultApplyRetry is how long after a failed apply the file is tried again.
const DefaultApplyRetry = 5 * time.Second

// maxDebounceFactor bounds how long a steady stream of changes can postpone
// a reload: at most this many debounce periods after the first change.
const maxDebounceFactor = 8

// kubeDataLink is the symlink Kubernetes re-points on a ConfigMap update.
const kubeDataLink = "..data"

// ApplyFunc puts a newly loaded policy in force. (*watchdog.Engine).SetPolicy
// has this shape.
type ApplyFunc func(ctx context.Context, p *watchdog.Policy) error

// Config configures a Watcher. A nil *Config means all defaults.
type Config struct {
	// Debounce is how long the file must stay quiet after a change before it
	// is re-read, so that a burst of writes gives one reload. Default
	// DefaultDebounce.
	Debounce time.Duration
	// Logger receives reload logs; nil discards them.
	Logger *slog.Logger
	// Clock drives the debounce timer and the status timestamps; nil means
	// the system clock.
	Clock watchdog.Clock
	// Transform, when set, is applied to every parsed policy before it is
	// applied, for instance to override thresholds from the environment with
	// (*watchdog.Policy).WithThresholds. An error counts as an invalid file.
	Transform func(*watchdog.Policy) (*watchdog.Policy, error)
	// LookupEnv reads the environment variables the file's notifications
	// section references (${VAR}); nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// ApplyRetry is how long after a failed apply of a good file (the
	// store unreachable, say) the file is loaded and applied again, unless
	// it changes before. Default DefaultApplyRetry.
	ApplyRetry time.Duration
	// OnReload, when set, is called after every load attempt that read new
	// content or failed (not for content already seen), with the resulting
	// status; metrics use it. It must not block.
	OnReload func(Status)
}

// WithDefaults returns a copy of c with every unset field defaulted.
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.Debounce = cmp.Or(out.Debounce, DefaultDebounce)
	out.ApplyRetry = cmp.Or(out.ApplyRetry, DefaultApplyRetry)
	out.Logger = cmp.Or(out.Logger, slog.New(slog.DiscardHandler))
	out.Clock = cmp.Or[watchdog.Clock](out.Clock, watchdog.SystemClock{})
	return &out
}

func (c *Config) validate() error {
	if c.Debounce < 0 {
		return errors.New("policywatch: Config.Debounce must not be negative")
	}
	if c.ApplyRetry < 0 {
		return errors.New("policywatch: Config.ApplyRetry must not be negative")
	}
	return nil
}

// Status describes the watched file's last load attempts, for /readyz and
// metrics.
type Status struct {
	// Path is the watched SLA file.
	Path string
	// LastSuccess is when a policy from the file was last put in force;
	// zero when none has been.
	LastSuccess time.Time
	// LastAttempt is when the file was last read.
	LastAttempt time.Time
	// LastError is why the last attempt failed; empty when it succeeded.
	// While it is set, the policy of LastSuccess stays in force. It may
	// quote the file (a value at fault, a line a YAML error shows): log it,
	// or show it to operators only.
	LastError string
	// LastErrorSummary is LastError without anything read from the file:
	// the path, the kind of failure, and for an invalid file the lines
	// and SLA key paths at fault. Unauthenticated endpoints such as
	// /readyz show it instead of LastError, since the path may be a
	// symlink to a file that is nobody's business.
	LastErrorSummary string
	// Hash is the hex SHA-256 of the file content in force; empty when none.
	Hash string
	// Generation counts the policies put in force from the file.
	Generation int
}

// Loaded reports whether a policy from the file is in force.
func (s Status) Loaded() bool { return s.Generation > 0 }

// Watcher loads the SLA file and reloads it when it changes. Create it with
// New; call Load once, then Run. Its methods are safe for concurrent use.
type Watcher struct {
	path  string // as given, cleaned
	dir   string
	base  string
	apply ApplyFunc
	cfg   *Config
	log   *slog.Logger
	clock watchdog.Clock

	// reload serialises load attempts; mu guards the fields below it.
	reload   sync.Mutex
	mu       sync.Mutex
	status   Status
	policy   *watchdog.Policy
	seenHash string // content whose outcome is settled: applied or invalid
	readErr  string // the last attempt's read error, if it failed to read

	watching chan struct{}
	watchOne sync.Once
}

// New returns a Watcher of the SLA file at path that puts each good version
// in force with apply. It does not touch the file system until Load or Run.
func New(path string, apply ApplyFunc, cfg *Config) (*Watcher, error) {
	if path == "" {
		return nil, errors.New("policywatch: New: path is empty")
	}
	if apply == nil {
		return nil, errors.New("policywatch: New: apply is nil")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("policywatch: New: resolve %s: %w", path, err)
	}
	return &Watcher{
		path:     abs,
		dir:      filepath.Dir(abs),
		base:     filepath.Base(abs),
		apply:    apply,
		cfg:      cfg,
		log:      cfg.Logger.With("path", abs),
		clock:    cfg.Clock,
		status:   Status{Path: abs},
		watching: make(chan struct{}),
	}, nil
}

// Status returns the outcome of the load attempts so far.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// Policy returns the last good policy loaded from the file (after
// Transform), or nil when none has been.
func (w *Watcher) Policy() *watchdog.Policy {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.policy
}

// Watching is closed once Run watches the directory: changes made after it
// is closed are seen.
func (w *Watcher) Watching() <-chan struct{} { return w.watching }

// Load reads the file and, when it is valid and differs from the content in
// force, applies it. It returns the error of a missing, unreadable or
// invalid file (a *watchdog.PolicyError for an invalid one, matching
// watchdog.ErrInvalidPolicy; fs.ErrNotExist for a missing one) or of apply;
// the previous policy, if any, then stays in force. Run calls it on every
// change; call it once before Run for the initial policy.
func (w *Watcher) Load(ctx context.Context) error {
	_, err := w.load(ctx)
	return err
}

// Run watches the file's directory and reloads the file after each change
// has settled for Config.Debounce, until ctx is done; then it returns
// ctx.Err(). Once the watch is set up it reads the file, so that a change
// made since Load is not missed (and a Run without Load loads the file).
// Failed reloads are logged and recorded in Status, not returned. Run fails
// only when the directory cannot be watched.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("policywatch: start watching %s: %w", w.dir, err)
	}
	defer fw.Close()
	if err := fw.Add(w.dir); err != nil {
		return fmt.Errorf("policywatch: watch directory %s: %w", w.dir, err)
	}
	tw := &targetWatch{fw: fw, log: w.log}
	if real, err := filepath.EvalSymlinks(w.dir); err == nil {
		tw.home = real
	} else {
		tw.home = w.dir
	}
	tw.follow(w.path)
	defer tw.stop()
	w.log.Info("watching sla file for changes", "dir", w.dir, "debounce", w.cfg.Debounce)
	// Catch up with any change made before the watch began, such as
	// between Load and Run; content already seen costs only a read.
	initial, _ := w.load(ctx)
	w.watchOne.Do(func() { close(w.watching) })

	var (
		timer    <-chan time.Time
		stop     func() bool
		firstAt  time.Time // first change of the pending burst
		retrying bool      // the pending timer is a retry, not a debounce
	)
	if initial == applyFailed {
		retrying = true
		timer, stop = w.clock.NewTimer(w.cfg.ApplyRetry)
	}
	arm := func() {
		now := w.clock.Now()
		if timer == nil || retrying {
			firstAt, retrying = now, false
		}
		if stop != nil {
			stop()
		}
		// Restart the quiet period, but never past the bound, so that a file
		// rewritten without pause is still reloaded.
		wait := w.cfg.Debounce
		if limit := firstAt.Add(maxDebounceFactor * w.cfg.Debounce).Sub(now); limit < wait {
			wait = max(limit, 0)
		}
		timer, stop = w.clock.NewTimer(wait)
	}
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-fw.Events:
			if !ok {
				return fmt.Errorf("policywatch: watcher of %s closed", w.dir)
			}
			if w.relevant(ev, tw) {
				w.log.Debug("sla file change seen", "event", ev.String())
				arm()
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return fmt.Errorf("policywatch: watcher of %s closed", w.dir)
			}
			// A lost event may have been ours: re-read to be sure.
			w.log.Warn("sla file watch error; re-reading the file", "err", err)
			arm()
		case <-timer:
			timer, stop = nil, nil
			// load logs and records its outcome itself.
			// Watch the target before reading it, so that an edit made
			// after the read is seen.
			tw.follow(w.path)
			o, _ := w.load(ctx)
			if o == applyFailed && ctx.Err() == nil {
				retrying = true
				timer, stop = w.clock.NewTimer(w.cfg.ApplyRetry)
			}
		}
	}
}

// relevant reports whether a directory event may have changed the file's
// content: an event on the file's name or on Kubernetes' "..data" link, or
// any event at all when the file is a symlink, whose target may be anywhere
// in the directory; in the directory of a symlink's target outside it, an
// event on the target's name.
func (w *Watcher) relevant(ev fsnotify.Event, tw *targetWatch) bool {
	if tw.dir != "" && filepath.Dir(ev.Name) == tw.dir {
		return filepath.Base(ev.Name) == filepath.Base(tw.real)
	}
	switch filepath.Base(ev.Name) {
	case w.base, kubeDataLink:
		return true
	}
	fi, err := os.Lstat(w.path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

// targetWatch also watches the directory of the file's final symlink target
// when it lies outside the file's own directory, so that a file linked from
// elsewhere (sla.yaml -> /srv/config/sla.yaml) is reloaded when edited there.
type targetWatch struct {
	fw   *fsnotify.Watcher
	log  *slog.Logger
	home string // the file's directory, symlinks resolved
	dir  string // the extra watched directory; "" when none
	real string // the file's resolved path
}

// follow re-resolves the file's target and moves the extra watch to its
// directory. While the target cannot be resolved (the file is missing),
// the current watch stays, so that the target's return is seen.
func (tw *targetWatch) follow(path string) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return
	}
	dir := filepath.Dir(real)
	if dir == tw.home || strings.HasPrefix(dir, tw.home+string(filepath.Separator)) {
		dir = "" // seen through the file's own directory
	}
	tw.real = real
	if dir == tw.dir {
		return
	}
	tw.stop()
	if dir == "" {
		return
	}
	if err := tw.fw.Add(dir); err != nil {
		tw.log.Warn("cannot watch the sla file's symlink target directory; edits there are not seen",
			"dir", dir, "err", err)
		return
	}
	tw.dir = dir
	tw.log.Debug("watching the sla file's symlink target directory", "dir", dir)
}

func (tw *targetWatch) stop() {
	if tw.dir != "" {
		_ = tw.fw.Remove(tw.dir)
		tw.dir = ""
	}
}

// outcome is how a load attempt ended.
type outcome int

const (
	applied     outcome = iota
	unchanged           // content already applied or already found invalid
	invalid             // missing, unreadable or invalid file
	applyFailed         // good file, but apply failed: worth retrying
)

// load is one load attempt.
func (w *Watcher) load(ctx context.Context) (outcome, error) {
	w.reload.Lock()
	defer w.reload.Unlock()
	now := w.clock.Now()

	data, err := watchdog.ReadPolicyFile(w.path)
	if err != nil {
		err = fmt.Errorf("policywatch: read sla file: %w", err)
		w.mu.Lock()
		w.seenHash = "" // whatever appears next is new
		again := w.readErr == err.Error()
		w.readErr = err.Error()
		if again {
			w.status.LastAttempt = now
		}
		w.mu.Unlock()
		if again {
			// Still missing: reported already, once is enough.
			w.log.Debug("sla file still unreadable", "err", err.Error())
			return invalid, err
		}
		w.fail(now, err, readSummary(w.path, err), "sla file unreadable; keeping the last good policy")
		return invalid, err
	}
	w.mu.Lock()
	w.readErr = ""
	w.mu.Unlock()
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])

	w.mu.Lock()
	seen := hash == w.seenHash
	if seen {
		w.status.LastAttempt = now
	}
	w.mu.Unlock()
	if seen {
		w.log.Debug("sla file unchanged", "hash", shortHash(hash))
		return unchanged, nil
	}

	p, err := watchdog.ParsePolicyEnv(data, w.cfg.LookupEnv)
	var pe *watchdog.PolicyError
	if errors.As(err, &pe) && pe.File == "" {
		pe.File = w.path
	}
	if err == nil && w.cfg.Transform != nil {
		p, err = w.cfg.Transform(p)
		if err == nil && p == nil {
			err = errors.New("no policy returned")
		}
		if err != nil {
			err = fmt.Errorf("policywatch: sla file %s with overrides: %w", w.path, err)
		}
	}
	if err != nil {
		w.mu.Lock()
		w.seenHash = hash // the same bytes will fail the same way
		w.mu.Unlock()
		summary := "sla file " + w.path + " is invalid; the server log gives the details"
		if errors.As(err, &pe) {
			if pe.File == "" {
				pe.File = w.path // a Transform's error
			}
			summary = pe.Summary()
		}
		w.fail(now, err, summary, "sla file invalid; keeping the last good policy")
		return invalid, err
	}

	if err := w.apply(ctx, p); err != nil {
		// Not marked as seen: the next change, even a touch, retries.
		err = fmt.Errorf("policywatch: apply sla file: %w", err)
		w.fail(now, err, "applying the sla file "+w.path+" failed; will retry; the server log gives the details",
			"applying the sla file failed; will retry")
		return applyFailed, err
	}

	w.mu.Lock()
	w.seenHash = hash
	w.policy = p
	w.status.LastAttempt = now
	w.status.LastSuccess = now
	w.status.LastError = ""
	w.status.LastErrorSummary = ""
	w.status.Hash = hash
	w.status.Generation++
	st := w.status
	w.mu.Unlock()
	w.log.Info("sla policy loaded", "hash", shortHash(hash), "generation", st.Generation,
		"tiers", len(p.Tiers))
	w.notify(st)
	return applied, nil
}

// fail records and logs a failed attempt; summary is err without any
// content of the file.
func (w *Watcher) fail(now time.Time, err error, summary, msg string) {
	w.mu.Lock()
	w.status.LastAttempt = now
	w.status.LastError = err.Error()
	w.status.LastErrorSummary = summary
	st := w.status
	w.mu.Unlock()
	w.log.Error(msg, "err", err.Error(), "generation", st.Generation)
	w.notify(st)
}

func (w *Watcher) notify(st Status) {
	if w.cfg.OnReload != nil {
		w.cfg.OnReload(st)
	}
}

// readSummary describes a read failure by its kind alone.
func readSummary(path string, err error) string {
	why := "could not be read; the server log gives the details"
	switch {
	case errors.Is(err, fs.ErrNotExist):
		why = "does not exist"
	case errors.Is(err, fs.ErrPermission):
		why = "is not readable (permission denied)"
	case errors.Is(err, watchdog.ErrNotRegularFile):
		why = "is not a regular file"
	}
	return "sla file " + path + " " + why
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
