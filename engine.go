package watchdog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog/internal/scheduler"
)

// Config configures an Engine. A nil *Config means all defaults.
type Config struct {
	// Policy is the SLA policy; nil means DefaultPolicy().
	Policy *Policy
	// Clock tells the time; nil means the system clock.
	Clock Clock
	// Notifiers receive every alert, each through its own outbox row, so
	// each is retried on its own. Names are stored with the rows: keep them
	// stable across restarts. Engine.SetNotifiersAndPolicy replaces the set
	// while the engine runs.
	Notifiers map[string]Notifier
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// Observer is told of what the engine does, for metrics; nil ignores.
	Observer Observer

	// SweepInterval is the safety-net pass of the loops: the longest they
	// sleep without a deadline or a wake-up. Default one minute.
	SweepInterval time.Duration
	// EvaluateBatch is how many due tickets one claim takes. Default 1000.
	EvaluateBatch int
	// EvaluateConcurrency is how many claims of due tickets one engine runs
	// at once when many are due. Stores that serialise writes (SQLite) gain
	// nothing from more than one; on Postgres, claims skip each other's
	// tickets and overlap their round trips and commits. Default 2.
	EvaluateConcurrency int
	// IngestWhileBehind is how many Ingest calls run at once while the
	// evaluation is behind: from a claim of due tickets that comes back
	// full and fires alerts on time (not backfilled) until the claims
	// drain. The others wait their turn in the process, so that the alerts
	// due now are recorded before a bulk import's next batches take the
	// machine; the import's full width returns with the drain. A backlog
	// of backfilled alerts only (an import of tickets already past their
	// deadlines) holds no import back. Zero means 1 on a store whose
	// ingest transactions run side by side (PostgreSQL: under an import
	// at half its ingest rate, the 1x burst's Slack p99 was 1,097 ms
	// with one call at a time against 1,515 ms with two, medians of five
	// alternated pairs, the import's rate within 2%; see BENCHMARKS.md),
	// and no limit on one that runs them one at a time (SerialIngest,
	// SQLite: its one writer takes an evaluation of alerts due on time
	// before the imports waiting, and holding them back measured no better
	// there). Negative means no limit.
	IngestWhileBehind int
	// ReplanBatch is how many open tickets one step of a policy change
	// recomputes. Default 1000.
	ReplanBatch int
	// DeliveryConcurrency is how many sends each notifier has in flight at
	// most; a send carries one delivery, or for a BatchNotifier up to its
	// MaxBatch of those queued. Default 16.
	DeliveryConcurrency int
	// DeliveryBatch is how many deliveries of one notifier its claim loop
	// claims and queues ahead at most, and how many attempts may be sent
	// and not yet recorded at once (what a crash can make another claimer
	// send again); outcomes are recorded in batches of up to half of it,
	// two at once. Default 256.
	DeliveryBatch int
	// DeliveryBacklog is how many deliveries of one notifier the engine
	// holds in memory at most before sending. Below it, each evaluation
	// claims the deliveries of the alerts it records in the same
	// transaction and queues them at once (the hand-off); at or above it,
	// they are left to the notifier's claim loop, which takes them as room
	// frees up. It is checked once per evaluation, so the backlog may
	// exceed it by one claim's alerts. A negative value turns the hand-off
	// off. Handed-off deliveries are claimed like the others: those still
	// queued when the process dies are sent by the next claimer once the
	// claim's heartbeat runs out (ClaimTTL). Default 16384: a burst beyond it
	// falls back to the claim loop, which claims DeliveryBatch at a time
	// ahead of the sends, and so delivers it a round trip later.
	DeliveryBacklog int
	// DeliveryTimeout bounds one delivery attempt. Default 30s.
	DeliveryTimeout time.Duration
	// ClaimTTL is how long the engine's claim on the deliveries it holds
	// outlives its last heartbeat: the engine renews it every third of
	// ClaimTTL, stops starting sends when it cannot, and another engine
	// sharing the store (or this one, restarted) takes over the deliveries
	// of a claimer whose heartbeat is older than ClaimTTL. So deliveries
	// queued by a process that died resume within ClaimTTL. Default 5s.
	ClaimTTL time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is
	// recorded as failed. Default 12 (about half an hour of backoff).
	MaxAttempts int
	// RetryPolicy spaces retries. Default ExponentialBackoff from 1s
	// doubling up to 5 minutes.
	RetryPolicy RetryPolicy
}

