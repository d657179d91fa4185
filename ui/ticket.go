package ui

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// ticketPage is one ticket's page.
type ticketPage struct {
	ID, Tier, Priority, Status string
	State, Untracked           string
	Policy                     string // the policy in force; empty when untracked
	Escalation                 int
	Open                       bool
	CreatedAt, UpdatedAt       time.Time
	FirstResponseAt            *time.Time
	EvaluatedAt                time.Time
	Clocks                     []clockDetail
	Timeline                   []timelineEntry
	Alerts                     []feedRow
	Acks                       *ackSection
}

// clockDetail is one SLA clock with its progress bar in business time.
type clockDetail struct {
	Name, State, Calendar      string
	Target, Elapsed, Remaining time.Duration
	AlertAt, BreachAt          *instant
	Bar                        bar
	// Cycle and CycleStartedAt are a cycle clock's current cycle (0 and
	// nil for the response and resolution clocks, and before a cycle).
	Cycle          int
	CycleStartedAt *time.Time
	CyclesMet      int
	CyclesMissed   int
}

// bar draws a clock's business time used against its stages: the fill is
// the time used, each marker a stage's offset, on a scale a little longer
// than the furthest of them.
type bar struct {
	// Fill is the used part's width out of barWidth.
	Fill    int
	Markers []barMarker
	Label   string
}

type barMarker struct {
	X     int
	Name  string
	Ahead bool // not reached yet
}

const barWidth = 1000

// timelineEntry is one line of the ticket's timeline.
type timelineEntry struct {
	At   time.Time
	What string
	Note string
	Kind string // status, response, alert
}

func (h *Handler) ticket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if strings.TrimSpace(id) == "" || len(id) > watchdog.MaxIDBytes {
		h.fail(w, r, http.StatusBadRequest, "That is not a ticket id.")
		return
	}
	v, err := h.svc.Ticket(r.Context(), id)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	p := h.svc.Policy()
	page := ticketPage{ID: v.ID, Tier: v.CustomerTier, Priority: v.Priority, Status: v.Status, State: string(v.State),
		Untracked: v.Untracked, Policy: v.Policy, Escalation: v.EscalationLevel, Open: v.Open, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		FirstResponseAt: v.FirstResponseAt, EvaluatedAt: v.EvaluatedAt}
	for _, name := range watchdog.AllSLAClocks {
		if c := v.SLAClocks[name]; c != nil {
			page.Clocks = append(page.Clocks, newClockDetail(name, c, p, v.EvaluatedAt))
		}
	}
	page.Timeline = timeline(v.Ticket, p)
	for _, a := range v.Alerts {
		page.Alerts = append(page.Alerts, newFeedRow(a))
	}
	if h.cfg.Acks != nil {
		acks, err := h.cfg.Acks.Acks(r.Context(), v.ID)
		if err != nil {
			h.serviceError(w, r, err)
			return
		}
		page.Acks = &ackSection{Acks: acks, Clocks: page.Clocks}
	}
	h.render(w, r, http.StatusOK, "ticket", layout{Title: "Ticket " + v.ID, Nav: "queue", Live: true, Page: page})
}

func newClockDetail(name watchdog.SLAClock, c *watchdog.SLAClockView, p *watchdog.Policy, now time.Time) clockDetail {
	d := clockDetail{Name: string(name), State: string(c.State), Calendar: c.Calendar,
		Target: c.Target, Elapsed: c.Elapsed, Remaining: c.Target - c.Elapsed,
		Cycle: c.Cycle, CycleStartedAt: c.CycleStartedAt, CyclesMet: c.CyclesMet, CyclesMissed: c.CyclesMissed}
	if c.AlertAt != nil {
		d.AlertAt = newInstant(*c.AlertAt, now)
	}
	if c.BreachAt != nil {
		d.BreachAt = newInstant(*c.BreachAt, now)
	}
	d.Bar = newBar(c.Target, c.Elapsed, p.Stages())
	return d
}

// newBar lays the stages of a clock with target out on a bar with elapsed
// business time used.
func newBar(target, elapsed time.Duration, stages []watchdog.Stage) bar {
	end := elapsed
	for _, st := range stages {
		end = max(end, st.Offset(target))
	}
	scale := float64(end) * 1.08
	if scale <= 0 {
		return bar{Label: "no target"}
	}
	b := bar{Fill: int(float64(elapsed) / scale * barWidth)}
	for _, st := range stages {
		off := st.Offset(target)
		b.Markers = append(b.Markers, barMarker{X: int(float64(off) / scale * barWidth), Name: st.Name + " " + duration(off), Ahead: off > elapsed})
	}
	b.Label = duration(elapsed) + " of " + duration(target) + " business time used (" + percent(float64(elapsed)/float64(max(target, 1))) + ")"
	return b
}

// timeline lists the ticket's status changes with what they did to its
// clocks, its first response and its alerts, in time order.
func timeline(t *watchdog.Ticket, p *watchdog.Policy) []timelineEntry {
	var out []timelineEntry
	st := p.Statuses
	prev := ""
	responded := false
	for i, ev := range t.Events {
		at := ev.UpdatedAt
		if i == 0 && t.CreatedAt.Before(at) {
			at = t.CreatedAt
		}
		e := timelineEntry{At: at, What: "status " + ev.Status, Kind: "status"}
		switch {
		case i == 0:
			e.What = "created as " + ev.Status
		case ev.Status == prev:
			e.What = "updated (status still " + ev.Status + ")"
		}
		if i > 0 && !responded && st.IsAwaitingResponse(prev) && !st.IsAwaitingResponse(ev.Status) &&
			(t.FirstResponseAt == nil || t.FirstResponseAt.After(at)) {
			responded = true
			e.Note = "first response: the response clock stops; "
		}
		switch {
		case st.IsResolved(ev.Status) && !st.IsResolved(prev):
			e.Note += "resolved: the clocks stop"
		case st.IsPaused(ev.Status) && !st.IsPaused(prev):
			e.Note += clocksMove(responded, t, at, "pause")
		case !st.IsPaused(ev.Status) && st.IsPaused(prev):
			e.Note += clocksMove(responded, t, at, "resume")
		case i > 0 && st.IsResolved(prev) && !st.IsResolved(ev.Status):
			e.Note += "reopened: the resolution clock resumes"
		}
		e.Note = strings.TrimSuffix(e.Note, "; ")
		out = append(out, e)
		prev = ev.Status
	}
	if t.FirstResponseAt != nil {
		out = append(out, timelineEntry{At: *t.FirstResponseAt, What: "first response", Note: "first_response_at: the response clock stops by then", Kind: "response"})
	}
	for _, a := range t.Alerts {
		out = append(out, timelineEntry{At: a.FiredAt, What: string(a.SLAClock) + " " + a.Stage + " fired",
			Note: a.Message + " (due " + when(a.DueAt) + ")", Kind: "alert"})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// clocksMove says that the clocks a pause moves do so: both, or only the
// resolution clock once the response clock has stopped.
func clocksMove(responded bool, t *watchdog.Ticket, at time.Time, verb string) string {
	if responded || t.FirstResponseAt != nil && !t.FirstResponseAt.After(at) {
		return "the resolution clock " + verb + "s"
	}
	return "the clocks " + verb
}
