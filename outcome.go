package watchdog

import (
	"time"
)

// Outcome is the recorded result of one cycle of one SLA clock of a ticket:
// met or missed once the clock stopped, in progress before. Stores keep
// exactly one per (ticket, clock, cycle start) (see Key), written in the transaction that
// stores the event that changed it; reports (SLAReport) aggregate them.
type Outcome struct {
	TicketID string
	SLAClock SLAClock
	// Cycle is the cycle's ordinal (1, 2, …) for the next-reply and
	// periodic-update clocks, for display (the cycle's identity is its
	// start, StartedAt: see Key); the response and resolution clocks have
	// one, cycle 0.
	Cycle int
	// Policy names the policy in force that gave the target
	// (Evaluation.Policy; a tiers entry is "tiers.<tier>.<priority>").
	Policy string
	// Tier and Priority are the ticket's, as the policy matches them
	// (trimmed, lower case).
	Tier     string
	Priority string
	Calendar string
	// Target is the clock's target in business time, whole seconds. A
	// stopped clock keeps the target it was first recorded with, also when
	// a late event moves its stop or a later policy changes the target.
	Target time.Duration
	// StartedAt is the instant the cycle started, its identity (the
	// ticket's creation for the response and resolution clocks).
	StartedAt time.Time
	// StoppedAt is the instant the clock stopped; nil while in progress.
	StoppedAt *time.Time
	// Business is the business time the clock ran, whole seconds: until it
	// stopped, or, in progress, in the spans that ended so far.
	Business time.Duration
	// Paused is the wall time spent in paused statuses between the start
	// and the stop (in progress: up to the latest status change).
	Paused time.Duration
	// Breached reports that a stopped clock ran past its target (missed).
	Breached bool
	// BreachAt is the instant the clock reached its target: when it was
	// missed, or, in progress, when it was or will be if it keeps running;
	// nil when it stopped in time or, paused, has not reached it.
	BreachAt *time.Time
	// Overrun is how long a missed clock ran past its target, business
	// time, whole seconds; 0 when met or in progress.
	Overrun time.Duration
	// RecordedAt is when the outcome was first recorded stopped; nil while
	// it never stopped. A reopen keeps it, so each outcome counts once.
	RecordedAt *time.Time
}

// OpenClocks (for Store implementations) describes a ticket's response
// and resolution clocks (cycle 0) that are in progress and never stopped:
// reports count them as in progress from the ticket's row, so that storing
// a new ticket writes no outcome rows (see SplitOutcomes).
type OpenClocks struct {
	// Calendar is the calendar of the ticket's clocks; "" while the
	// ticket's outcomes were never derived (stored before outcomes were
	// recorded, or untracked).
	Calendar string
	// Response and Resolution report the clocks in progress, never
	// stopped; their BreachAt as Outcome.BreachAt.
	Response, Resolution                 bool
	ResponseBreachAt, ResolutionBreachAt *time.Time
}

// Mask is the open clocks as bits: 1 response, 2 resolution.
func (c OpenClocks) Mask() int {
	m := 0
	if c.Response {
		m |= 1
	}
	if c.Resolution {
		m |= 2
	}
	return m
}

// RecordedOutcome reports whether a store keeps o as an outcome row: once
// its clock stopped, and from then on (reopened, it stays a row, in
// progress). Other outcomes are in progress, never stopped.
func RecordedOutcome(o *Outcome) bool { return o.Stopped() || o.RecordedAt != nil }

// SplitOutcomes (for Store implementations) splits a plan's outcomes into
// the rows to keep (RecordedOutcome) and the open clocks of the ticket's
// row.
func SplitOutcomes(outcomes []Outcome) (rows []Outcome, open OpenClocks) {
	for i := range outcomes {
		o := &outcomes[i]
		open.Calendar = o.Calendar
		switch {
		case RecordedOutcome(o):
			rows = append(rows, *o)
		case o.Cycle == 0 && o.SLAClock == Response:
			open.Response, open.ResponseBreachAt = true, o.BreachAt
		case o.Cycle == 0 && o.SLAClock == Resolution:
			open.Resolution, open.ResolutionBreachAt = true, o.BreachAt
		default:
			rows = append(rows, *o)
		}
	}
	return rows, open
}