// WithDefaults returns a copy of c with every unset field defaulted, but
// IngestWhileBehind, whose default depends on the store (New picks it).
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Policy == nil {
		out.Policy = DefaultPolicy() // parsed only when needed
	}
	out.Clock = cmp.Or[Clock](out.Clock, SystemClock{})
	out.Logger = cmp.Or(out.Logger, slog.New(slog.DiscardHandler))
	out.Observer = cmp.Or[Observer](out.Observer, NopObserver{})
	out.SweepInterval = cmp.Or(out.SweepInterval, time.Minute)
	out.EvaluateBatch = cmp.Or(out.EvaluateBatch, 1000)
	out.EvaluateConcurrency = cmp.Or(out.EvaluateConcurrency, 2)
	out.ReplanBatch = cmp.Or(out.ReplanBatch, 1000)
	out.DeliveryConcurrency = cmp.Or(out.DeliveryConcurrency, 16)
	out.DeliveryBatch = cmp.Or(out.DeliveryBatch, 256)
	out.DeliveryBacklog = cmp.Or(out.DeliveryBacklog, 16384)
	out.DeliveryTimeout = cmp.Or(out.DeliveryTimeout, 30*time.Second)
	out.ClaimTTL = cmp.Or(out.ClaimTTL, 5*time.Second)
	out.MaxAttempts = cmp.Or(out.MaxAttempts, 12)
	out.RetryPolicy = cmp.Or[RetryPolicy](out.RetryPolicy, ExponentialBackoff{Base: time.Second, Max: 5 * time.Minute})
	return &out
}

func (c *Config) validate() error {
	switch {
	case c.SweepInterval < 0:
		return errors.New("watchdog: Config.SweepInterval must not be negative")
	case c.EvaluateBatch < 1:
		return errors.New("watchdog: Config.EvaluateBatch must be at least 1")
	case c.EvaluateConcurrency < 1:
		return errors.New("watchdog: Config.EvaluateConcurrency must be at least 1")
	case c.ReplanBatch < 1:
		return errors.New("watchdog: Config.ReplanBatch must be at least 1")
	case c.DeliveryConcurrency < 1:
		return errors.New("watchdog: Config.DeliveryConcurrency must be at least 1")
	case c.DeliveryBatch < 1:
		return errors.New("watchdog: Config.DeliveryBatch must be at least 1")
	case c.DeliveryTimeout < 0:
		return errors.New("watchdog: Config.DeliveryTimeout must not be negative")
	case c.ClaimTTL < 100*time.Millisecond:
		return errors.New("watchdog: Config.ClaimTTL must be at least 100ms")
	case c.MaxAttempts < 1:
		return errors.New("watchdog: Config.MaxAttempts must be at least 1")
	}
	return c.validateNotifiers()
}

// validateNotifiers checks the notifiers' names and values.
func (c *Config) validateNotifiers() error {
	for name, n := range c.Notifiers {
		if name == "" || len(name) > 64 {
			return fmt.Errorf("watchdog: Config.Notifiers: name %q must be 1 to 64 bytes", name)
		}
		if n == nil {
			return fmt.Errorf("watchdog: Config.Notifiers[%q] is nil", name)
		}
	}
	return nil
}

// Engine is the SLA engine: it ingests events into a Store, evaluates
// tickets' SLA clocks, fires each stage once at its due instant, and delivers
// alerts to notifiers through the store's outbox. It implements Watchdog.
type Engine struct {
	store  Store
	cfg    *Config
	clock  Clock
	log    *slog.Logger
	obs    Observer
	policy atomic.Pointer[Policy]

	// mu guards the notifier set, which SetNotifiersAndPolicy swaps: the
	// names (sorted), the notifiers by name, their delivery loops, the
	// loops of removed notifiers still finishing their sends, and Run's
	// state for starting the loops of added ones.
	mu        sync.RWMutex
	notifiers []string
	named     map[string]Notifier
	delivery  map[string]*deliveryLoop
	retiring  map[*deliveryLoop]bool
	run       *runState

	eval *scheduler.Loop
	// gate holds Ingest back while the evaluation is behind.
	gate *ingestGate
	// remindLoop sends ack_timeout reminders (see reminderStep).
	remindLoop *scheduler.Loop
	remind     reminders
	claims     *claimKeeper
	// plannedAt is the evaluation loop's next wake; nil when none or not
	// yet known. Not Unix nanoseconds: a ticket may be due after 2262,
	// beyond what they hold.
	plannedAt atomic.Pointer[time.Time]
	running   atomic.Bool
	// background counts the acknowledge and resolve events being told to
	// notifiers (AckNotifier, ResolveNotifier); Run waits for them.
	background sync.WaitGroup
}

