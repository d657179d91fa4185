// Package scheduler is the engine's deadline-driven loop: it sleeps until
// its next due instant, wakes early when told, and falls back to a periodic
// safety-net pass.
//
// It depends only on the standard library. Its Clock interface has the same
// method set as watchdog.Clock, so any watchdog.Clock (the system clock or
// the fake one in watchdogtest) can drive it.
package scheduler

import (
	"context"
	"sync/atomic"
	"time"
)

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// StepFunc does the work due at now and returns the next instant it wants
// to run at; a zero time means "only when woken or at the safety-net
// interval". An instant not after now means "run again at once".
type StepFunc func(ctx context.Context, now time.Time) (next time.Time, err error)

// Loop runs a StepFunc at its deadlines. The zero value is not usable; use
// NewLoop.
type Loop struct {
	clock    Clock
	step     StepFunc
	interval time.Duration
	retry    time.Duration
	onError  func(error)
	wake     chan struct{}

	waiting atomic.Bool
	waking  atomic.Bool // a Wake not yet served by a step
	timer   atomic.Pointer[<-chan time.Time]
	// deadline is when the armed timer fires, or a moment after; nil when
	// none is armed. A time.Time rather than Unix nanoseconds, which
	// overflow past 2262 (a long Interval reaches that far).
	deadline atomic.Pointer[time.Time]
}

// LoopConfig configures a Loop.
type LoopConfig struct {
	// Interval is the longest the loop sleeps without being woken: the
	// safety-net pass. Default one minute.
	Interval time.Duration
	// ErrorDelay is the wait after a failed step. Default one second.
	ErrorDelay time.Duration
	// OnError is told of every failed step; nil ignores them.
	OnError func(error)
}

// NewLoop returns a loop that runs step on clock.
func NewLoop(clock Clock, step StepFunc, cfg LoopConfig) *Loop {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.ErrorDelay <= 0 {
		cfg.ErrorDelay = time.Second
	}
	return &Loop{clock: clock, step: step, interval: cfg.Interval, retry: cfg.ErrorDelay, onError: cfg.OnError, wake: make(chan struct{}, 1)}
}

// Wake makes the loop run its step at once (or right after the current
// one). It never blocks; several wakes before the loop runs count as one.
func (l *Loop) Wake() {
	// Marked before the send: a send to a loop parked in select hands the
	// value over without buffering it, so Idle could not see it otherwise.
	l.waking.Store(true)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Idle reports whether the loop is asleep with no wake-up pending: its
// next step waits for its timer. Tests driving a fake clock use it to know
// the loop has finished reacting before they move the clock again.
func (l *Loop) Idle() bool {
	if !l.waiting.Load() || len(l.wake) > 0 || l.waking.Load() {
		return false
	}
	// A timer that fired but whose loop has not yet woken is work pending
	// too (a fake clock's timer channel holds the value it sent).
	if c := l.timer.Load(); c != nil && len(*c) > 0 {
		return false
	}
	// So is one whose instant has come: a channel send to a loop parked
	// in select hands the value over without buffering it, and the loop
	// may not have run since.
	if d := l.deadline.Load(); d != nil && !l.clock.Now().Before(*d) {
		return false
	}
	return true
}

// Run runs the loop until ctx is done; it returns ctx's error.
func (l *Loop) Run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A wake that arrives while the step runs must not be lost, and one
		// that arrived before it is already served by this step.
		select {
		case <-l.wake:
		default:
		}
		// This step serves every wake so far; a later one marks again.
		l.waking.Store(false)
		now := l.clock.Now()
		next, err := l.step(ctx, now)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if l.onError != nil {
				l.onError(err)
			}
			next = l.clock.Now().Add(l.retry)
		}
		wait := l.interval
		if !next.IsZero() {
			if d := next.Sub(l.clock.Now()); d < wait {
				wait = d
			}
		}
		if wait <= 0 {
			continue
		}
		c, stop := l.clock.NewTimer(wait)
		// Read after arming, so that the deadline is never before the
		// timer's own instant: Idle must not call a loop busy whose timer
		// has not fired.
		deadline := l.clock.Now().Add(wait)
		l.deadline.Store(&deadline)
		l.timer.Store(&c)
		l.waiting.Store(true)
		select {
		case <-ctx.Done():
			l.waiting.Store(false)
			stop()
			return ctx.Err()
		case <-l.wake:
			l.waiting.Store(false)
			stop()
		case <-c:
			l.waiting.Store(false)
		}
	}
}
