package watchdog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Ack is an acknowledgement of one SLA clock of a ticket: someone is on it.
// Deliveries of the clock's later stages in the same cycle are recorded but
// not sent (DeliveryAcknowledged), until Until when set; the stages still
// fire and raise the escalation level.
type Ack struct {
	TicketID string   `json:"-"`
	SLAClock SLAClock `json:"sla_type"`
	// Cycle is the clock cycle acknowledged, the one running at the time,
	// by its identity as in StageKey: 0 for response and resolution, the
	// cycle's start in Unix microseconds for next reply and periodic update.
	Cycle int64  `json:"-"`
	By    string `json:"by"`
	Note  string `json:"note,omitempty"`
	// Until ends the acknowledgement; nil for as long as the cycle runs.
	Until *time.Time `json:"until,omitempty"`
	At    time.Time  `json:"acknowledged_at"`
	// RemindedAt is when the route's ack_timeout reminder went out; nil
	// until then.
	RemindedAt *time.Time `json:"reminded_at,omitempty"`
}

// MarshalJSON encodes the acknowledgement with, for a cycle of next reply
// or periodic update, the cycle's start as "cycle_started_at".
func (a Ack) MarshalJSON() ([]byte, error) {
	type plain Ack
	var started *time.Time
	if a.SLAClock.Cyclic() {
		t := time.UnixMicro(a.Cycle).UTC()
		started = &t
	}
	return json.Marshal(struct {
		plain
		CycleStartedAt *time.Time `json:"cycle_started_at,omitempty"`
	}{plain(a), started})
}

// Active reports whether the acknowledgement holds at now.
func (a Ack) Active(now time.Time) bool { return a.Until == nil || now.Before(*a.Until) }

// ackFor returns the ticket's acknowledgement of clock c's cycle that holds
// at now, or nil.
func (t *Ticket) ackFor(c SLAClock, cycle int64, now time.Time) *Ack {
	for i := range t.Acks {
		a := &t.Acks[i]
		if a.SLAClock == c && a.Cycle == cycle && a.Active(now) {
			return a
		}
	}
	return nil
}

// AckRequest asks Engine.Acknowledge to acknowledge a ticket's clocks.
type AckRequest struct {
	// SLAClock names one clock; empty acknowledges every running clock.
	SLAClock SLAClock
	By       string
	Note     string
	Until    *time.Time
}

// ErrClockStopped reports an acknowledgement of a clock that is not
// running (met, missed, paused counts as running).
var ErrClockStopped = errors.New("watchdog: SLA clock is not running")

// maxAckText bounds an acknowledgement's by and note.
const (
	maxAckBy   = 200
	maxAckNote = 2000
)

// validate checks a request at now: a *ValidationError naming each bad
// field, or nil.
func (r AckRequest) validate(now time.Time) error {
	var errs []FieldError
	bad := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	if r.SLAClock != "" && !slices.Contains(AllSLAClocks[:], r.SLAClock) {
		bad("sla_type", "must be response, resolution, next_reply or periodic_update")
	}
	switch {
	case strings.TrimSpace(r.By) == "":
		bad("by", "is required: who acknowledges")
	case len(r.By) > maxAckBy || !utf8.ValidString(r.By) || strings.ContainsRune(r.By, 0):
		bad("by", fmt.Sprintf("must be UTF-8 text without NUL of at most %d bytes", maxAckBy))
	}
	if len(r.Note) > maxAckNote || !utf8.ValidString(r.Note) || strings.ContainsRune(r.Note, 0) {
		bad("note", fmt.Sprintf("must be UTF-8 text without NUL of at most %d bytes", maxAckNote))
	}
	if r.Until != nil && !r.Until.After(now) {
		bad("until", "is not in the future")
	}
	if len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}

// Acknowledge acknowledges the running clocks of ticket id that req names
// (every running clock when it names none) and returns them. It fails with
// ErrNotFound for an unknown ticket, an error wrapping ErrInvalid for a bad
// request (a *ValidationError), and ErrClockStopped when a named clock, or every clock, is not
// running.
func (e *Engine) Acknowledge(ctx context.Context, id string, req AckRequest) ([]Ack, error) {
	now := e.clock.Now()
	if err := req.validate(now); err != nil {
		return nil, err
	}
	view, err := e.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	var acks []Ack
	for _, c := range AllSLAClocks {
		if req.SLAClock != "" && req.SLAClock != c {
			continue
		}
		v := view.SLAClocks[c]
		if v == nil || !v.running() {
			continue
		}
		var cycle int64 // the running cycle's identity, as in StageKey
		if v.CycleStartedAt != nil {
			cycle = v.CycleStartedAt.UnixMicro()
		}
		acks = append(acks, Ack{TicketID: id, SLAClock: c, Cycle: cycle, By: req.By, Note: req.Note, Until: req.Until, At: now})
	}
	if len(acks) == 0 {
		if req.SLAClock != "" {
			return nil, fmt.Errorf("%w: the %s clock of ticket %q", ErrClockStopped, req.SLAClock, id)
		}
		return nil, fmt.Errorf("%w: ticket %q has no running clock", ErrClockStopped, id)
	}
	if err := e.store.Acknowledge(ctx, id, acks); err != nil {
		return nil, err
	}
	e.log.Info("clock acknowledged", "ticket_id", id, "clocks", len(acks), "by", req.By)
	e.tellAcknowledged(acks)
	e.remind.add(acks)
	e.remindLoop.Wake()
	return acks, nil
}