var _ Watchdog = (*Engine)(nil)

// New returns an engine over store.
func New(store Store, cfg *Config) (*Engine, error) {
	if store == nil {
		return nil, errors.New("watchdog: New: store is nil")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{store: store, cfg: cfg, clock: cfg.Clock, log: cfg.Logger, obs: cfg.Observer,
		delivery: map[string]*deliveryLoop{}, retiring: map[*deliveryLoop]bool{}, named: maps.Clone(cfg.Notifiers)}
	if err := checkReceivers(cfg.Policy, e.named); err != nil {
		return nil, err
	}
	e.policy.Store(cfg.Policy)
	e.notifiers = slices.Sorted(maps.Keys(e.named))
	width := cfg.IngestWhileBehind
	if width == 0 {
		width = 1
		if _, ok := store.(SerialIngest); ok {
			width = -1
		}
	}
	e.gate = newIngestGate(width)
	e.eval = e.newLoop(e.evaluateStep, cfg.SweepInterval, 0, "evaluation of due tickets")
	e.remindLoop = e.newLoop(e.reminderStep, cfg.SweepInterval, 0, "acknowledgement reminders")
	for _, name := range e.notifiers {
		e.delivery[name] = e.newDeliveryLoop(name, e.named[name])
	}
	e.claims = newClaimKeeper(e)
	return e, nil
}

// stepTimeout bounds one step of the engine's loops, so that a store that
// hangs (a frozen database) holds none of them for long.
const stepTimeout = 30 * time.Second

// newLoop returns a scheduler loop running step, each run within
// stepTimeout, whose failures are logged as what fails (with attrs) per
// change of state, not per retried step: a database that is down for an
// hour makes a few lines, not thousands.
func (e *Engine) newLoop(step scheduler.StepFunc, interval, errorDelay time.Duration, what string, attrs ...any) *scheduler.Loop {
	fl := &failureLog{what: what, level: slog.LevelError}
	run := func(ctx context.Context, now time.Time) (time.Time, error) {
		sctx, cancel := context.WithTimeout(ctx, stepTimeout)
		next, err := step(sctx, now)
		cancel()
		if err == nil {
			fl.succeeded(e.log, e.clock.Now(), attrs...)
		}
		return next, err
	}
	return scheduler.NewLoop(e.clock, run, scheduler.LoopConfig{Interval: interval, ErrorDelay: errorDelay, OnError: func(err error) {
		fl.failed(e.log, e.clock.Now(), err.Error(), attrs)
	}})
}

// holding reports whether the engine holds claimed deliveries: queued,
// being sent, or with outcomes not yet recorded.
func (e *Engine) holding() bool {
	if e.claims.orphaned() {
		return true
	}
	for _, d := range e.loops() {
		if d.pending.Load() > 0 {
			return true
		}
	}
	return false
}

// claimBackstop is how far ahead a claim moves a delivery's NextAttemptAt.
// The claim's heartbeat is what keeps the delivery from other claimers; the
// backstop only bounds how long a claim is trusted should the rescue of
// dead claimers never run, and a queued delivery is handed back rather than
// sent when an attempt could outlast it.
func (e *Engine) claimBackstop() time.Duration {
	return max(time.Hour, 4*e.cfg.DeliveryTimeout)
}

// Policy returns the policy in force.
func (e *Engine) Policy() *Policy { return e.policy.Load() }

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// SetPolicyAndReplan puts a new policy in force and recomputes the due instants of
// every open ticket; alerts already fired stay fired. Stages the new policy
// makes due at once fire on the scheduler's next pass, which it wakes.
// Deliveries not yet attempted follow the new notification routes (see
// Reroute).
func (e *Engine) SetPolicyAndReplan(ctx context.Context, p *Policy) error {
	if err := e.SetPolicy(p); err != nil {
		return err
	}
	if err := e.Replan(ctx); err != nil {
		return err
	}
	return e.Reroute(ctx)
}

// SetPolicy puts a policy in force for every evaluation from now on without
// recomputing stored tickets; Replan does that. A server starting up uses
// it to serve at once and replan in the background.
func (e *Engine) SetPolicy(p *Policy) error {
	if p == nil {
		return errors.New("watchdog: policy is nil")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := checkReceivers(p, e.named); err != nil {
		return err
	}
	e.policy.Store(p)
	return nil
}

// checkReceivers refuses a policy whose notifications section names a
// receiver without a notifier in ns: its deliveries would wait for ever.
func checkReceivers(p *Policy, ns map[string]Notifier) error {
	for _, name := range p.Notifications.ReceiverNames() {
		if _, ok := ns[name]; !ok {
			return fmt.Errorf("watchdog: notifications receiver %q has no notifier in Config.Notifiers", name)
		}
	}
	return nil
}

// Replan recomputes the due instants and states of every open ticket under
// the policy in force, in batches of ReplanBatch, then wakes the scheduler.
func (e *Engine) Replan(ctx context.Context) error {
	p := e.policy.Load()
	var after string
	total := 0
	for {
		if e.policy.Load() != p {
			// A newer policy's own replan takes over.
			return nil
		}
		now := e.clock.Now()
		var planned plannedSet
		last, n, err := e.store.Replan(ctx, after, e.cfg.ReplanBatch, planned.wrap(e.planFunc(p, now, false)))
		if err == nil {
			planned.report(e.obs)
		}
		if err != nil {
			return fmt.Errorf("watchdog: recompute open tickets after policy change: %w", err)
		}
		total += n
		if n < e.cfg.ReplanBatch {
			break
		}
		after = last
	}
	e.log.Info("policy applied", "open_tickets_recomputed", total)
	e.plannedAt.Store(nil)
	e.eval.Wake()
	return nil
}

// planFunc returns the PlanFunc for policy p at now. With fire set it
// records the due alerts; otherwise it leaves them to the scheduler and
// makes the ticket due at once.
func (e *Engine) planFunc(p *Policy, now time.Time, fire bool) PlanFunc {
	return e.firePlanFunc(p, now, fire, handoffClaim{})
}

// handoffClaim is how an evaluation claims the deliveries of the alerts it
// records for the notifiers that take them at once (see Plan.Claimed).
type handoffClaim struct {
	notifiers []string
	holder    string
	until     time.Time
}

// firePlanFunc is planFunc that also claims the deliveries of the alerts it
// records as claim says.
func (e *Engine) firePlanFunc(p *Policy, now time.Time, fire bool, claim handoffClaim) PlanFunc {
	return func(t *Ticket) Plan {
		ev, outcomes := EvaluateOutcomes(t, p, now)
		pl := Plan{State: ev.State, Untracked: ev.Untracked, Open: ev.Open, Policy: ev.Policy, NextDueAt: ev.NextDueAt,
			BreachAt: ev.BreachAt, BackfilledAt: t.BackfilledAt, Outcomes: outcomes}
		switch {
		case fire:
			pl.Alerts = ev.Due
			for i, a := range ev.Due {
				if ack := t.ackFor(a.SLAClock, a.Key().Cycle, now); ack != nil {
					ev.Due[i].AcknowledgedBy = ack.By
				}
			}
			if n := p.Notifications; n != nil {
				pl.Routed, pl.Supersede = routeAlerts(n, t, ev.Due, now)
			} else {
				pl.Notifiers = e.notifierNames()
			}
			if len(claim.notifiers) > 0 {
				pl.Claimed, pl.ClaimedBy, pl.ClaimedUntil = claim.notifiers, claim.holder, claim.until
			}
		case len(ev.Due) > 0:
			// Stages due now that were not due before this commit (the
			// ticket was not already waiting for the scheduler) are due
			// because of it: imported late, or a target shortened into
			// the past. They count as backfilled when they fire.
			if t.NextDueAt == nil || t.NextDueAt.After(now) {
				pl.BackfilledAt = timePtr(now)
			}
			if pl.NextDueAt == nil || ev.Due[0].DueAt.Before(*pl.NextDueAt) {
				pl.NextDueAt = timePtr(ev.Due[0].DueAt)
			}
		}
		return pl
	}
}

// Ingest validates the whole batch and records it; see Watchdog.
func (e *Engine) Ingest(ctx context.Context, events []Event) ([]*Ticket, error) {
	if err := ValidateBatch(events); err != nil {
		return nil, err
	}
	waitFrom := e.clock.Now()
	leave, held, err := e.gate.enter(ctx)
	if held {
		if o, ok := e.obs.(IngestHeldObserver); ok {
			o.IngestHeld(e.clock.Now().Sub(waitFrom))
		}
	}
	if err != nil {
		return nil, err
	}
	defer leave()
	var (
		changed plannedSet
		closed  closedTickets
	)
	plan := e.planFunc(e.policy.Load(), e.clock.Now(), false)
	if _, ok := e.store.(SerialIngest); ok {
		plan = planNew(events, plan).wrap(plan)
	}
	plan = closed.wrap(changed.wrap(plan))
	tickets, err := e.store.Ingest(ctx, events, plan)
	if err != nil {
		return nil, err
	}
	e.tellResolved(closed.cycles())
	e.obs.EventsIngested(len(events), changed.len())
	changed.report(e.obs)
	planned := e.plannedAt.Load()
	for _, t := range tickets {
		if t.NextDueAt != nil && (planned == nil || t.NextDueAt.Before(*planned)) {
			e.eval.Wake()
			break
		}
	}
	return tickets, nil
}

// Ticket returns a ticket with its SLA clocks evaluated now.
func (e *Engine) Ticket(ctx context.Context, id string) (*TicketView, error) {
	if msg := textProblem(id); msg != "" {
		// No stored id is such text; and PostgreSQL would refuse the query.
		return nil, &ValidationError{Errors: []FieldError{{Field: "id", Message: msg}}}
	}
	t, err := e.store.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	ev := Evaluate(t, e.policy.Load(), now)
	t.State, t.Untracked, t.Open, t.Policy = ev.State, ev.Untracked, ev.Open, ev.Policy
	return &TicketView{Ticket: t, SLAClocks: ev.SLAClocks, EvaluatedAt: now}, nil
}

// Dashboard lists tickets; see Watchdog.
func (e *Engine) Dashboard(ctx context.Context, q DashboardQuery) (*DashboardPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	ts, total, err := e.store.Dashboard(ctx, q)
	if err != nil {
		return nil, err
	}
	page := &DashboardPage{Tickets: ts, Total: total}
	if q.CountLimit > 0 && total > q.CountLimit {
		page.Total, page.TotalCapped = q.CountLimit, true
	}
	if q.Clocks {
		p, now := e.policy.Load(), e.clock.Now()
		page.EvaluatedAt = now
		page.Views = make([]*TicketView, len(ts))
		for i, t := range ts {
			ev := Evaluate(t, p, now)
			t.State, t.Untracked, t.Open, t.Policy = ev.State, ev.Untracked, ev.Open, ev.Policy
			page.Views[i] = &TicketView{Ticket: t, SLAClocks: ev.SLAClocks, EvaluatedAt: now}
		}
	}
	return page, nil
}

// Alerts lists recorded alerts, newest first; see AlertsQuery.
func (e *Engine) Alerts(ctx context.Context, q AlertsQuery) ([]Alert, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return e.store.Alerts(ctx, q)
}

// Subscribe streams alerts recorded from now on by any engine on the store.
func (e *Engine) Subscribe(ctx context.Context) (<-chan Alert, error) {
	return e.store.SubscribeAlerts(ctx)
}

// Run runs the evaluation loop and one delivery loop per notifier until ctx
// is done, then waits for deliveries in flight to finish.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("watchdog: Engine.Run called twice")
	}
	defer e.running.Store(false)
	var claims, wg, deliveries sync.WaitGroup
	claims.Add(1)
	go func() {
		defer claims.Done()
		_ = e.claims.loop.Run(ctx)
	}()
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = e.eval.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		_ = e.remindLoop.Run(ctx)
	}()
	e.mu.Lock()
	e.run = &runState{ctx: ctx, wg: &deliveries}
	for _, d := range e.delivery {
		e.startLoop(d)
	}
	e.mu.Unlock()
	wg.Wait()
	// No loop starts from now on (SetNotifiersAndPolicy sees no run).
	e.mu.Lock()
	e.run = nil
	e.mu.Unlock()
	deliveries.Wait()
	claims.Wait()
	// Acknowledge and resolve events to notifiers that track incidents
	// end within DeliveryTimeout, like the sends in flight.
	e.background.Wait()
	// Every delivery this engine held has been handed back or recorded (or
	// its outcome could not be, and another claimer takes it over): end the
	// heartbeat so that nothing waits for it to run out.
	e.claims.release(ctx)
	return ctx.Err()
}