// Stopped reports whether the clock has stopped (met or missed).
func (o *Outcome) Stopped() bool { return o.StoppedAt != nil }

// Result is "met", "missed", or "in_progress".
func (o *Outcome) Result() string {
	switch {
	case !o.Stopped():
		return "in_progress"
	case o.Breached:
		return "missed"
	}
	return "met"
}

// OutcomeKey identifies an outcome within its ticket: its clock and its
// cycle's identity, the cycle's start in Unix microseconds for the
// next-reply and periodic-update clocks (0 for response and resolution),
// as alerts key their cycles (StageKey.Cycle). The ordinal (Outcome.Cycle)
// is for display: a late message that inserts an earlier cycle renumbers
// the later ones but changes none of their keys.
type OutcomeKey struct {
	SLAClock SLAClock
	Cycle    int64
}

// Key returns the outcome's key within its ticket.
func (o *Outcome) Key() OutcomeKey {
	if !o.SLAClock.Cyclic() {
		return OutcomeKey{SLAClock: o.SLAClock}
	}
	return OutcomeKey{SLAClock: o.SLAClock, Cycle: o.StartedAt.UnixMicro()}
}

// CycleStartedAt is the start of the outcome's cycle, its identity, for the
// next-reply and periodic-update clocks; nil for response and resolution.
func (o *Outcome) CycleStartedAt() *time.Time {
	if !o.SLAClock.Cyclic() {
		return nil
	}
	return &o.StartedAt
}

// Equal reports whether two outcomes hold the same values.
func (o *Outcome) Equal(x *Outcome) bool {
	return o.TicketID == x.TicketID && o.SLAClock == x.SLAClock && o.Cycle == x.Cycle && o.Policy == x.Policy &&
		o.Tier == x.Tier && o.Priority == x.Priority && o.Calendar == x.Calendar && o.Target == x.Target &&
		o.StartedAt.Equal(x.StartedAt) && equalTimes(o.StoppedAt, x.StoppedAt) && o.Business == x.Business &&
		o.Paused == x.Paused && o.Breached == x.Breached && equalTimes(o.BreachAt, x.BreachAt) &&
		o.Overrun == x.Overrun && equalTimes(o.RecordedAt, x.RecordedAt)
}