// tellAcknowledged tells the notifiers that track acknowledgements
// (AckNotifier) of acks, in the background, each within DeliveryTimeout;
// a failure is logged, not retried.
func (e *Engine) tellAcknowledged(acks []Ack) {
	tellInBackground(e, func(ctx context.Context, name string, an AckNotifier) {
		for _, a := range acks {
			if err := an.Acknowledged(ctx, a); err != nil {
				e.log.Warn("telling a notifier of an acknowledgement failed; not retried", "notifier", name,
					"ticket_id", a.TicketID, "sla_type", a.SLAClock, "err", errorText(err))
			}
		}
	})
}

// tellInBackground calls tell with each notifier that is an N, each in a
// goroutine of its own with a context of DeliveryTimeout; Close waits for
// them (e.background).
func tellInBackground[N Notifier](e *Engine, tell func(ctx context.Context, name string, n N)) {
	names, named := e.notifierSet()
	for _, name := range names {
		n, ok := named[name].(N)
		if !ok {
			continue
		}
		e.background.Add(1)
		go func() {
			defer e.background.Done()
			ctx, cancel := context.WithTimeout(context.Background(), e.cfg.DeliveryTimeout)
			defer cancel()
			tell(ctx, name, n)
		}()
	}
}

// Unacknowledge removes the acknowledgement of clock c of ticket id (every
// clock's when c is empty) and returns how many it removed.
func (e *Engine) Unacknowledge(ctx context.Context, id string, c SLAClock) (int, error) {
	if c != "" && !slices.Contains(AllSLAClocks[:], c) {
		return 0, &ValidationError{Errors: []FieldError{{Field: "sla_type", Message: "must be response, resolution, next_reply or periodic_update"}}}
	}
	var clocks []SLAClock
	if c != "" {
		clocks = []SLAClock{c}
	}
	return e.store.Unacknowledge(ctx, id, clocks)
}

// running reports whether the clock has a cycle running (paused counts):
// not met, missed or idle.
func (v *SLAClockView) running() bool {
	return v.State != StateMet && v.State != StateMissed && v.State != StateIdle
}

// closedTickets collects, across the plans of one ingest, the clock
// cycles with alerts that the ingest ends: those whose clock stops in it
// (a first response stops the response clock, an agent reply a next-reply
// cycle: their outcome is recorded stopped for the first time), and, when
// it closes the ticket, every other cycle with alerts not stopped before.
// Each cycle is thus told once. A store may plan a ticket twice (a retried
// transaction): the last plan counts.
type closedTickets struct {
	mu  sync.Mutex
	ids map[string][]StageKey // clock cycles (Stage unset) by ticket id
}

func (c *closedTickets) wrap(plan PlanFunc) PlanFunc {
	return func(t *Ticket) Plan {
		pl := plan(t)
		cycles := endedCycles(t, pl)
		c.mu.Lock()
		if c.ids == nil {
			c.ids = map[string][]StageKey{}
		}
		c.ids[t.ID] = cycles
		c.mu.Unlock()
		return pl
	}
}

// endedCycles returns the clock cycles with alerts of t that plan pl ends:
// stopped for the first time, or, when pl closes the ticket, not stopped
// before.
func endedCycles(t *Ticket, pl Plan) []StageKey {
	if len(t.Alerts) == 0 {
		return nil
	}
	stopped := map[OutcomeKey]bool{}
	for _, o := range firstStopped(t.Outcomes, pl.Outcomes) {
		stopped[o.Key()] = true
	}
	stoppedBefore := map[OutcomeKey]bool{}
	for i := range t.Outcomes {
		if t.Outcomes[i].Stopped() {
			stoppedBefore[t.Outcomes[i].Key()] = true
		}
	}
	closing := t.Open && !pl.Open
	var cycles []StageKey
	for _, a := range t.Alerts {
		k := StageKey{SLAClock: a.SLAClock, Cycle: a.Key().Cycle}
		ok := OutcomeKey{SLAClock: k.SLAClock, Cycle: k.Cycle}
		if (stopped[ok] || (closing && !stoppedBefore[ok])) && !slices.Contains(cycles, k) {
			cycles = append(cycles, k)
		}
	}
	return cycles
}

// closedCycle is one clock cycle of a ticket an ingest ended.
type closedCycle struct {
	ticketID string
	key      StageKey // Stage unset
}

// cycles returns the closed clock cycles.
func (c *closedTickets) cycles() []closedCycle {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []closedCycle
	for id, ks := range c.ids {
		for _, k := range ks {
			out = append(out, closedCycle{ticketID: id, key: k})
		}
	}
	return out
}

// tellResolved tells the notifiers that close incidents (ResolveNotifier)
// of the clock cycles an ingest ended, in the background, each within
// DeliveryTimeout; a failure is logged, not retried.
func (e *Engine) tellResolved(cycles []closedCycle) {
	if len(cycles) == 0 {
		return
	}
	tellInBackground(e, func(ctx context.Context, name string, rn ResolveNotifier) {
		for _, c := range cycles {
			if err := rn.Resolved(ctx, c.ticketID, c.key.SLAClock, c.key.Cycle); err != nil {
				e.log.Warn("telling a notifier of an ended clock cycle failed; not retried", "notifier", name,
					"ticket_id", c.ticketID, "sla_type", c.key.SLAClock, "err", errorText(err))
			}
		}
	})
}