// evaluateBatch runs one claim of due tickets; full reports that it took as
// many as it could, so more may be due, and onTime that it fired an alert
// that is not backfilled (its stage came due after its ticket was written,
// so it is late by the engine's delay, not by the data's age). With an
// error, alerts are those recorded before it (see DuePreplanner).
func (e *Engine) evaluateBatch(ctx context.Context, p *Policy, now time.Time) (alerts []Alert, full, onTime bool, err error) {
	start := e.clock.Now()
	// Notifiers with room take the deliveries of this claim's alerts
	// straight from the transaction that records them.
	var claim handoffClaim
	for _, d := range e.activeLoops() {
		if d.acceptsHandoff() {
			claim.notifiers = append(claim.notifiers, d.name)
		}
	}
	if len(claim.notifiers) > 0 {
		var ok bool
		if claim.holder, ok = e.claims.ensure(ctx, start); !ok {
			claim.notifiers = nil // no claims until the heartbeat is renewed
		}
		claim.until = start.Add(e.claimBackstop())
	}
	var visited plannedSet
	plan := e.firePlanFunc(p, now, true, claim)
	if dp, ok := e.store.(DuePreplanner); ok {
		var pre duePlans
		alerts, err = dp.EvaluateDuePreplanned(ctx, now, e.cfg.EvaluateBatch, pre.record(plan), visited.wrap(pre.answer(plan)))
	} else {
		alerts, err = e.store.EvaluateDue(ctx, now, e.cfg.EvaluateBatch, visited.wrap(plan))
	}
	if err != nil && len(alerts) == 0 {
		return nil, false, false, err
	}
	// With an error, alerts are those a DuePreplanner recording in parts
	// committed before a later part failed: recorded like any others, so
	// their deliveries are this engine's to send, they are counted and
	// logged, and the caller gets them with the error.
	leftover := e.handOff(ctx, alerts, claim)
	committed := e.clock.Now()
	n := visited.len()
	if err == nil {
		e.obs.Evaluated(n, len(alerts), committed.Sub(start))
		visited.report(e.obs)
	}
	for _, a := range alerts {
		late, backfilled := committed.Sub(a.DueAt), visited.backfilled(a)
		onTime = onTime || !backfilled
		e.obs.AlertFired(a, late, backfilled)
		e.log.Info("alert fired", "ticket_id", a.TicketID, "sla_type", a.SLAClock, "stage", a.Stage,
			"escalation_level", a.EscalationLevel, "due_at", a.DueAt, "lateness_ms", late.Milliseconds(), "backfilled", backfilled)
	}
	e.wakeClaimLoops(leftover)
	if err != nil {
		return alerts, false, onTime, err
	}
	return alerts, n >= e.cfg.EvaluateBatch, onTime, nil
}

