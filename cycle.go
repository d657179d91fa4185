package watchdog

import (
	"sort"
	"time"
)

// cycle is one run of a cycle clock (next reply, periodic update): from
// start, its identity, to stop, zero while it runs.
type cycle struct {
	start, stop time.Time
}

// Kinds of timeline actions, in the order they apply at equal instants:
// status changes, then customer messages, then agent messages (and an
// explicit first response, which acts as one).
const (
	actStatus int8 = iota
	actCustomer
	actAgent
)

// action is one entry of a ticket's merged timeline.
type action struct {
	at   time.Time
	kind int8
	step int // the status step, for actStatus
}

// actions merges the status steps, the messages and the explicit first
// response of t into one timeline in application order. Messages before
// created_at count from it.
func actions(t *Ticket, steps []step) []action {
	out := make([]action, 0, len(steps)+len(t.Messages)+1)
	var fr *action
	if t.FirstResponseAt != nil {
		fr = &action{at: maxTime(*t.FirstResponseAt, t.CreatedAt), kind: actAgent}
	}
	// Both lists are in order already (messages by instant, customer
	// first): merge them, placing the first response among them.
	add := func(a action) {
		if fr != nil && before(*fr, a) {
			out = append(out, *fr)
			fr = nil
		}
		out = append(out, a)
	}
	i := 0
	for _, m := range t.Messages {
		a := action{at: maxTime(m.At, t.CreatedAt), kind: actCustomer}
		if m.Author == AuthorAgent {
			a.kind = actAgent
		}
		for ; i < len(steps) && !steps[i].from.After(a.at); i++ {
			add(action{at: steps[i].from, kind: actStatus, step: i})
		}
		add(a)
	}
	for ; i < len(steps); i++ {
		add(action{at: steps[i].from, kind: actStatus, step: i})
	}
	if fr != nil {
		out = append(out, *fr)
	}
	return out
}

// before is the application order of actions.
func before(a, b action) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.kind < b.kind
}

// cycleSet collects one clock's cycles; run is the index of the running
// cycle, -1 when none runs.
type cycleSet struct {
	list []cycle
	run  int
}

func (cs *cycleSet) start(at time.Time) {
	if cs.run < 0 {
		cs.list = append(cs.list, cycle{start: at})
		cs.run = len(cs.list) - 1
	}
}

// stop ends the running cycle at at; one that would end where it started
// is not a cycle.
func (cs *cycleSet) stop(at time.Time) {
	if cs.run < 0 {
		return
	}
	if at.After(cs.list[cs.run].start) {
		cs.list[cs.run].stop = at
	} else {
		cs.list = cs.list[:cs.run]
	}
	cs.run = -1
}

// buildCycles derives the next-reply and periodic-update cycles from the
// merged timeline, and the first agent action (zero when none):
//
//   - next reply: a cycle starts at the first customer message after the
//     latest of the first response, the last agent message and the last
//     entry into a resolved status (at the next reopen when the ticket is
//     resolved then); it stops at the next agent message or entry into a
//     resolved status. Customer messages before the first response start
//     none.
//   - periodic update: a cycle starts at every agent message at or after
//     the first response while the ticket is not resolved, and stops at the
//     next agent message or entry into a resolved status.
func buildCycles(acts []action, steps []step, st StatusSets) (nextReply, periodic []cycle, firstAgent time.Time) {
	var customers, agents int
	for _, a := range acts {
		switch a.kind {
		case actCustomer:
			customers++
		case actAgent:
			agents++
		}
	}
	// At most a cycle per customer message or reopen, and per agent message.
	nr := cycleSet{run: -1, list: make([]cycle, 0, min(customers, agents+len(steps)))}
	pu := cycleSet{run: -1, list: make([]cycle, 0, agents)}
	var resolved, responded, awaiting, waiting bool // waiting: a customer message awaits a reopen
	for _, a := range acts {
		switch a.kind {
		case actStatus:
			s := steps[a.step].status
			isRes, isAwait := st.IsResolved(s), st.IsAwaitingResponse(s)
			switch {
			case a.step == 0:
				responded = responded || isRes
			case isRes && !resolved: // entry into a resolved status
				responded, waiting = true, false
				nr.stop(a.at)
				pu.stop(a.at)
			case !isRes && resolved && waiting: // reopen
				nr.start(a.at)
				waiting = false
			}
			if a.step > 0 && awaiting && !isAwait {
				responded = true
			}
			resolved, awaiting = isRes, isAwait
		case actCustomer:
			switch {
			case !responded || nr.run >= 0:
			case resolved:
				waiting = true
			default:
				nr.start(a.at)
			}
		case actAgent:
			if firstAgent.IsZero() {
				firstAgent = a.at
			}
			responded, waiting = true, false
			nr.stop(a.at)
			pu.stop(a.at)
			if !resolved {
				pu.start(a.at)
			}
		}
	}
	return nr.list, pu.list, firstAgent
}

// cycleRun is the running spans of cycle c of clock kind: its part of the
// timeline outside paused statuses (paused[i] for steps[i]). The spans are
// appended to buf.
func cycleRun(kind SLAClock, c cycle, steps []step, paused []bool, target time.Duration, cal *Calendar, buf []span) slaRun {
	r := slaRun{kind: kind, target: target, cal: cal, spans: buf}
	i := sort.Search(len(steps), func(i int) bool { return steps[i].from.After(c.start) }) - 1
	if i < 0 {
		i = 0
	}
	for ; i < len(steps); i++ {
		from := maxTime(steps[i].from, c.start)
		var end time.Time
		if i+1 < len(steps) {
			end = steps[i+1].from
		}
		stopped := !c.stop.IsZero() && (end.IsZero() || !c.stop.After(end))
		if stopped {
			end = c.stop
		}
		if !paused[i] {
			r.add(from, end)
		}
		if stopped {
			break
		}
	}
	switch {
	case !c.stop.IsZero():
		r.mode = modeStopped
	case paused[len(paused)-1]:
		r.mode = modePaused
	default:
		r.mode = modeRunning
	}
	for k := range r.spans {
		if !r.spans[k].end.IsZero() {
			r.spans[k].business = cal.Between(r.spans[k].start, r.spans[k].end)
		}
	}
	return r
}
