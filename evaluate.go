package watchdog

import (
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
func buildRuns(t *Ticket, p *Policy, targets Targets, cal *Calendar) [2]slaRun {
	steps := timeline(t)
	st := p.Statuses

	// The response clock stops for good at the first response: an explicit
	// first_response_at, the first change out of the awaiting-response
	// statuses, or the ticket reaching a resolved status.
	var respStop time.Time
	if t.FirstResponseAt != nil {
		respStop = maxTime(*t.FirstResponseAt, t.CreatedAt)
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
	// SLAClocks are the response and resolution SLA clocks; nil when untracked.
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
}

// Evaluate computes a ticket's SLA clocks, due alerts and next due instant at
// now. It is pure: the same ticket (current fields, Events, Alerts), policy
// and now give the same result.
func Evaluate(t *Ticket, p *Policy, now time.Time) Evaluation {
	ev, _ := evaluate(t, p, now)
	return ev
}

// evaluate is Evaluate that also returns the clocks' histories (none when
// untracked), from which their outcomes derive.
func evaluate(t *Ticket, p *Policy, now time.Time) (Evaluation, []slaRun) {
	ev := Evaluation{Open: !p.Statuses.IsResolved(t.Status)}
	targets, cal, reason, ok := p.Lookup(t.CustomerTier, t.Priority)
	if !ok {
		ev.State = TicketUntracked
		ev.Untracked = reason
		return ev, nil
	}
	fired := make(map[StageKey]bool, len(t.Alerts))
	for _, a := range t.Alerts {
		fired[a.Key()] = true
	}
	stages := p.Stages()
	runs := buildRuns(t, p, targets, cal)
	ev.SLAClocks = make(map[SLAClock]*SLAClockView, 2)
	ev.State = TicketOK
	var next *time.Time
	for k := range runs {
		r := &runs[k]
		view := &SLAClockView{SLAClock: r.kind, Target: r.target, Calendar: cal.Name()}
		view.Elapsed = r.elapsed(now)
		level := TicketOK
		for _, s := range stages {
			off := s.Offset(r.target)
			at, reached := r.instant(off)
			if !reached {
				continue
			}
			if r.mode == modeRunning {
				switch s.Name {
				case StageAlert:
					view.AlertAt = timePtr(at)
				case StageBreach:
					view.BreachAt = timePtr(at)
				}
			}
			if !at.After(now) {
				if s.Fraction >= p.Thresholds.Breach {
					level = TicketBreach
				} else if level == TicketOK {
					level = TicketAlert
				}
			}
			key := StageKey{SLAClock: r.kind, Stage: s.Name}
			switch {
			case !fired[key] && !at.After(now):
				ev.Due = append(ev.Due, Alert{
					TicketID:     t.ID,
					SLAClock:     r.kind,
					Stage:        s.Name,
					State:        s.AlertState(),
					DueAt:        at,
					FiredAt:      now,
					Priority:     t.Priority,
					CustomerTier: t.CustomerTier,
					Target:       r.target,
					Elapsed:      off,
					Message:      alertMessage(r.kind, s, r.target),
				})
			case at.After(now) || !fired[key]:
				if next == nil || at.Before(*next) {
					next = timePtr(at)
				}
			}
		}
		switch r.mode {
		case modeRunning:
			view.State = SLAClockState(level)
		case modePaused:
			view.State = StatePaused
		case modeStopped:
			view.State = StateMet
			if _, missed := r.instant(Stage{Fraction: p.Thresholds.Breach}.Offset(r.target)); missed {
				view.State = StateMissed
				level = TicketBreach
			} else {
				level = TicketOK
			}
		}
		if level.rank() > ev.State.rank() {
			ev.State = level
		}
		if view.BreachAt != nil && (ev.BreachAt == nil || view.BreachAt.Before(*ev.BreachAt)) {
			ev.BreachAt = timePtr(*view.BreachAt)
		}
		view.TargetSeconds = int64(r.target / time.Second)
		view.ElapsedSeconds = int64(view.Elapsed / time.Second)
		rem := r.target - view.Elapsed
		view.RemainingSeconds = int64(rem / time.Second)
		ev.SLAClocks[r.kind] = view
	}
	sortAlerts(ev.Due)
	ev.NextDueAt = next
	return ev, runs[:]
}

func sortAlerts(as []Alert) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].DueAt.Before(as[j-1].DueAt); j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

func timePtr(t time.Time) *time.Time { return &t }