// wakeClaimLoops wakes the claim loops of the notifiers named, which have
// deliveries the hand-off left to them.
func (e *Engine) wakeClaimLoops(names map[string]bool) {
	for name := range names {
		if d := e.activeLoop(name); d != nil {
			d.loop.Wake()
		}
	}
}

// handOff queues the deliveries claimed with alerts (Attempts 1) on their
// notifiers' delivery loops, and returns the notifiers that have unclaimed
// deliveries among them, for their claim loops. A loop that has stopped
// (or been removed) meanwhile gets its deliveries released at once rather
// than left leased.
func (e *Engine) handOff(ctx context.Context, alerts []Alert, claim handoffClaim) (leftover map[string]bool) {
	var (
		byName map[string][]claimedDelivery
		// The deliveries' alerts, without their deliveries: one array for
		// all of them, never grown, as the deliveries point into it.
		copies []Alert
	)
	for i := range alerts {
		if len(alerts[i].Deliveries) == 0 {
			continue
		}
		if copies == nil {
			copies = make([]Alert, 0, len(alerts)-i)
		}
		copies = append(copies, alerts[i])
		a := &copies[len(copies)-1]
		a.Deliveries = nil
		for _, del := range alerts[i].Deliveries {
			if del.Attempts != 1 || e.activeLoop(del.Notifier) == nil {
				if leftover == nil {
					leftover = map[string]bool{}
				}
				leftover[del.Notifier] = true
				continue
			}
			del.Alert = a
			if byName == nil {
				byName = map[string][]claimedDelivery{}
			}
			cs := byName[del.Notifier]
			if cs == nil {
				// Most alerts go to every notifier: room for the rest of
				// them at once, not a slice grown by copying.
				cs = make([]claimedDelivery, 0, len(alerts)-i)
			}
			byName[del.Notifier] = append(cs, claimedDelivery{Delivery: del, holder: claim.holder, claimedUntil: claim.until})
		}
	}
	for name, cs := range byName {
		if d := e.activeLoop(name); d != nil && d.enqueue(cs) {
			continue
		}
		// Its loop stopped, or its notifier was removed, meanwhile.
		if err := e.release(ctx, cs); err != nil {
			e.log.Error("releasing handed-off deliveries failed; the claim keeper retries",
				"notifier", name, "deliveries", len(cs), "err", err)
		}
	}
	return leftover
}