func equalTimes(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// EvaluateOutcomes is Evaluate that also derives the outcomes of the
// ticket's SLA clocks from the evaluation: one per clock and cycle, in
// progress or stopped. t.Outcomes holds those recorded before: a clock
// stopped then and still stopped keeps its recorded target and policy, and
// RecordedAt is kept from them (set to now when a clock stops for the first
// time). An untracked ticket has none.
func EvaluateOutcomes(t *Ticket, p *Policy, now time.Time) (Evaluation, []Outcome) {
	ev, h := evaluate(t, p, now)
	return ev, outcomes(t, p, &ev, h, now)
}

// outcomes derives the outcomes of t's clocks: the response and resolution
// clocks from h's runs, the cycle clocks from ev.Cycles.
func outcomes(t *Ticket, p *Policy, ev *Evaluation, h history, now time.Time) []Outcome {
	if h.steps == nil {
		return nil
	}
	b := outcomeBuilder{t: t, p: p, h: h, now: now, tier: normKey(t.CustomerTier), priority: normKey(t.Priority),
		out: make([]Outcome, 0, len(h.runs)+len(ev.Cycles))}
	for i := range h.runs {
		r := &h.runs[i]
		if r.target <= 0 {
			continue // not tracked
		}
		var stop time.Time
		if r.mode == modeStopped {
			stop = r.stop
		}
		b.add(r, ev.Policy, 0, t.CreatedAt, stop)
	}
	var paused []bool
	for i := range ev.Cycles {
		c := &ev.Cycles[i]
		if paused == nil {
			paused = make([]bool, len(h.steps))
			for k, s := range h.steps {
				paused[k] = p.Statuses.IsPaused(s.status)
			}
		}
		r := cycleRun(c.SLAClock, cycle{start: c.StartedAt, stop: c.StoppedAt}, h.steps, paused, c.Target, h.cal, nil)
		b.add(&r, ev.Policy, c.Cycle, c.StartedAt, c.StoppedAt)
	}
	return b.out
}

// outcomeBuilder derives the outcomes of one ticket.
type outcomeBuilder struct {
	t              *Ticket
	p              *Policy
	h              history
	now            time.Time
	tier, priority string
	out            []Outcome
}

// add derives the outcome of one clock run (cycle ordinal ordinal, 0 for
// response and resolution) that started at start and stopped at stop (zero
// while in progress).
func (b *outcomeBuilder) add(r *slaRun, policy string, ordinal int, start, stop time.Time) {
	t, steps := b.t, b.h.steps
	o := Outcome{
		TicketID: t.ID, SLAClock: r.kind, Cycle: ordinal, Policy: policy, Tier: b.tier, Priority: b.priority,
		Calendar: r.cal.Name(), Target: r.target.Truncate(time.Second), StartedAt: micro(start),
	}
	before := PriorOutcome(t.Outcomes, &o, stop)
	end := steps[len(steps)-1].from
	if !stop.IsZero() {
		o.StoppedAt, end = timePtr(micro(stop)), stop
		if before != nil && before.Stopped() {
			o.Target, o.Policy = before.Target, before.Policy
		}
	}
	if end.Before(start) {
		end = start
	}
	for _, s := range r.spans {
		if !s.end.IsZero() {
			o.Business += s.business
		}
	}
	o.Business = o.Business.Truncate(time.Second)
	o.Paused = pausedWithin(steps, b.p.Statuses, start, end).Truncate(time.Second)
	if at, reached := r.instant(Stage{Fraction: b.p.Thresholds.Breach}.Offset(o.Target)); reached {
		o.BreachAt = timePtr(micro(at))
		if o.Stopped() {
			o.Breached = true
			o.Overrun = max(0, o.Business-o.Target)
		}
	}
	if before != nil {
		o.RecordedAt = before.RecordedAt
	}
	if o.Stopped() && o.RecordedAt == nil {
		o.RecordedAt = timePtr(micro(b.now))
	}
	b.out = append(b.out, o)
}

// PriorOutcome returns the outcome of prior (a ticket's recorded ones) that
// o continues, nil when none: the one with o's key, or, for a cycle clock,
// the earliest of the same clock that started within o's cycle [start,
// stop) (stop zero: running) — a cycle a late message moved the start of
// earlier, as alerts of a cycle are found by their key within its span. o
// then keeps its recorded target and policy (when both stopped), and when
// it was first recorded stopped.
func PriorOutcome(prior []Outcome, o *Outcome, stop time.Time) *Outcome {
	key := o.Key()
	var found *Outcome
	for i := range prior {
		p := &prior[i]
		if p.SLAClock != o.SLAClock {
			continue
		}
		if p.Key() == key {
			return p
		}
		if !key.SLAClock.Cyclic() || p.StartedAt.Before(o.StartedAt) || (!stop.IsZero() && !p.StartedAt.Before(stop)) {
			continue
		}
		if found == nil || p.StartedAt.Before(found.StartedAt) {
			found = p
		}
	}
	return found
}

// pausedWithin is the wall time of the paused steps within [from, to).
func pausedWithin(steps []step, st StatusSets, from, to time.Time) time.Duration {
	var d time.Duration
	for i, s := range steps {
		if !st.IsPaused(s.status) || i+1 == len(steps) {
			continue
		}
		a, b := maxTime(s.from, from), steps[i+1].from
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			d += b.Sub(a)
		}
	}
	return d
}

// micro truncates t to the microsecond in UTC, the precision stores keep.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }
