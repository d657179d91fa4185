// Package fakeclock stands for a user's own code built on Ticket Watchdog,
// and its test shows how to unit-test such code against the real engine with
// the fake clock of package watchdogtest: SLA deadlines of hours pass in
// microseconds, and nothing sleeps.
//
// The code under test is an escalation policy: it receives every alert
// through a watchdog.NotifierFunc and pages the on-call engineer once per
// ticket, when the ticket's escalation level reaches a threshold.
package fakeclock

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ticket-watchdog/watchdog"
)

// Pager pages the on-call engineer (PagerDuty, Opsgenie, a phone call...).
type Pager interface {
	Page(ctx context.Context, ticketID, reason string) error
}

// Escalation pages on-call once per ticket when an alert brings the ticket
// to MinLevel or above. With the seed's policy a ticket's first alert is
// the response clock's alert stage (level 1) and the second its breach
// (level 2), so MinLevel 2 pages on the first breach.
//
// It remembers the tickets it paged in memory: after a restart a ticket may
// be paged once more, which suits an on-call rotation better than a missed
// page. It is safe for concurrent use, as the engine delivers alerts from
// several goroutines.
type Escalation struct {
	// MinLevel is the escalation level that pages.
	MinLevel int
	// Pager receives the pages.
	Pager Pager

	mu    sync.Mutex
	paged map[string]bool
}

// NewEscalation returns an Escalation that pages through p from level
// minLevel on.
func NewEscalation(p Pager, minLevel int) (*Escalation, error) {
	if p == nil {
		return nil, errors.New("escalation: pager is nil")
	}
	if minLevel < 1 {
		return nil, fmt.Errorf("escalation: minimum level must be 1 or more, got %d", minLevel)
	}
	return &Escalation{MinLevel: minLevel, Pager: p, paged: map[string]bool{}}, nil
}

// Notifier returns the Escalation as a watchdog.Notifier, to register in
// watchdog.Config.Notifiers.
func (e *Escalation) Notifier() watchdog.Notifier {
	return watchdog.NotifierFunc(e.deliver)
}

// deliver pages for alerts at or above MinLevel, once per ticket. A failed
// page is retryable: the engine's outbox tries the alert again later.
func (e *Escalation) deliver(ctx context.Context, a watchdog.Alert) (retry bool, err error) {
	if a.EscalationLevel < e.MinLevel {
		return false, nil
	}
	// Claim the ticket before paging, so that two alerts delivered at once
	// page once; give the claim back when the page fails, as the failed
	// alert will be retried.
	e.mu.Lock()
	if e.paged[a.TicketID] {
		e.mu.Unlock()
		return false, nil
	}
	e.paged[a.TicketID] = true
	e.mu.Unlock()
	reason := fmt.Sprintf("ticket %s (%s, %s) reached escalation level %d: %s", a.TicketID, a.CustomerTier, a.Priority, a.EscalationLevel, a.Message)
	if err := e.Pager.Page(ctx, a.TicketID, reason); err != nil {
		e.mu.Lock()
		delete(e.paged, a.TicketID)
		e.mu.Unlock()
		return true, fmt.Errorf("escalation: paging on-call for ticket %s: %w", a.TicketID, err)
	}
	return false, nil
}