// heldRetry is how long the evaluation loop waits before looking again at
// due tickets another transaction holds.
const heldRetry = 50 * time.Millisecond

func (e *Engine) evaluateStep(ctx context.Context, now time.Time) (time.Time, error) {
	if _, err := e.evaluateDue(ctx, now, false); err != nil {
		return time.Time{}, err
	}
	// Ingest wakes the loop for a ticket due before plannedAt. One that
	// commits after NextDue has read, yet compares with the previous
	// (already passed) plannedAt before this step stores the new one, would
	// neither be seen by NextDue nor wake the loop, which would then sleep
	// past its due instant. "Unknown" until the new instant is stored makes
	// such an ingest wake the loop.
	e.plannedAt.Store(nil)
	next, ok, err := e.store.NextDue(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, nil
	}
	if !next.After(now) {
		// Due at the instant this pass evaluated, yet not taken: another
		// transaction holds those tickets (another evaluator, or this
		// engine's re-plan or ingest). Look again shortly rather than spin;
		// the wait is in real time, as the holder's commit is: on a fake
		// clock a wait on the engine's clock would last until a test moved
		// it, with the loop asleep as if nothing were due. (Due after now
		// but before the current time just means the clock moved during
		// the pass; the loop runs again at once.)
		t := time.NewTimer(heldRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, ctx.Err()
		case <-t.C:
		}
		next = e.clock.Now()
	}
	e.plannedAt.Store(&next)
	return next, nil
}

// evaluateDue fires every stage due at now and, with collect set, returns
// the alerts it recorded. When a claim comes back full, up to
// EvaluateConcurrency claims run at once until the due tickets are
// drained; while they fire alerts that are not backfilled, Ingest is held
// to IngestWhileBehind calls (a backlog of backfilled alerts, a large
// import's, holds no import back: no alert of it can be on time). The
// scheduler's step does not collect them: a large import of tickets
// already due keeps claims full for as long as it lasts, and the alerts of
// a 100k-ticket catch-up held 650 MB until the last claim.
func (e *Engine) evaluateDue(ctx context.Context, now time.Time, collect bool) ([]Alert, error) {
	p := e.policy.Load()
	all, full, onTime, err := e.evaluateBatch(ctx, p, now)
	if !collect {
		all = nil
	}
	if err != nil || !full {
		return all, err
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		drained  func() // set once a claim fires an alert on time
	)
	behind := func(onTime bool) {
		if onTime && drained == nil {
			drained = e.gate.draining()
		}
	}
	behind(onTime)
	defer func() {
		if drained != nil {
			drained()
		}
	}()
	for range e.cfg.EvaluateConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				alerts, full, onTime, err := e.evaluateBatch(ctx, p, e.clock.Now())
				mu.Lock()
				if collect {
					all = append(all, alerts...)
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				stop := firstErr != nil
				if full && !stop {
					behind(onTime)
				}
				mu.Unlock()
				if stop || !full {
					return
				}
			}
		}()
	}
	wg.Wait()
	return all, firstErr
}
