package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/metrics"
	"github.com/ticket-watchdog/watchdog/policywatch"
	"github.com/ticket-watchdog/watchdog/ui"
)

// policyStartup puts the SLA file's policy in force. The first policy (the
// file's, or the built-in default when there is none) is put in force at
// once, and open tickets, stored under whatever policy the previous run
// had, are recomputed in the background by Run, so that a large store does
// not delay serving. Later reloads recompute before they count as applied.
type policyStartup struct {
	watcher *policywatch.Watcher
	// usingDefault is set when the file was absent at start-up.
	usingDefault bool
	// started is set once the first policy is in force.
	started atomic.Bool
	// recomputing is set while the start-up replan runs; /readyz shows it.
	recomputing atomic.Bool
}

// thresholdOverride returns the policy transform that applies cfg's
// threshold overrides, if any.
func thresholdOverride(cfg *Config) func(*watchdog.Policy) (*watchdog.Policy, error) {
	return func(p *watchdog.Policy) (*watchdog.Policy, error) {
		if cfg.AlertThreshold == nil && cfg.BreachThreshold == nil {
			return p, nil
		}
		alert, breach := p.Thresholds.Alert, p.Thresholds.Breach
		if cfg.AlertThreshold != nil {
			alert = *cfg.AlertThreshold
		}
		if cfg.BreachThreshold != nil {
			breach = *cfg.BreachThreshold
		}
		return p.WithThresholds(alert, breach)
	}
}

// initialPolicy is the built-in default policy with cfg's overrides: the
// engine starts with it, and it stays in force when the file is absent.
func initialPolicy(cfg *Config) (*watchdog.Policy, error) {
	p, err := thresholdOverride(cfg)(watchdog.DefaultPolicy())
	if err != nil {
		return nil, &ConfigError{Field: thresholdFields, Err: err}
	}
	return p, nil
}

// startPolicy loads the SLA file into eng, falling back to the engine's
// built-in default policy when the file does not exist. A reload whose
// notifications section adds, removes or changes receivers gives the
// engine their notifiers with the policy (see receiverSet).
func startPolicy(ctx context.Context, cfg *Config, eng *watchdog.Engine, m *metrics.Metrics, rs *receiverSet) (*policyStartup, error) {
	ps := &policyStartup{}
	apply := func(ctx context.Context, p *watchdog.Policy) error {
		if ps.started.Load() {
			return rs.apply(ctx, eng, p)
		}
		return eng.SetPolicy(p)
	}
	w, err := policywatch.New(cfg.SLAConfigPath, apply, &policywatch.Config{
		Logger: cfg.Logger,
		Transform: func(p *watchdog.Policy) (*watchdog.Policy, error) {
			p, err := thresholdOverride(cfg)(p)
			if err != nil {
				return nil, err
			}
			return rs.prepare(p)
		},
		OnReload:  func(st policywatch.Status) { m.PolicyReloaded(st.LastSuccess, st.LastError) },
		LookupEnv: cfg.LookupEnv,
	})
	if err != nil {
		return nil, err
	}
	ps.watcher = w
	if err := w.Load(ctx); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("SLA file: %w", err)
		}
		ps.usingDefault = true
		cfg.Logger.Warn("SLA file not found: using the built-in default policy (gold high/medium/low); creating the file loads it", "path", cfg.SLAConfigPath)
	}
	ps.started.Store(true)
	return ps, nil
}

// replan recomputes the open tickets under the policy in force, showing
// "running" on /readyz meanwhile.
func (ps *policyStartup) replan(eng *watchdog.Engine) func(context.Context) error {
	ps.recomputing.Store(true)
	return func(ctx context.Context) error {
		defer ps.recomputing.Store(false)
		if err := eng.Replan(ctx); err != nil {
			return err
		}
		return eng.Reroute(ctx)
	}
}

// details adds the policy's part of the /readyz body to d, and says why the
// service is not ready when no policy is in force.
func (ps *policyStartup) details(d map[string]any) error {
	ws := ps.watcher.Status()
	d["policy_file"] = ws.Path
	switch {
	case ws.Loaded():
		d["policy"] = "file"
		d["policy_loaded_at"] = ws.LastSuccess.UTC().Format(time.RFC3339)
	case ps.usingDefault:
		d["policy"] = "built-in default"
	}
	d["open_tickets_recompute"] = "done"
	if ps.recomputing.Load() {
		// Serving meanwhile is fine: evaluations already use the policy;
		// only stored due instants may still be stale.
		d["open_tickets_recompute"] = "running"
	}
	if ws.LastError != "" && !(ps.usingDefault && !ws.Loaded()) {
		// The last good policy stays in force: still ready. The summary,
		// not the error: anyone may read /readyz, and the error can quote
		// the file, which may be a symlink to anything.
		d["policy_reload_error"] = ws.LastErrorSummary
	}
	if !ws.Loaded() && !ps.usingDefault {
		return errors.New("no SLA policy loaded")
	}
	return nil
}

// status is the policy page's view of the SLA file (ui.Config.PolicyStatus).
func (ps *policyStartup) status() ui.PolicyStatus {
	ws := ps.watcher.Status()
	st := ui.PolicyStatus{Path: ws.Path, Source: "file", LoadedAt: ws.LastSuccess, Generation: ws.Generation, Hash: ws.Hash,
		LastAttempt: ws.LastAttempt, LastError: ws.LastError, LastErrorSummary: ws.LastErrorSummary}
	if !ws.Loaded() {
		st.Source = "built-in default"
	}
	if ps.usingDefault && !ws.Loaded() {
		// The file is absent: nothing failed.
		st.LastError, st.LastErrorSummary = "", ""
	}
	return st
}
