package watchdog

import (
	"context"
	"slices"
	"sort"
	"time"
)

// This file is the contract between the engine and a store: the Store
// interface and what an implementation needs to honour it (Plan, PlanFunc,
// DeliveryOutcome, DeliveryClaim, Ticket.Merge). Users of the library pick a
// store (store/sqlite, store/postgres) and never call these themselves; a
// new store must pass the conformance suite in store/storetest.

// Store persists tickets, their timelines, alerts and the delivery outbox.
// Library users choose one (store/sqlite, store/postgres) and hand it to New;
// the methods are the engine's, not theirs to call.
// Implementations must be safe for concurrent use, and several processes may
// share one (the Postgres store): claims skip rows another holds and unique
// keys make each stage fire once. No method reads every ticket.
type Store interface {
	// Ingest merges validated events into the stored timelines (an event
	// whose (id, updated_at) is stored changes nothing; events of one id in
	// one batch are all merged) and calls plan once per ticket the batch
	// changed, with the merged ticket, storing the result. All in one
	// transaction: on error nothing of the batch is written. It returns the
	// batch's tickets (changed or not, without Events and Alerts), in order
	// of first appearance in the batch.
	Ingest(ctx context.Context, events []Event, plan PlanFunc) ([]*Ticket, error)

	// EvaluateDue claims up to limit tickets with NextDueAt <= now, skipping
	// tickets another evaluator holds, calls plan for each and stores the
	// results with their alerts and deliveries, atomically. It returns the
	// alerts recorded, each with the deliveries recorded for it (Alert unset)
	// in notifier name order.
	EvaluateDue(ctx context.Context, now time.Time, limit int, plan PlanFunc) ([]Alert, error)

	// NextDue returns the earliest NextDueAt of any ticket; ok is false when
	// no ticket is due ever.
	NextDue(ctx context.Context) (at time.Time, ok bool, err error)

	// Replan calls plan for up to limit open tickets with id > after, in id
	// order, and stores the results (not alerts). It returns the last id seen
	// and how many tickets it visited; a visit count below limit means the
	// pass is over. The engine calls it after a policy change.
	Replan(ctx context.Context, after string, limit int, plan PlanFunc) (last string, n int, err error)

	// Ticket returns one ticket with Events and Alerts (each with its
	// Deliveries), or ErrNotFound.
	Ticket(ctx context.Context, id string) (*Ticket, error)

	// Dashboard returns a page of tickets and the number of tickets
	// matching the filters, counting no further than q.CountLimit+1 when
	// it is set. The tickets come without Events and Alerts, unless
	// q.Clocks asks for them (Alerts without their Deliveries).
	Dashboard(ctx context.Context, q DashboardQuery) (tickets []*Ticket, total int, err error)

	// Alerts returns recorded alerts with q.AfterID < ID (and ID <
	// q.BeforeID when that is set), highest id first, at most q.Limit,
	// without their Deliveries. Ids grow as alerts are recorded, so the
	// highest are the newest.
	Alerts(ctx context.Context, q AlertsQuery) ([]Alert, error)

	// ClaimDeliveries claims for c.Holder up to c.Limit pending deliveries
	// to c.Notifier whose NextAttemptAt <= c.Now, skipping rows another
	// claimer holds. Each claim increments Attempts, records the holder and
	// sets NextAttemptAt to c.Until, so that the row stays out of other
	// claims while its holder's heartbeat lasts (see RescueDeliveries).
	// Delivery.Alert is filled. Claims are per notifier so that a slow
	// notifier's backlog never holds up the others.
	ClaimDeliveries(ctx context.Context, c DeliveryClaim) ([]Delivery, error)

	// Heartbeat records that holder, a claimer of deliveries, is alive
	// until until (creating its record on the first call).
	Heartbeat(ctx context.Context, holder string, until time.Time) error

	// RescueDeliveries frees the deliveries of every holder whose
	// heartbeat ended at or before now: its pending deliveries lose their
	// holder and come due at now, Attempts unchanged, and its record is
	// removed. It returns how many deliveries it freed and the earliest end
	// of the heartbeat of a remaining holder other than self (zero when
	// there is none), when the next rescue may be needed.
	RescueDeliveries(ctx context.Context, now time.Time, self string) (freed int, next time.Time, err error)

	// FinishDeliveries records the outcomes of attempts, all in one
	// transaction, and clears each delivery's holder. An outcome is ignored
	// when its delivery was claimed again since (Attempt differs) or is no
	// longer pending.
	FinishDeliveries(ctx context.Context, outcomes []DeliveryOutcome) error

	// NextDelivery returns the earliest NextAttemptAt of any pending
	// delivery to the named notifier.
	NextDelivery(ctx context.Context, notifier string) (at time.Time, ok bool, err error)

	// UnsentAlerts returns up to limit alerts with ID > after, in ID order,
	// that have a pending delivery never attempted and not claimed, each
	// with all its Deliveries: what a policy change may re-route.
	UnsentAlerts(ctx context.Context, after int64, limit int) ([]Alert, error)

	// Reroute applies r in one transaction; see Reroute.
	Reroute(ctx context.Context, r Reroute) error

	// Acknowledge stores acks of ticket id, each replacing an earlier ack
	// of its clock; ErrNotFound when the ticket is unknown.
	Acknowledge(ctx context.Context, id string, acks []Ack) error

	// Unacknowledge removes the acks of ticket id's clocks (every clock's
	// when clocks is empty) and returns how many it removed; ErrNotFound
	// when the ticket is unknown.
	Unacknowledge(ctx context.Context, id string, clocks []SLAClock) (int, error)

	// PendingReminders returns the acks of open tickets whose reminder
	// (RemindedAt) has not gone out, at most limit, in (ticket, clock)
	// order after the given ticket id.
	PendingReminders(ctx context.Context, after string, limit int) ([]Ack, error)

	// MarkReminded records at as the reminder instant of ack (matched by
	// ticket, clock and At) unless one is recorded, and reports whether it
	// recorded it: of several engines, one sends the reminder.
	MarkReminded(ctx context.Context, ack Ack, at time.Time) (bool, error)

	// SubscribeAlerts streams alerts recorded from now on by any process
	// sharing the store, until ctx is done. A subscriber that falls behind
	// may miss alerts; it never blocks the writer.
	SubscribeAlerts(ctx context.Context) (<-chan Alert, error)

	// SLAReport aggregates the outcome rows and the tickets' open clocks
	// (Ticket.OpenClocks) as q asks (see SLAReportQuery; q is valid and
	// its Now set), one row per group with clocks, in no particular order.
	SLAReport(ctx context.Context, q SLAReportQuery) ([]SLAReportRow, error)

	// SLAOutcomes calls fn for each outcome row q selects (as SLAReport
	// would count it; open clocks that never stopped have none), ordered
	// by the instant that selects it (rows of one instant in no particular
	// order), reading them as it goes: memory does not grow with their
	// number. An error from fn stops it and is returned.
	SLAOutcomes(ctx context.Context, q SLAReportQuery, fn func(*Outcome) error) error

	// BackfillOutcomes calls plan for up to limit tracked tickets with id >
	// after whose outcomes were never derived (OpenClocks.Calendar empty:
	// stored before outcomes were recorded), in id order, and stores the
	// plans' outcomes and open clocks (nothing else). It returns the last id seen and how
	// many tickets it visited; fewer than limit means the pass is over.
	BackfillOutcomes(ctx context.Context, after string, limit int, plan PlanFunc) (last string, n int, err error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}

// PlanFunc (for Store implementations) decides a ticket's derived columns
// and new alerts. Stores call it inside their transaction with the ticket's
// current fields, its whole timeline (Events) and its alerts so far
// (Alerts), and persist the Plan.
type PlanFunc func(t *Ticket) Plan

// Plan (for Store implementations) is what the engine decided for one
// ticket; the store persists it.
type Plan struct {
	State     TicketState
	Untracked string
	Open      bool
	// Policy is stored as the ticket's Ticket.Policy.
	Policy    string
	NextDueAt *time.Time
	BreachAt  *time.Time
	// BackfilledAt is stored as the ticket's Ticket.BackfilledAt (nil
	// clears it) and given back to later plans. The engine sets it to the
	// instant of an ingest or policy change that finds stages already due
	// which were not due before it: when those fire, they count as
	// backfilled (imported late) rather than late (see Observer.AlertFired).
	BackfilledAt *time.Time
	// Alerts to record. The store skips any whose (ticket, clock, stage,
	// cycle) is already recorded; for each it records, it raises the
	// ticket's escalation level by one (setting Alert.EscalationLevel to the
	// new level), enqueues one pending delivery per name in Notifiers with
	// NextAttemptAt = the alert's FiredAt, and publishes the alert to
	// subscribers after commit. Only Store.EvaluateDue records alerts.
	Alerts []Alert
	// Outcomes are the ticket's SLA outcomes as they stand (see
	// EvaluateOutcomes). The store splits them (SplitOutcomes): it writes
	// the rows that differ from Ticket.Outcomes, inserting or replacing by
	// (ticket, clock, cycle identity: OutcomeKey), deletes the rows of
	// cycles the plan replaces (a cycle a late message moved: see
	// PriorOutcome) or no longer has in progress, and writes the open
	// clocks on the ticket's row, in the plan's transaction.
	Outcomes  []Outcome
	Notifiers []string
	// Routed, when not nil, replaces Notifiers: the deliveries of each
	// alert by its StageKey (none for an alert it leaves out), as a
	// notification policy's routes chose them.
	Routed map[StageKey][]PlannedDelivery
	// Supersede names deliveries of alerts recorded earlier that the
	// store marks DeliverySuperseded, in the same transaction, when they
	// are still pending, never attempted and not claimed (a higher stage
	// of their clock cycle is queued for the same receiver now); others
	// are left alone.
	Supersede []DeliveryRef
	// Claimed names those of Notifiers whose deliveries the caller sends
	// itself right after the commit (the engine's hand-off). The store
	// records them already claimed by ClaimedBy until ClaimedUntil, as
	// ClaimDeliveries would have: Attempts 1, the holder, and NextAttemptAt
	// = ClaimedUntil.
	Claimed      []string
	ClaimedBy    string
	ClaimedUntil time.Time
}

// Reroute (for Store implementations) re-routes unsent deliveries after a
// policy change. Cancel and Hold apply only to deliveries still pending,
// never attempted and unclaimed (others are left alone): Cancel marks them
// DeliveryCancelled, Hold moves their NextAttemptAt and HeldUntil to
// HeldUntil (Now and no hold when zero). Add inserts a delivery for each
// alert and notifier that has none, pending (due at Now, or held) or with
// its Status.
type Reroute struct {
	Now    time.Time
	Cancel []DeliveryRef
	Hold   []DeliveryHold
	Add    []DeliveryAdd
}

// DeliveryHold (for Store implementations) is a new hold of a delivery.
type DeliveryHold struct {
	DeliveryRef
	HeldUntil time.Time
}

// DeliveryAdd (for Store implementations) is a delivery Reroute inserts.
type DeliveryAdd struct {
	AlertID int64
	PlannedDelivery
}

// DeliveryRef (for Store implementations) names the delivery of one alert
// to one notifier.
type DeliveryRef struct {
	AlertID  int64
	Notifier string
}

// PlannedDelivery (for Store implementations) is one delivery a plan
// enqueues for an alert.
type PlannedDelivery struct {
	Notifier string
	// Status is DeliveryPending (or empty), or DeliverySuperseded or
	// DeliveryAcknowledged for a row recorded without being sent.
	Status DeliveryStatus
	// HeldUntil, when set, holds a pending delivery until then: its
	// NextAttemptAt and HeldUntil; it is never claimed by the plan.
	HeldUntil time.Time
}

// DeliveryOutcome (for Store implementations) is what became of one
// delivery attempt, as reported to Store.FinishDeliveries.
type DeliveryOutcome struct {
	ID int64
	// Attempt is the Delivery.Attempts value of the claim this outcome is
	// for; the store ignores the outcome when the delivery was claimed again
	// since (its attempts no longer equal Attempt).
	Attempt int
	// Status is DeliveryDelivered, DeliveryFailed (given up), or
	// DeliveryPending to retry at RetryAt.
	Status   DeliveryStatus
	RetryAt  time.Time
	Error    string
	Finished time.Time
	// Unsent marks a pending outcome whose attempt does not count: a
	// delivery handed back without an attempt (the engine stopping, or a
	// claim it may no longer send under), or one its destination refused
	// with a wait (a rate limit). The store takes back the attempt the claim
	// counted, so that only real attempts count towards the limit, and
	// records Error as the last error when it is set (keeping the last one
	// otherwise).
	Unsent bool
}

// DeliveryClaim (for Store implementations) asks Store.ClaimDeliveries for
// the due deliveries of one notifier.
type DeliveryClaim struct {
	Notifier string
	// Holder is the claimer's id, whose heartbeat keeps the claim.
	Holder string
	Now    time.Time
	Limit  int
	// Until is the claimed rows' new NextAttemptAt: a backstop far ahead.
	Until time.Time
}

// Merge (for Store implementations) folds events into the ticket's
// timeline: an event whose updated_at is already present is ignored, the
// others are inserted in time order, and the ticket's current fields are
// taken from the latest event (its attributes and tags from the latest
// event that carries them). Every event's messages are merged into
// Messages, also those of an event already present. It reports whether
// anything changed. Both stores merge with it (through MergeEvent), so the
// rules exist once; the conformance suite (store/storetest) pins them for
// any other store.
func (t *Ticket) Merge(events ...Event) bool {
	changed, added := false, false
	for _, ev := range events {
		a, fresh := t.mergeEvent(ev)
		added = added || a
		changed = changed || a || len(fresh) > 0
	}
	if added {
		t.applyLatest()
	}
	return changed
}

// MergeEvent (for Store implementations) merges one event as Merge does.
// It reports whether the event joined the timeline (a store writes it) and
// which of its messages are new (a store writes those).
func (t *Ticket) MergeEvent(ev Event) (added bool, fresh []Message) {
	added, fresh = t.mergeEvent(ev)
	if added {
		t.applyLatest()
	}
	return added, fresh
}

// mergeEvent is MergeEvent without taking the current fields from the
// timeline.
func (t *Ticket) mergeEvent(ev Event) (added bool, fresh []Message) {
	fresh = t.MergeMessages(ev.Messages)
	ev.Messages = nil
	i := sort.Search(len(t.Events), func(i int) bool { return !t.Events[i].UpdatedAt.Before(ev.UpdatedAt) })
	if i < len(t.Events) && t.Events[i].UpdatedAt.Equal(ev.UpdatedAt) {
		return false, fresh
	}
	t.Events = append(t.Events, Event{})
	copy(t.Events[i+1:], t.Events[i:])
	t.Events[i] = ev
	return true, fresh
}

func (t *Ticket) applyLatest() {
	if len(t.Events) == 0 {
		return
	}
	last := t.Events[len(t.Events)-1]
	t.ID = last.ID
	t.Priority = last.Priority
	t.CustomerTier = last.CustomerTier
	t.Status = last.Status
	t.CreatedAt = last.CreatedAt
	t.UpdatedAt = last.UpdatedAt
	t.FirstResponseAt = nil
	t.Attributes, t.Tags = nil, nil
	attrs, tags := false, false
	for i := len(t.Events) - 1; i >= 0 && !(attrs && tags); i-- {
		ev := &t.Events[i]
		if !attrs && ev.Attributes != nil {
			attrs, t.Attributes = true, cloneAttributes(ev.Attributes)
		}
		if !tags && ev.Tags != nil {
			tags, t.Tags = true, cloneTags(ev.Tags)
		}
	}
	for _, ev := range t.Events {
		if ev.FirstResponseAt != nil && (t.FirstResponseAt == nil || ev.FirstResponseAt.Before(*t.FirstResponseAt)) {
			fr := *ev.FirstResponseAt
			t.FirstResponseAt = &fr
		}
	}
}

// cloneAttributes copies attributes; an empty set is nil (none).
func cloneAttributes(a map[string]string) map[string]string {
	if len(a) == 0 {
		return nil
	}
	out := make(map[string]string, len(a))
	for k, v := range a {
		out[k] = v
	}
	return out
}

// cloneTags copies tags without duplicates, in order; none is nil.
func cloneTags(tags []string) []string {
	var out []string
	for _, tag := range tags {
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out
}

// DeliveryLookahead is implemented by a Store that can look for a
// notifier's next pending delivery within a window only. A notifier's
// claim loop wants that instant only when it comes before the loop's next
// sweep (Config.SweepInterval), and asks with this instead of
// NextDelivery when the store has it. On PostgreSQL the unbounded search
// steps over the index entries every delivery handed off from an
// evaluation leaves behind once it is sent (due at its claim's backstop,
// an hour ahead, until a vacuum removes them): 0.2 to 1.4 ms a call,
// 30 to 180 calls in a burst of 60,000 stages.
type DeliveryLookahead interface {
	Store
	// NextDeliveryBefore is NextDelivery limited to instants before
	// before: the earliest NextAttemptAt before it of any pending delivery
	// to the named notifier, ok false when there is none.
	NextDeliveryBefore(ctx context.Context, notifier string, before time.Time) (at time.Time, ok bool, err error)
}
