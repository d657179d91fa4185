package watchdog

import (
	"context"
	"time"
)

// Hooks returns the engine's test and tooling hooks. A service never needs
// them: they let a test on a fake clock wait until the engine has settled
// before moving the clock, and a tool drive evaluation step by step.
func (e *Engine) Hooks() EngineHooks { return EngineHooks{e: e} }

// EngineHooks are an engine's hooks for tests and tools (see Engine.Hooks),
// kept apart from the Engine's own methods, which are the user API. Package
// watchdogtest builds on them.
type EngineHooks struct{ e *Engine }

// InFlight reports how many deliveries are being sent right now.
func (h EngineHooks) InFlight() int {
	n := 0
	for _, d := range h.e.loops() {
		n += int(d.busy.Load())
	}
	return n
}

// Idle reports whether every loop of the engine is asleep with no wake-up
// pending, no delivery in flight or being recorded, and nothing queued that
// could be sent (a paused destination's queue waits for the clock): nothing
// happens until the clock reaches the next timer. Tests that drive the engine with a fake clock
// wait for it before moving the clock.
func (h EngineHooks) Idle() bool {
	e := h.e
	if !e.eval.Idle() || !e.claims.loop.Idle() || !e.remindLoop.Idle() {
		return false
	}
	for _, d := range e.loops() {
		if !d.idle() {
			return false
		}
	}
	return true
}

// Wake makes the evaluation loop check for due tickets at once.
func (h EngineHooks) Wake() { h.e.eval.Wake() }

// EvaluateDue fires every stage due at now, as the scheduler's step does,
// and returns the alerts it recorded, for tools and tests that drive the
// engine step by step. When a claim comes back full, up to
// EvaluateConcurrency claims run at once until the due tickets are drained.
// With an error it returns the alerts recorded before it too: a store that
// records a claim in parts keeps the parts that committed.
func (h EngineHooks) EvaluateDue(ctx context.Context, now time.Time) ([]Alert, error) {
	return h.e.evaluateDue(ctx, now, true)
}
