package watchdog

import (
	"sort"
	"time"
)

// span is one interval during which a clock runs; end is zero while it is
// still running.
type span struct {
	start, end time.Time
	// business is the business time in [start, end); unset for the open span.
	business time.Duration
}

// slaRun is a clock's history: where it ran and how it ends.
type slaRun struct {
	kind   SLAClock
	spans  []span
	mode   runMode
	target time.Duration
	cal    *Calendar
	// stop is the instant a stopped clock stopped; zero otherwise.
	stop time.Time
}

type runMode int

const (
	modeRunning runMode = iota
	modePaused
	modeStopped
)

// timeline turns a ticket's events into (from, status) steps: each status
// holds from its instant until the next. The first status also covers the
// time between created_at and the first event.
type step struct {
	from   time.Time
	status string
}

func timeline(t *Ticket) []step {
	events := t.Events
	if len(events) == 0 {
		return []step{{from: t.CreatedAt, status: t.Status}}
	}
	steps := make([]step, 0, len(events))
	for i, ev := range events {
		from := ev.UpdatedAt
		if i == 0 || from.Before(t.CreatedAt) {
			from = t.CreatedAt
		}
		if n := len(steps); n > 0 && !from.After(steps[n-1].from) {
			// Several events at or before created_at: the latest one's
			// status is the one in force.
			steps[n-1].status = ev.Status
			continue
		}
		steps = append(steps, step{from: from, status: ev.Status})
	}
	return steps
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// buildRuns computes both SLA clocks' running spans from the timeline.
func buildRuns(t *Ticket, p *Policy, steps []step, firstAgent time.Time, targets Targets, cal *Calendar) [2]slaRun {
	st := p.Statuses

	// The response clock stops for good at the first response: an explicit
	// first_response_at, the first agent message, the first change out of
	// the awaiting-response statuses, or the ticket reaching a resolved
	// status.
	respStop := firstAgent
	if t.FirstResponseAt != nil {
		if fr := maxTime(*t.FirstResponseAt, t.CreatedAt); respStop.IsZero() || fr.Before(respStop) {
			respStop = fr
		}
	}
	for i, s := range steps {
		stop := st.IsResolved(s.status) || (i > 0 && st.IsAwaitingResponse(steps[i-1].status) && !st.IsAwaitingResponse(s.status))
		if stop {
			if respStop.IsZero() || s.from.Before(respStop) {
				respStop = s.from
			}
			break
		}
	}

	resp := slaRun{kind: Response, target: targets.Response, cal: cal}
	res := slaRun{kind: Resolution, target: targets.Resolution, cal: cal}
	for i, s := range steps {
		var end time.Time
		if i+1 < len(steps) {
			end = steps[i+1].from
		}
		paused := st.IsPaused(s.status)
		resolved := st.IsResolved(s.status)
		if !paused && !resolved {
			res.add(s.from, end)
		}
		if !paused {
			e := end
			if !respStop.IsZero() && (e.IsZero() || respStop.Before(e)) {
				e = respStop
			}
			if respStop.IsZero() || s.from.Before(respStop) {
				resp.add(s.from, e)
			}
		}
	}
	last := steps[len(steps)-1].status
	switch {
	case st.IsResolved(last):
		res.mode = modeStopped
		res.stop = resolvedSince(steps, st)
	case st.IsPaused(last):
		res.mode = modePaused
	default:
		res.mode = modeRunning
	}
	switch {
	case !respStop.IsZero():
		resp.mode = modeStopped
		resp.stop = respStop
	case st.IsPaused(last):
		resp.mode = modePaused
	default:
		resp.mode = modeRunning
	}
	runs := [2]slaRun{resp, res}
	for k := range runs {
		r := &runs[k]
		for i := range r.spans {
			if !r.spans[i].end.IsZero() {
				r.spans[i].business = cal.Between(r.spans[i].start, r.spans[i].end)
			}
		}
	}
	return runs
}

// resolvedSince returns the instant the timeline entered the resolved
// statuses it ends in: the start of its last run of resolved steps.
func resolvedSince(steps []step, st StatusSets) time.Time {
	i := len(steps) - 1
	for i > 0 && st.IsResolved(steps[i-1].status) {
		i--
	}
	return steps[i].from
}

func (r *slaRun) add(start, end time.Time) {
	if !end.IsZero() && !end.After(start) {
		return
	}
	if n := len(r.spans); n > 0 && r.spans[n-1].end.Equal(start) {
		r.spans[n-1].end = end
		return
	}
	r.spans = append(r.spans, span{start: start, end: end})
}

// instant returns the instant at which the clock has used need of business
// time: the earliest instant inside a running span (strictly before a
// span's end) at which the business time so far reaches need. ok is false
// when the clock never gets there on its known timeline.
func (r *slaRun) instant(need time.Duration) (at time.Time, ok bool) {
	var used time.Duration
	for _, s := range r.spans {
		if s.end.IsZero() {
			return r.cal.Add(s.start, need-used), true
		}
		if used+s.business >= need {
			at := r.cal.Add(s.start, need-used)
			if at.Before(s.end) {
				return at, true
			}
		}
		used += s.business
	}
	return time.Time{}, false
}

// elapsed is the business time the clock has used by now.
func (r *slaRun) elapsed(now time.Time) time.Duration {
	var used time.Duration
	for _, s := range r.spans {
		if !s.start.Before(now) {
			break
		}
		if s.end.IsZero() || s.end.After(now) {
			used += r.cal.Between(s.start, now)
			break
		}
		used += s.business
	}
	return used
}

// Evaluation is the pure result of evaluating a ticket against a policy at
// an instant.
type Evaluation struct {
	State     TicketState
	Untracked string
	Open      bool
	// Policy names the policy in force (see Policy.Select); empty when
	// untracked.
	Policy string
	// SLAClocks are the SLA clocks the policy tracks (a cycle clock shows
	// its current cycle); nil when untracked.
	SLAClocks map[SLAClock]*SLAClockView
	// Due are the alerts for stages whose instant is at or before now and
	// that the ticket has not fired yet, in instant order.
	Due []Alert
	// NextDueAt is the earliest instant after now at which a stage is
	// reached (fired or not, as the ticket's state changes then), or the
	// earliest unfired stage instant when it is not after now; nil when no
	// stage lies ahead.
	NextDueAt *time.Time
	// BreachAt is the soonest breach instant among running SLA clocks.
	BreachAt *time.Time
	// Cycles lists every cycle of the cycle clocks the policy tracks, in
	// clock then start order, for outcome reports.
	Cycles []CycleResult
}

// CycleResult is one cycle of a next-reply or periodic-update clock.
type CycleResult struct {
	SLAClock SLAClock
	// Cycle numbers the clock's cycles from 1; StartedAt is the cycle's
	// identity, StoppedAt zero while it runs.
	Cycle     int
	StartedAt time.Time
	StoppedAt time.Time
	// State is met or missed once stopped, else the running clock's state
	// (ok, alert, breach or paused).
	State  SLAClockState
	Target time.Duration
	// Elapsed is the business time used: by the stop, or by now.
	Elapsed time.Duration
}

// Evaluate computes a ticket's SLA clocks, due alerts and next due instant at
// now under the policy p selects for it. It is pure: the same ticket
// (current fields, Events, Messages, Alerts), policy and now give the same
// result.
func Evaluate(t *Ticket, p *Policy, now time.Time) Evaluation {
	ev, _ := evaluate(t, p, now)
	return ev
}

// history is what outcomes derive from besides an Evaluation: the response
// and resolution clocks' runs (a target of 0: not tracked) and the
// timeline (nil when untracked).
type history struct {
	runs  [2]slaRun
	steps []step
	cal   *Calendar
}

// evaluate is Evaluate that also returns the clocks' history (empty when
// untracked), from which their outcomes derive.
func evaluate(t *Ticket, p *Policy, now time.Time) (Evaluation, history) {
	ev := Evaluation{Open: !p.Statuses.IsResolved(t.Status)}
	sel, reason, ok := p.Select(t)
	if !ok {
		ev.State = TicketUntracked
		ev.Untracked = reason
		return ev, history{}
	}
	ev.Policy = sel.Name
	ev.State = TicketOK
	ev.SLAClocks = make(map[SLAClock]*SLAClockView, 4)
	e := evaluator{t: t, p: p, now: now, stageList: p.Stages(), fired: newFiredIndex(t.Alerts), sel: sel, ev: &ev}
	steps := timeline(t)
	var nextReply, periodic []cycle
	var firstAgent time.Time
	if len(t.Messages) > 0 || sel.Targets.NextReply > 0 || sel.Targets.PeriodicUpdate > 0 {
		nextReply, periodic, firstAgent = buildCycles(actions(t, steps), steps, p.Statuses)
	}
	runs := buildRuns(t, p, steps, firstAgent, sel.Targets, sel.Calendar)
	for k := range runs {
		if runs[k].target > 0 {
			e.clock(&runs[k], nil, 0)
		}
	}
	var paused []bool
	if n := len(nextReply) + len(periodic); n > 0 {
		ev.Cycles = make([]CycleResult, 0, n)
	}
	for _, c := range []struct {
		kind   SLAClock
		cycles []cycle
	}{{NextReply, nextReply}, {PeriodicUpdate, periodic}} {
		if target := sel.Targets.Target(c.kind); target > 0 {
			if paused == nil {
				paused = make([]bool, len(steps))
				for i, s := range steps {
					paused[i] = p.Statuses.IsPaused(s.status)
				}
			}
			e.cycleClock(c.kind, c.cycles, steps, paused, target)
		}
	}
	sortAlerts(ev.Due)
	ev.NextDueAt = e.next
	return ev, history{runs: runs, steps: steps, cal: sel.Calendar}
}

// evaluator evaluates the clocks of one ticket at now.
type evaluator struct {
	t         *Ticket
	p         *Policy
	now       time.Time
	stageList []Stage
	fired     firedIndex
	cycleKeys [][]int64 // per stage of stageList, for the cycle clock in hand
	sel       Selection
	ev        *Evaluation
	next      *time.Time
}

// cycleClock evaluates every cycle of a cycle clock; the current one (the
// running one, else the last) is the clock's view.
func (e *evaluator) cycleClock(kind SLAClock, cycles []cycle, steps []step, paused []bool, target time.Duration) {
	if len(cycles) == 0 {
		e.ev.SLAClocks[kind] = &SLAClockView{SLAClock: kind, State: StateIdle, Target: target, Calendar: e.sel.Calendar.Name(),
			TargetSeconds: int64(target / time.Second), RemainingSeconds: int64(target / time.Second)}
		return
	}
	var (
		met, missed int
		buf         []span
	)
	// The keys fired for each stage, looked up once for all cycles.
	e.cycleKeys = e.cycleKeys[:0]
	for _, s := range e.stageList {
		e.cycleKeys = append(e.cycleKeys, e.fired.cycles[clockStage{kind, s.Name}])
	}
	for i := range cycles {
		c := &cycles[i]
		r := cycleRun(kind, *c, steps, paused, target, e.sel.Calendar, buf[:0])
		buf = r.spans
		res := CycleResult{SLAClock: kind, Cycle: i + 1, StartedAt: c.start, StoppedAt: c.stop, Target: target}
		if i == len(cycles)-1 {
			e.clock(&r, c, i+1)
			v := e.ev.SLAClocks[kind]
			res.State, res.Elapsed = v.State, v.Elapsed
		} else {
			// A cycle before the last has stopped.
			_, m := e.stages(&r, c, i+1)
			res.State = StateMet
			if m {
				res.State = StateMissed
				missed++
			} else {
				met++
			}
			for _, sp := range r.spans {
				res.Elapsed += sp.business
			}
		}
		e.ev.Cycles = append(e.ev.Cycles, res)
	}
	v := e.ev.SLAClocks[kind]
	switch v.State {
	case StateMet:
		met++
	case StateMissed:
		missed++
	}
	v.CyclesMet, v.CyclesMissed = met, missed
}

// stages collects the due alerts and the next due instant of one clock run
// (c nil for the response and resolution clocks, else cycle number
// ordinal), and returns the level its stages reached by now and whether a
// stopped run missed its target.
func (e *evaluator) stages(r *slaRun, c *cycle, ordinal int) (level TicketState, missed bool) {
	t, p, now := e.t, e.p, e.now
	level = TicketOK
	for i, s := range e.stageList {
		off := s.Offset(r.target)
		at, reached := r.instant(off)
		if !reached {
			continue
		}
		if s.Fraction >= p.Thresholds.Breach {
			missed = true
		}
		if !at.After(now) {
			if s.Fraction >= p.Thresholds.Breach {
				level = TicketBreach
			} else if level == TicketOK {
				level = TicketAlert
			}
		}
		var fired bool
		if c == nil {
			fired = e.fired.has(r.kind, s.Name, nil)
		} else {
			fired = inCycle(e.cycleKeys[i], c)
		}
		switch {
		case !fired && !at.After(now):
			a := Alert{TicketID: t.ID, SLAClock: r.kind, Stage: s.Name, State: s.AlertState(), DueAt: at, FiredAt: now,
				Priority: t.Priority, CustomerTier: t.CustomerTier, Policy: e.sel.Name, Target: r.target, Elapsed: off,
				Message: alertMessage(r.kind, s, r.target)}
			if c != nil {
				a.Cycle, a.CycleStartedAt = ordinal, timePtr(c.start)
			}
			e.ev.Due = append(e.ev.Due, a)
		case at.After(now) || !fired:
			if e.next == nil || at.Before(*e.next) {
				e.next = timePtr(at)
			}
		}
	}
	// The breach is always a stage: a stopped run reached it (before its
	// stop) or met its target.
	return level, missed && r.mode == modeStopped
}

// clock evaluates the current run of a clock (c nil for the response and
// resolution clocks, else cycle number ordinal): its stages, and its view,
// which counts towards the ticket's state and breach instant.
func (e *evaluator) clock(r *slaRun, c *cycle, ordinal int) {
	// The view and the instants it points to are one allocation: a pass
	// evaluates a thousand tickets, each with a view per clock.
	vt := &struct {
		view                       SLAClockView
		started, alertAt, breachAt time.Time
	}{view: SLAClockView{SLAClock: r.kind, Target: r.target, Calendar: e.sel.Calendar.Name(), Elapsed: r.elapsed(e.now)}}
	view := &vt.view
	if c != nil {
		vt.started = c.start
		view.Cycle, view.CycleStartedAt = ordinal, &vt.started
	}
	level, missed := e.stages(r, c, ordinal)
	if r.mode == modeRunning {
		if at, ok := r.instant(Stage{Fraction: e.p.Thresholds.Alert}.Offset(r.target)); ok {
			vt.alertAt = at
			view.AlertAt = &vt.alertAt
		}
		if at, ok := r.instant(Stage{Fraction: e.p.Thresholds.Breach}.Offset(r.target)); ok {
			vt.breachAt = at
			view.BreachAt = &vt.breachAt
		}
	}
	switch r.mode {
	case modeRunning:
		view.State = SLAClockState(level)
	case modePaused:
		view.State = StatePaused
	case modeStopped:
		view.State, level = StateMet, TicketOK
		if missed {
			view.State, level = StateMissed, TicketBreach
		}
	}
	ev := e.ev
	if level.rank() > ev.State.rank() {
		ev.State = level
	}
	if view.BreachAt != nil && (ev.BreachAt == nil || view.BreachAt.Before(*ev.BreachAt)) {
		ev.BreachAt = timePtr(*view.BreachAt)
	}
	view.TargetSeconds = int64(r.target / time.Second)
	view.ElapsedSeconds = int64(view.Elapsed / time.Second)
	view.RemainingSeconds = int64((r.target - view.Elapsed) / time.Second)
	ev.SLAClocks[r.kind] = view
}

func sortAlerts(as []Alert) {
	sort.SliceStable(as, func(i, j int) bool { return as[i].DueAt.Before(as[j].DueAt) })
}

func timePtr(t time.Time) *time.Time { return &t }
