package watchdog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog/scheduler"
)

// Config configures an Engine. A nil *Config means all defaults.
type Config struct {
	// Policy is the SLA policy; nil means DefaultPolicy().
	Policy *Policy
	// Clock tells the time; nil means the system clock.
	Clock Clock
	// Notifiers receive every alert, each through its own outbox row, so
	// each is retried on its own. Names are stored with the rows: keep them
	// stable across restarts.
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
	// send again); outcomes are recorded in batches as large. Default 256.
	DeliveryBatch int
	// DeliveryBacklog is how many deliveries of one notifier the engine
	// holds in memory at most before sending. Below it, each evaluation
	// claims the deliveries of the alerts it records in the same
	// transaction and queues them at once (the hand-off); at or above it,
	// they are left to the notifier's claim loop, which takes them as room
	// frees up. It is checked once per evaluation, so the backlog may
	// exceed it by one claim's alerts. A negative value turns the hand-off
	// off. Handed-off deliveries are leased like claimed ones: those still
	// queued when the process dies are sent by the next claimer once their
	// lease ends. Default 16384: a burst beyond it falls back to the claim
	// loop, which takes at most DeliveryBatch per round trip of claiming,
	// sending and recording, and so delivers it later.
	DeliveryBacklog int
	// DeliveryTimeout bounds one delivery attempt. Default 30s.
	DeliveryTimeout time.Duration
	// DeliveryLease is how long a claimed delivery stays hidden from other
	// claimers; it must exceed DeliveryTimeout. Default 2×DeliveryTimeout.
	DeliveryLease time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is
	// recorded as failed. Default 12 (about half an hour of backoff).
	MaxAttempts int
	// RetryBackoff spaces retries. Default 1s doubling up to 5 minutes.
	RetryBackoff scheduler.Backoff
}

// WithDefaults returns a copy of c with every unset field defaulted.
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Policy == nil {
		out.Policy = DefaultPolicy()
	}
	if out.Clock == nil {
		out.Clock = SystemClock{}
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.Observer == nil {
		out.Observer = NopObserver{}
	}
	if out.SweepInterval == 0 {
		out.SweepInterval = time.Minute
	}
	if out.EvaluateBatch == 0 {
		out.EvaluateBatch = 1000
	}
	if out.EvaluateConcurrency == 0 {
		out.EvaluateConcurrency = 2
	}
	if out.ReplanBatch == 0 {
		out.ReplanBatch = 1000
	}
	if out.DeliveryConcurrency == 0 {
		out.DeliveryConcurrency = 16
	}
	if out.DeliveryBatch == 0 {
		out.DeliveryBatch = 256
	}
	if out.DeliveryBacklog == 0 {
		out.DeliveryBacklog = 16384
	}
	if out.DeliveryTimeout == 0 {
		out.DeliveryTimeout = 30 * time.Second
	}
	if out.DeliveryLease == 0 {
		out.DeliveryLease = 2 * out.DeliveryTimeout
	}
	if out.MaxAttempts == 0 {
		out.MaxAttempts = 12
	}
	if out.RetryBackoff.Base == 0 {
		out.RetryBackoff.Base = time.Second
	}
	if out.RetryBackoff.Max == 0 {
		out.RetryBackoff.Max = 5 * time.Minute
	}
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
	case c.DeliveryLease <= c.DeliveryTimeout:
		return errors.New("watchdog: Config.DeliveryLease must exceed Config.DeliveryTimeout")
	case c.MaxAttempts < 1:
		return errors.New("watchdog: Config.MaxAttempts must be at least 1")
	}
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

// Observer is told what the engine does, for metrics. Implementations must
// be fast and safe for concurrent use; embed NopObserver to implement part.
type Observer interface {
	// EventsIngested reports a committed batch: events received and
	// tickets changed.
	EventsIngested(events, changed int)
	// AlertFired reports a recorded alert and how long after its due
	// instant it was recorded.
	AlertFired(a Alert, lateness time.Duration)
	// DeliveryFinished reports one delivery attempt's outcome.
	DeliveryFinished(notifier string, status DeliveryStatus, took time.Duration)
	// Evaluated reports one scheduler pass: tickets evaluated, alerts
	// recorded and the time it took.
	Evaluated(tickets, alerts int, took time.Duration)
}

// NopObserver ignores everything.
type NopObserver struct{}

// EventsIngested does nothing.
func (NopObserver) EventsIngested(int, int) {}

// AlertFired does nothing.
func (NopObserver) AlertFired(Alert, time.Duration) {}

// DeliveryFinished does nothing.
func (NopObserver) DeliveryFinished(string, DeliveryStatus, time.Duration) {}

// Evaluated does nothing.
func (NopObserver) Evaluated(int, int, time.Duration) {}

// Engine is the SLA engine: it ingests events into a Store, evaluates
// tickets' clocks, fires each stage once at its due instant, and delivers
// alerts to notifiers through the store's outbox. It implements Watchdog.
type Engine struct {
	store     Store
	cfg       *Config
	clock     Clock
	log       *slog.Logger
	obs       Observer
	policy    atomic.Pointer[Policy]
	notifiers []string

	eval      *scheduler.Loop
	delivery  map[string]*deliveryLoop
	plannedAt atomic.Int64 // unix nanos of the evaluation loop's next wake; 0 = none or not yet known
	running   atomic.Bool
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
	e := &Engine{store: store, cfg: cfg, clock: cfg.Clock, log: cfg.Logger, obs: cfg.Observer, delivery: map[string]*deliveryLoop{}}
	e.policy.Store(cfg.Policy)
	for name := range cfg.Notifiers {
		e.notifiers = append(e.notifiers, name)
	}
	sort.Strings(e.notifiers)
	loopCfg := scheduler.LoopConfig{Interval: cfg.SweepInterval, OnError: func(err error) {
		e.log.Error("evaluation failed", "err", err)
	}}
	e.eval = scheduler.NewLoop(e.clock, e.evaluateStep, loopCfg)
	for _, name := range e.notifiers {
		d := &deliveryLoop{e: e, name: name, n: cfg.Notifiers[name], group: 1}
		if bn, ok := d.n.(BatchNotifier); ok && bn.MaxBatch() > 1 {
			d.group = min(bn.MaxBatch(), cfg.DeliveryBatch)
		}
		d.loop = scheduler.NewLoop(e.clock, d.step, scheduler.LoopConfig{Interval: cfg.SweepInterval, OnError: func(err error) {
			e.log.Error("delivery claim failed", "notifier", name, "err", err)
		}})
		e.delivery[name] = d
	}
	return e, nil
}

// Policy returns the policy in force.
func (e *Engine) Policy() *Policy { return e.policy.Load() }

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// SetPolicy puts a new policy in force and recomputes the due instants of
// every open ticket; alerts already fired stay fired. Stages the new policy
// makes due at once fire on the scheduler's next pass, which it wakes.
func (e *Engine) SetPolicy(ctx context.Context, p *Policy) error {
	if err := e.PutPolicy(p); err != nil {
		return err
	}
	return e.Replan(ctx)
}

// PutPolicy puts a policy in force for every evaluation from now on without
// recomputing stored tickets; Replan does that. A server starting up uses
// it to serve at once and replan in the background.
func (e *Engine) PutPolicy(p *Policy) error {
	if p == nil {
		return errors.New("watchdog: policy is nil")
	}
	e.policy.Store(p)
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
		last, n, err := e.store.Replan(ctx, after, e.cfg.ReplanBatch, e.planFunc(p, now, false))
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
	e.plannedAt.Store(0)
	e.eval.Wake()
	return nil
}

// planFunc returns the PlanFunc for policy p at now. With fire set it
// records the due alerts; otherwise it leaves them to the scheduler and
// makes the ticket due at once.
func (e *Engine) planFunc(p *Policy, now time.Time, fire bool) PlanFunc {
	return e.firePlanFunc(p, now, fire, nil, time.Time{})
}

// firePlanFunc is planFunc that also claims the deliveries to the notifiers
// named in claim until claimUntil (see Plan.Claimed).
func (e *Engine) firePlanFunc(p *Policy, now time.Time, fire bool, claim []string, claimUntil time.Time) PlanFunc {
	return func(t *Ticket) Plan {
		ev := Evaluate(t, p, now)
		pl := Plan{State: ev.State, Untracked: ev.Untracked, Open: ev.Open, NextDueAt: ev.NextDueAt, BreachAt: ev.BreachAt}
		switch {
		case fire:
			pl.Alerts = ev.Due
			pl.Notifiers = e.notifiers
			pl.Claimed, pl.ClaimedUntil = claim, claimUntil
		case len(ev.Due) > 0:
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
	var changed plannedSet
	plan := changed.wrap(e.planFunc(e.policy.Load(), e.clock.Now(), false))
	tickets, err := e.store.Ingest(ctx, events, plan)
	if err != nil {
		return nil, err
	}
	e.obs.EventsIngested(len(events), changed.len())
	planned := e.plannedAt.Load()
	for _, t := range tickets {
		if t.NextDueAt != nil && (planned == 0 || t.NextDueAt.UnixNano() < planned) {
			e.eval.Wake()
			break
		}
	}
	return tickets, nil
}

// Ticket returns a ticket with its clocks evaluated now.
func (e *Engine) Ticket(ctx context.Context, id string) (*TicketView, error) {
	t, err := e.store.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	ev := Evaluate(t, e.policy.Load(), now)
	t.State, t.Untracked, t.Open = ev.State, ev.Untracked, ev.Open
	return &TicketView{Ticket: t, Clocks: ev.Clocks, EvaluatedAt: now}, nil
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
	return &DashboardPage{Tickets: ts, Total: total}, nil
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
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = e.eval.Run(ctx)
	}()
	for _, d := range e.delivery {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.run(ctx)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// InFlight reports how many deliveries are being sent right now, for
// metrics and for tests that wait for the engine to settle.
func (e *Engine) InFlight() int {
	n := 0
	for _, d := range e.delivery {
		n += int(d.busy.Load())
	}
	return n
}

// Idle reports whether every loop of the engine is asleep with no wake-up
// pending and no delivery in flight: nothing happens until the clock
// reaches the next timer. Tests that drive the engine with a fake clock
// wait for it before moving the clock.
func (e *Engine) Idle() bool {
	if !e.eval.Idle() {
		return false
	}
	for _, d := range e.delivery {
		if d.pending.Load() > 0 || !d.loop.Idle() {
			return false
		}
	}
	return true
}

// Wake makes the evaluation loop check for due tickets at once.
func (e *Engine) Wake() { e.eval.Wake() }

// EvaluateDue fires every stage due at now, as the scheduler does, and
// returns the alerts it recorded. Run calls it; it is exported for tools
// and tests that drive the engine step by step. When a claim comes back
// full, up to EvaluateConcurrency claims run at once until the due tickets
// are drained.
func (e *Engine) EvaluateDue(ctx context.Context, now time.Time) ([]Alert, error) {
	p := e.policy.Load()
	all, full, err := e.evaluateBatch(ctx, p, now)
	if err != nil || !full {
		return all, err
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range e.cfg.EvaluateConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				alerts, full, err := e.evaluateBatch(ctx, p, e.clock.Now())
				mu.Lock()
				all = append(all, alerts...)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				stop := firstErr != nil
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

// evaluateBatch runs one claim of due tickets; full reports that it took as
// many as it could, so more may be due.
func (e *Engine) evaluateBatch(ctx context.Context, p *Policy, now time.Time) (alerts []Alert, full bool, err error) {
	start := e.clock.Now()
	// Notifiers with room take the deliveries of this claim's alerts
	// straight from the transaction that records them.
	var handoff []string
	for _, name := range e.notifiers {
		if e.delivery[name].acceptsHandoff() {
			handoff = append(handoff, name)
		}
	}
	var visited plannedSet
	plan := e.firePlanFunc(p, now, true, handoff, start.Add(e.cfg.DeliveryLease))
	alerts, err = e.store.EvaluateDue(ctx, now, e.cfg.EvaluateBatch, visited.wrap(plan))
	if err != nil {
		return nil, false, err
	}
	leftover := e.handOff(ctx, alerts, start)
	committed := e.clock.Now()
	n := visited.len()
	e.obs.Evaluated(n, len(alerts), committed.Sub(start))
	for _, a := range alerts {
		late := committed.Sub(a.DueAt)
		e.obs.AlertFired(a, late)
		e.log.Info("alert fired", "ticket_id", a.TicketID, "sla_type", a.Clock, "stage", a.Stage,
			"escalation_level", a.EscalationLevel, "due_at", a.DueAt, "lateness_ms", late.Milliseconds())
	}
	for name := range leftover {
		e.delivery[name].loop.Wake()
	}
	return alerts, n >= e.cfg.EvaluateBatch, nil
}

// handOff queues the deliveries claimed with alerts (Attempts 1) on their
// notifiers' delivery loops, and returns the notifiers that have unclaimed
// deliveries among them, for their claim loops. A loop that has stopped
// meanwhile gets its deliveries released at once rather than left leased.
func (e *Engine) handOff(ctx context.Context, alerts []Alert, claimedAt time.Time) (leftover map[string]bool) {
	var byName map[string][]claimedDelivery
	for i := range alerts {
		if len(alerts[i].Deliveries) == 0 {
			continue
		}
		a := alerts[i]
		a.Deliveries = nil
		for _, del := range alerts[i].Deliveries {
			if del.Attempts != 1 || e.delivery[del.Notifier] == nil {
				if leftover == nil {
					leftover = map[string]bool{}
				}
				leftover[del.Notifier] = true
				continue
			}
			del.Alert = &a
			if byName == nil {
				byName = map[string][]claimedDelivery{}
			}
			byName[del.Notifier] = append(byName[del.Notifier], claimedDelivery{Delivery: del, claimedAt: claimedAt})
		}
	}
	for name, cs := range byName {
		d := e.delivery[name]
		if d.enqueue(cs) {
			continue
		}
		if err := d.release(ctx, cs); err != nil {
			e.log.Error("releasing handed-off deliveries failed; they will be claimed after their lease",
				"notifier", name, "deliveries", len(cs), "err", err)
		}
	}
	return leftover
}

func (e *Engine) evaluateStep(ctx context.Context, now time.Time) (time.Time, error) {
	if _, err := e.EvaluateDue(ctx, now); err != nil {
		return time.Time{}, err
	}
	// Ingest wakes the loop for a ticket due before plannedAt. One that
	// commits after NextDue has read, yet compares with the previous
	// (already passed) plannedAt before this step stores the new one, would
	// neither be seen by NextDue nor wake the loop, which would then sleep
	// past its due instant. "Unknown" until the new instant is stored makes
	// such an ingest wake the loop.
	e.plannedAt.Store(0)
	next, ok, err := e.store.NextDue(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, nil
	}
	if !next.After(now) {
		// Due at the instant this pass evaluated, yet not taken: another
		// evaluator holds those tickets. Look again shortly rather than
		// spin. (Due after now but before the current time just means the
		// clock moved during the pass; the loop runs again at once.)
		next = e.clock.Now().Add(50 * time.Millisecond)
	}
	e.plannedAt.Store(next.UnixNano())
	return next, nil
}

// plannedSet counts the distinct tickets a store planned in one call. A
// store may call the PlanFunc again for the same ticket when it retries its
// transaction (the Postgres store does after a deadlock), so counting calls
// would overcount.
type plannedSet struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

func (s *plannedSet) wrap(plan PlanFunc) PlanFunc {
	return func(t *Ticket) Plan {
		s.mu.Lock()
		if s.ids == nil {
			s.ids = make(map[string]struct{})
		}
		s.ids[t.ID] = struct{}{}
		s.mu.Unlock()
		return plan(t)
	}
}

func (s *plannedSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// deliveryLoop delivers one notifier's alerts: its loop claims pending
// deliveries in batches into a queue, workers send them, and a finisher
// records the outcomes in batches, so that the store sees a few
// transactions per batch rather than two per delivery.
type deliveryLoop struct {
	e    *Engine
	name string
	n    Notifier
	loop *scheduler.Loop

	queue    deliveryQueue
	outcomes chan DeliveryOutcome
	// unrecorded counts attempts started and not yet recorded by the
	// finisher: at most DeliveryBatch, which bounds what a crash can make
	// the next claimer send again.
	unrecorded tokenPool
	// group is the most deliveries one send takes: MaxBatch for a
	// BatchNotifier (within DeliveryBatch), else 1.
	group int
	// pending counts deliveries claimed and not yet settled (queued, being
	// sent, or waiting for their outcome to be recorded).
	pending  atomic.Int64
	busy     atomic.Int64
	stopping atomic.Bool
}

type claimedDelivery struct {
	Delivery
	claimedAt time.Time
}

// run runs the claim loop, the workers and the finisher until ctx is done;
// then it lets sends in progress finish, releases what is still queued and
// records every outcome before returning.
func (d *deliveryLoop) run(ctx context.Context) {
	cfg := d.e.cfg
	d.outcomes = make(chan DeliveryOutcome, cfg.DeliveryBatch)
	d.unrecorded.init(cfg.DeliveryBatch)
	d.stopping.Store(false)
	d.queue.open()
	var workers, finisher sync.WaitGroup
	for range cfg.DeliveryConcurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				cs, ok := d.queue.pop(d.group)
				if !ok {
					return
				}
				d.unrecorded.acquire(len(cs)) // released by the finisher
				for _, o := range d.send(ctx, cs) {
					d.outcomes <- o
				}
			}
		}()
	}
	finisher.Add(1)
	go func() {
		defer finisher.Done()
		d.finish()
	}()
	_ = d.loop.Run(ctx)
	d.stopping.Store(true)
	d.queue.close()
	workers.Wait()
	close(d.outcomes)
	finisher.Wait()
}

func (d *deliveryLoop) step(ctx context.Context, now time.Time) (time.Time, error) {
	cfg := d.e.cfg
	free := cfg.DeliveryBatch - int(d.pending.Load())
	if free < cfg.DeliveryBatch/4 && d.pending.Load() > 0 {
		return time.Time{}, nil // the finisher wakes the loop as room frees up
	}
	ds, err := d.e.store.ClaimDeliveries(ctx, d.name, now, free, cfg.DeliveryLease)
	if err != nil {
		return time.Time{}, err
	}
	cs := make([]claimedDelivery, len(ds))
	for i, del := range ds {
		cs[i] = claimedDelivery{Delivery: del, claimedAt: now}
	}
	if !d.enqueue(cs) {
		// Stopping: nothing sends them now; hand them back.
		return time.Time{}, d.release(ctx, cs)
	}
	if len(ds) == free {
		return time.Time{}, nil // full: woken when room frees up
	}
	next, ok, err := d.e.store.NextDelivery(ctx, d.name)
	if err != nil || !ok {
		return time.Time{}, err
	}
	return next, nil
}

// release hands claimed deliveries that the stopped loop will not send back
// to the store, due at once for the next claimer.
func (d *deliveryLoop) release(ctx context.Context, cs []claimedDelivery) error {
	now := d.e.clock.Now()
	outcomes := make([]DeliveryOutcome, len(cs))
	for i, c := range cs {
		outcomes[i] = DeliveryOutcome{ID: c.ID, Attempt: c.Attempts, Status: DeliveryPending, RetryAt: now, Finished: now, Unsent: true}
	}
	return d.e.store.FinishDeliveries(context.WithoutCancel(ctx), outcomes)
}

// acceptsHandoff reports whether the loop is running and its backlog has
// room for the deliveries of another evaluation's alerts.
func (d *deliveryLoop) acceptsHandoff() bool {
	b := d.e.cfg.DeliveryBacklog
	return b > 0 && d.queue.isOpen() && d.pending.Load() < int64(b)
}

// enqueue counts cs as pending and queues them for the workers; it reports
// false, counting nothing, when the loop is not running.
func (d *deliveryLoop) enqueue(cs []claimedDelivery) bool {
	if len(cs) == 0 {
		return true
	}
	// Counted before they are visible, so that Idle never sees them queued
	// yet not pending.
	d.pending.Add(int64(len(cs)))
	if !d.queue.push(cs) {
		d.pending.Add(-int64(len(cs)))
		return false
	}
	return true
}

// deliveryQueue is the FIFO between a notifier's claimers (its claim loop
// and the evaluations handing off) and its workers. It is unbounded so that
// an evaluation never waits for a slow notifier; DeliveryBatch bounds what
// the claim loop adds and DeliveryBacklog what hand-offs add.
type deliveryQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []claimedDelivery
	head   int
	closed bool
	inited bool
}

func (q *deliveryQueue) lock() {
	q.mu.Lock()
	if !q.inited {
		q.cond, q.closed, q.inited = sync.NewCond(&q.mu), true, true
	}
}

// open starts accepting items (Run starting).
func (q *deliveryQueue) open() {
	q.lock()
	q.closed = false
	q.mu.Unlock()
}

// close stops accepting items; pop drains what is queued, then reports
// false.
func (q *deliveryQueue) close() {
	q.lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

func (q *deliveryQueue) isOpen() bool {
	q.lock()
	defer q.mu.Unlock()
	return !q.closed
}

func (q *deliveryQueue) push(cs []claimedDelivery) bool {
	q.lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.items = append(q.items, cs...)
	q.cond.Broadcast()
	return true
}

// pop waits for an item and takes it with up to max-1 more that are
// queued already; it reports false once the queue is closed and empty.
func (q *deliveryQueue) pop(max int) ([]claimedDelivery, bool) {
	q.lock()
	defer q.mu.Unlock()
	for q.head == len(q.items) && !q.closed {
		q.cond.Wait()
	}
	if q.head == len(q.items) {
		return nil, false
	}
	n := min(max, len(q.items)-q.head)
	cs := make([]claimedDelivery, n)
	copy(cs, q.items[q.head:q.head+n])
	clear(q.items[q.head : q.head+n])
	q.head += n
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 1024 && q.head*2 >= len(q.items):
		m := copy(q.items, q.items[q.head:])
		clear(q.items[m:])
		q.items, q.head = q.items[:m], 0
	}
	return cs, true
}

// tokenPool is a counting semaphore whose acquire takes n tokens at once,
// so that senders waiting for room never hold part of it.
type tokenPool struct {
	mu   sync.Mutex
	cond *sync.Cond
	used int
	max  int
}

func (p *tokenPool) init(max int) {
	p.mu.Lock()
	if p.cond == nil {
		p.cond = sync.NewCond(&p.mu)
	}
	p.used, p.max = 0, max
	p.mu.Unlock()
}

func (p *tokenPool) acquire(n int) {
	p.mu.Lock()
	for p.used+n > p.max && p.used > 0 {
		p.cond.Wait()
	}
	p.used += n
	p.mu.Unlock()
}

func (p *tokenPool) release(n int) {
	p.mu.Lock()
	p.used -= n
	p.cond.Broadcast()
	p.mu.Unlock()
}

// send makes one attempt for deliveries cs (several at once only for a
// BatchNotifier) and decides each one's outcome.
func (d *deliveryLoop) send(ctx context.Context, cs []claimedDelivery) []DeliveryOutcome {
	e := d.e
	start := e.clock.Now()
	outs := make([]DeliveryOutcome, len(cs))
	var live []int // indexes of the deliveries sent
	for i, c := range cs {
		outs[i] = DeliveryOutcome{ID: c.ID, Attempt: c.Attempts, Finished: start}
		if d.stopping.Load() || start.After(c.claimedAt.Add(e.cfg.DeliveryLease-e.cfg.DeliveryTimeout)) {
			// Not started before shutdown, or so late that the lease could
			// run out during the attempt and another claimer send it too:
			// hand it back for the next claim.
			outs[i].Status, outs[i].RetryAt, outs[i].Unsent = DeliveryPending, start, true
			e.log.Debug("alert delivery handed back unsent", "notifier", d.name, "delivery_id", c.ID, "reason", releaseReason(d.stopping.Load()))
			continue
		}
		if c.Alert == nil {
			d.decide(&outs[i], c.Delivery, false, errors.New("delivery has no alert"), start, start)
			continue
		}
		live = append(live, i)
	}
	if len(live) == 0 {
		return outs
	}
	d.busy.Add(int64(len(live)))
	defer d.busy.Add(-int64(len(live)))
	// Sends in progress finish even when Run is stopping.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.DeliveryTimeout)
	var (
		retry bool
		err   error
	)
	if len(live) == 1 {
		retry, err = deliverSafely(actx, d.n, *cs[live[0]].Alert)
	} else {
		alerts := make([]Alert, len(live))
		for k, i := range live {
			alerts[k] = *cs[i].Alert
		}
		retry, err = deliverBatchSafely(actx, d.n.(BatchNotifier), alerts)
	}
	cancel()
	now := e.clock.Now()
	for _, i := range live {
		d.decide(&outs[i], cs[i].Delivery, retry, err, start, now)
	}
	return outs
}

// decide fills o from one attempt's result, and reports it.
func (d *deliveryLoop) decide(o *DeliveryOutcome, del Delivery, retry bool, err error, start, now time.Time) {
	e := d.e
	o.Finished = now
	switch {
	case err == nil:
		o.Status = DeliveryDelivered
	case !retry || del.Attempts >= e.cfg.MaxAttempts:
		o.Status = DeliveryFailed
		o.Error = errorText(err)
	default:
		o.Status = DeliveryPending
		o.Error = errorText(err)
		wait := e.cfg.RetryBackoff.Delay(del.Attempts)
		var ra *RetryAfterError
		if errors.As(err, &ra) && ra != nil && ra.After > wait { // nil: a typed nil returned as the error
			wait = ra.After
		}
		o.RetryAt = now.Add(wait)
	}
	e.obs.DeliveryFinished(d.name, o.Status, now.Sub(start))
	attrs := []any{"notifier", d.name, "delivery_id", del.ID, "attempt", del.Attempts, "status", o.Status}
	if del.Alert != nil {
		attrs = append(attrs, "ticket_id", del.Alert.TicketID, "sla_type", del.Alert.Clock, "stage", del.Alert.Stage)
	}
	switch o.Status {
	case DeliveryDelivered:
		e.log.Info("alert delivered", attrs...)
	case DeliveryFailed:
		e.log.Error("alert delivery failed for good", append(attrs, "err", o.Error)...)
	default:
		e.log.Warn("alert delivery failed, will retry", append(attrs, "err", o.Error, "retry_at", o.RetryAt)...)
	}
}

func releaseReason(stopping bool) string {
	if stopping {
		return "engine stopping"
	}
	return "claim too old"
}

// outcomeLinger is how long the finisher waits for more outcomes of sends
// in flight before recording a batch.
const outcomeLinger = 5 * time.Millisecond

// finish records outcomes in batches until the outcomes channel closes.
func (d *deliveryLoop) finish() {
	// Half the unrecorded-attempt tokens at most, so that senders keep
	// going with the other half while a batch is being recorded.
	max := max(1, d.e.cfg.DeliveryBatch/2)
	batch := make([]DeliveryOutcome, 0, max)
	for o := range d.outcomes {
		batch = append(batch[:0], o)
		// While sends are in flight their outcomes are moments away: wait
		// up to outcomeLinger (real time; it paces transactions, it is not
		// an SLA deadline) to record them in the same transaction, since
		// each commit costs a disk flush on Postgres.
		var linger <-chan time.Time
	more:
		for len(batch) < max {
			select {
			case o, ok := <-d.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
				continue
			default:
			}
			if d.busy.Load() == 0 {
				break
			}
			if linger == nil {
				linger = time.After(outcomeLinger)
			}
			select {
			case o, ok := <-d.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			case <-linger:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := d.e.store.FinishDeliveries(ctx, batch); err != nil {
			d.e.log.Error("recording delivery outcomes failed; those deliveries will be claimed again after their lease",
				"notifier", d.name, "deliveries", len(batch), "err", err)
		}
		cancel()
		d.unrecorded.release(len(batch))
		// Wake before settling, so that Idle never sees neither.
		d.loop.Wake()
		d.pending.Add(-int64(len(batch)))
	}
}

// errorText is err's message; a notifier's error whose Error method panics
// is described instead, since one faulty notifier must not stop the engine.
func errorText(err error) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("notifier error %T: Error panicked: %v", err, r)
		}
	}()
	return err.Error()
}

// deliverBatchSafely is deliverSafely for a BatchNotifier's DeliverBatch.
func deliverBatchSafely(ctx context.Context, n BatchNotifier, alerts []Alert) (retry bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			retry, err = true, fmt.Errorf("notifier panicked: %v", r)
		}
	}()
	return n.DeliverBatch(ctx, alerts)
}

// deliverSafely turns a notifier's panic into a retryable error so that one
// faulty notifier cannot take the engine down.
func deliverSafely(ctx context.Context, n Notifier, a Alert) (retry bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			retry, err = true, fmt.Errorf("notifier panicked: %v", r)
		}
	}()
	return n.Deliver(ctx, a)
}
