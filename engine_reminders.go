package watchdog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// reminderPage is how many pending reminders one store read loads.
const reminderPage = 1000

// reminders are the acknowledgements whose route's ack_timeout reminder
// may still be due: loaded from the store once (PendingReminders), then
// kept as acknowledgements are made.
type reminders struct {
	mu     sync.Mutex
	acks   map[StageKey]Ack // by ticket (Stage) and clock
	loaded bool
}

func reminderKey(a Ack) StageKey { return StageKey{Stage: a.TicketID, SLAClock: a.SLAClock} }

// add keeps acks as pending reminders.
func (r *reminders) add(acks []Ack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.acks == nil {
		r.acks = map[StageKey]Ack{}
	}
	for _, a := range acks {
		r.acks[reminderKey(a)] = a
	}
}

func (r *reminders) remove(a Ack) {
	r.mu.Lock()
	delete(r.acks, reminderKey(a))
	r.mu.Unlock()
}

func (r *reminders) snapshot() []Ack {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Ack, 0, len(r.acks))
	for _, a := range r.acks {
		out = append(out, a)
	}
	return out
}

// load reads the pending reminders from the store on the first step that
// needs them.
func (e *Engine) loadReminders(ctx context.Context) error {
	e.remind.mu.Lock()
	loaded := e.remind.loaded
	e.remind.mu.Unlock()
	if loaded {
		return nil
	}
	after := ""
	for {
		page, err := e.store.PendingReminders(ctx, after, reminderPage)
		if err != nil {
			return fmt.Errorf("watchdog: load acknowledgement reminders: %w", err)
		}
		e.remind.add(page)
		if len(page) < reminderPage {
			break
		}
		after = page[len(page)-1].TicketID
	}
	e.remind.mu.Lock()
	e.remind.loaded = true
	e.remind.mu.Unlock()
	return nil
}

// reminderStep sends the ack_timeout reminders that are due: an
// acknowledged clock still breached as long after its acknowledgement as
// the ack_timeout of the routes its latest alert goes through gets one
// reminder to their receivers (a new message, not a stage sent again;
// once, as the store's MarkReminded decides, and not retried). It returns
// when to look again.
func (e *Engine) reminderStep(ctx context.Context, now time.Time) (time.Time, error) {
	n := e.policy.Load().Notifications
	earliest := n.minAckTimeout()
	if earliest == 0 {
		return time.Time{}, nil // woken when a policy with ack_timeout acknowledges
	}
	if err := e.loadReminders(ctx); err != nil {
		return time.Time{}, err
	}
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, ack := range e.remind.snapshot() {
		if !ack.Active(now) {
			e.remind.remove(ack)
			continue
		}
		if check := ack.At.Add(earliest); check.After(now) {
			later(check)
			continue
		}
		due, err := e.remindIfDue(ctx, n, ack, now)
		if err != nil {
			return time.Time{}, err
		}
		if !due.IsZero() {
			later(due)
		}
	}
	return next, nil
}

// remindIfDue handles one pending reminder at now: it returns when it is
// due when that is later, and otherwise sends it (or drops it: the
// acknowledgement changed, or the clock is not breached at its instant).
func (e *Engine) remindIfDue(ctx context.Context, n *Notifications, ack Ack, now time.Time) (time.Time, error) {
	view, err := e.Ticket(ctx, ack.TicketID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			e.remind.remove(ack)
			return time.Time{}, nil
		}
		return time.Time{}, err
	}
	current := view.ackFor(ack.SLAClock, ack.Cycle, now)
	if current == nil || !current.At.Equal(ack.At) || current.RemindedAt != nil {
		e.remind.remove(ack)
		return time.Time{}, nil
	}
	var latest *Alert
	for i := range view.Alerts {
		if a := &view.Alerts[i]; a.SLAClock == ack.SLAClock && a.Key().Cycle == ack.Cycle {
			latest = a
		}
	}
	clock := view.SLAClocks[ack.SLAClock]
	if latest == nil || clock == nil || clock.State != StateBreach {
		e.remind.remove(ack) // not breached when the reminder would go
		return time.Time{}, nil
	}
	d, receivers := n.ackTimeout(*latest, view.Ticket)
	if d == 0 {
		e.remind.remove(ack)
		return time.Time{}, nil
	}
	if due := ack.At.Add(d); due.After(now) {
		return due, nil
	}
	won, err := e.store.MarkReminded(ctx, ack, now)
	if err != nil {
		return time.Time{}, err
	}
	e.remind.remove(ack)
	if won {
		e.sendReminder(ctx, *latest, ack, receivers, now)
	}
	return time.Time{}, nil
}

// sendReminder sends the reminder about ack, as a copy of the clock's
// latest alert whose message says so, to each receiver, once.
func (e *Engine) sendReminder(ctx context.Context, latest Alert, ack Ack, receivers []string, now time.Time) {
	r := latest
	r.Deliveries, r.DeliveryID, r.AcknowledgedBy = nil, 0, ack.By
	r.Message = fmt.Sprintf("Reminder: acknowledged by %s %s ago and still breached. %s", ack.By, shortDuration(now.Sub(ack.At).Round(time.Second)), latest.Message)
	for _, name := range receivers {
		nt := e.notifier(name)
		if nt == nil {
			continue
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.DeliveryTimeout)
		_, err := deliverSafely(sctx, nt, r)
		cancel()
		if err != nil {
			e.log.Warn("acknowledgement reminder not delivered; not retried", "notifier", name, "ticket_id", ack.TicketID,
				"sla_type", ack.SLAClock, "err", errorText(err))
			continue
		}
		e.log.Info("acknowledgement reminder sent", "notifier", name, "ticket_id", ack.TicketID, "sla_type", ack.SLAClock)
	}
}
