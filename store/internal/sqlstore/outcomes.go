package sqlstore

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// OutcomeCols are the columns of sla_outcomes, in the order ScanOutcome
// functions read them and writes take them.
// The key is (ticket_id, sla_type, cycle): cycle is the cycle's identity
// (watchdog.OutcomeKey), cycle_ordinal its number for display.
const OutcomeCols = "ticket_id, sla_type, cycle, policy, tier, priority, calendar, target_seconds, started_at, stopped_at, " +
	"business_seconds, paused_seconds, breached, breach_at, overrun_seconds, recorded_at, cycle_ordinal"

// Outcomes reads the outcomes of the tickets ids, by ticket id.
func (l *Loaders) Outcomes(ctx context.Context, q Queryer, ids []string) (map[string][]watchdog.Outcome, error) {
	return loadByTicket(ctx, q, "outcomes", l.OutcomesSQL, l.IDs, ids, l.ScanOutcome, func(o watchdog.Outcome) string { return o.TicketID })
}

// FillPlan loads what a plan of tickets sees: their timelines, alerts and
// outcomes.
func (l *Loaders) FillPlan(ctx context.Context, q Queryer, tickets []*watchdog.Ticket) error {
	if err := l.Fill(ctx, q, tickets); err != nil {
		return err
	}
	return l.fillOutcomes(ctx, q, tickets)
}

func (l *Loaders) fillOutcomes(ctx context.Context, q Queryer, tickets []*watchdog.Ticket) error {
	var ids []string
	for _, t := range tickets {
		// Both clocks open and never stopped, no messages: no rows to
		// read (cycles start at or after a first response).
		if t.OpenClocks.Calendar != "" && t.OpenClocks.Response && t.OpenClocks.Resolution && len(t.Messages) == 0 {
			continue
		}
		ids = append(ids, t.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	outcomes, err := l.Outcomes(ctx, q, ids)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		t.Outcomes = outcomes[t.ID]
	}
	return nil
}

// OutcomeWrites are the outcome rows plans change: rows to insert or
// replace by key, and stale rows to delete by key.
type OutcomeWrites struct {
	Upserts, Stale []watchdog.Outcome
}

// Add appends x's writes to w.
func (w *OutcomeWrites) Add(x OutcomeWrites) {
	w.Upserts = append(w.Upserts, x.Upserts...)
	w.Stale = append(w.Stale, x.Stale...)
}

// ChangedOutcomes returns the outcome rows of planned (see
// watchdog.SplitOutcomes) that differ from those of prior (the ticket's
// rows), to insert or replace by key, with times at stored precision; and
// the rows of prior that planned replaces, to delete: a cycle's row under
// its old key when a late message moved the cycle's start (the planned
// cycle continues it, see watchdog.PriorOutcome), and cycles in progress
// that no longer exist. A stopped cycle that no planned cycle continues
// stays recorded (a policy that stops tracking its clock does not change
// past compliance).
func ChangedOutcomes(prior, planned []watchdog.Outcome) OutcomeWrites {
	var w OutcomeWrites
	keys := make(map[watchdog.OutcomeKey]bool, len(planned))
	for _, o := range planned {
		keys[o.Key()] = true
		if !watchdog.RecordedOutcome(&o) && o.Cycle == 0 && (o.SLAClock == watchdog.Response || o.SLAClock == watchdog.Resolution) {
			continue // on the ticket's row
		}
		if o.SLAClock.Cyclic() {
			var stop time.Time
			if o.StoppedAt != nil {
				stop = *o.StoppedAt
			}
			if p := watchdog.PriorOutcome(prior, &o, stop); p != nil && p.Key() != o.Key() {
				w.Stale = append(w.Stale, *p)
			}
		}
		o.StartedAt = micro(o.StartedAt)
		o.StoppedAt, o.BreachAt, o.RecordedAt = microPtr(o.StoppedAt), microPtr(o.BreachAt), microPtr(o.RecordedAt)
		i := slices.IndexFunc(prior, func(p watchdog.Outcome) bool { return p.Key() == o.Key() })
		if i >= 0 && prior[i].Equal(&o) {
			continue
		}
		w.Upserts = append(w.Upserts, o)
	}
	for _, p := range prior {
		if p.SLAClock.Cyclic() && !p.Stopped() && !keys[p.Key()] &&
			!slices.ContainsFunc(w.Stale, func(s watchdog.Outcome) bool { return s.Key() == p.Key() }) {
			w.Stale = append(w.Stale, p)
		}
	}
	w.Stale = slices.DeleteFunc(w.Stale, func(s watchdog.Outcome) bool { return keys[s.Key()] })
	return w
}

func microPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := micro(*t)
	return &v
}

// NormKey is a tier or priority as outcomes record it (trimmed, lower
// case), for open clocks read from a ticket's row.
func NormKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ReportKeyCols are the sla_outcomes columns of the report keys, in
// ReportRow's order; each is named as its key.
var ReportKeyCols = []string{"policy", "tier", "priority", "sla_type", "calendar"}

// ReportRow is one outcome as a report reads it: At is the instant that
// selects it (its stop, or its start), in unix microseconds, as BreachAt
// (HasBreachAt false: none). Keys the report does not group by may be left
// empty.
type ReportRow struct {
	Policy, Tier, Priority, SLAType, Calendar string
	At, BreachAt                              int64
	HasBreachAt, Stopped, Breached            bool
	Business, Overrun                         int64
}

// Aggregator sums ReportRows into the rows of a report, for stores that
// read the outcomes rather than aggregate them in SQL.
type Aggregator struct {
	q      watchdog.SLAReportQuery
	bounds []time.Time
	micros []int64 // bounds in unix microseconds
	now    int64
	groups map[groupKey]*group
}

type groupKey struct {
	policy, tier, priority, slaType, calendar string
	period                                    int
}

type group struct {
	row      watchdog.SLAReportRow
	business []int64
}

// NewAggregator starts a report for q (validated, Now set).
func NewAggregator(q watchdog.SLAReportQuery) *Aggregator {
	a := &Aggregator{q: q, bounds: q.Bounds(), now: q.Now.UnixMicro(), groups: map[groupKey]*group{}}
	for _, b := range a.bounds {
		a.micros = append(a.micros, b.UnixMicro())
	}
	return a
}

// Add counts one outcome.
func (a *Aggregator) Add(r ReportRow) {
	k := groupKey{period: -1}
	if a.q.Groups("policy") {
		k.policy = r.Policy
	}
	if a.q.Groups("tier") {
		k.tier = r.Tier
	}
	if a.q.Groups("priority") {
		k.priority = r.Priority
	}
	if a.q.Groups("sla_type") {
		k.slaType = r.SLAType
	}
	if a.q.Groups("calendar") {
		k.calendar = r.Calendar
	}
	if a.q.Period() != "" {
		k.period = sort.Search(len(a.micros), func(i int) bool { return a.micros[i] > r.At }) - 1
	}
	g := a.groups[k]
	if g == nil {
		g = &group{row: watchdog.SLAReportRow{Policy: k.policy, Tier: k.tier, Priority: k.priority, SLAType: k.slaType, Calendar: k.calendar}}
		if k.period >= 0 {
			p := a.bounds[k.period]
			g.row.Period = &p
		}
		a.groups[k] = g
	}
	switch {
	case !r.Stopped:
		g.row.Open++
		if r.HasBreachAt && r.BreachAt <= a.now {
			g.row.OpenBreached++
		}
	default:
		g.row.Stopped++
		if r.Breached {
			g.row.PastTargetSeconds += r.Overrun
		} else {
			g.row.Met++
		}
		g.business = append(g.business, r.Business)
	}
}

// Rows returns the report's rows, in no particular order.
func (a *Aggregator) Rows() []watchdog.SLAReportRow {
	out := make([]watchdog.SLAReportRow, 0, len(a.groups))
	for _, g := range a.groups {
		if len(g.business) > 0 {
			slices.Sort(g.business)
			p50, p90 := watchdog.NearestRank(g.business, 0.5), watchdog.NearestRank(g.business, 0.9)
			g.row.P50Seconds, g.row.P90Seconds = &p50, &p90
		}
		g.row.Finish()
		out = append(out, g.row)
	}
	return out
}

// ReportRange returns the bounds of the instants a report selects rows by
// and whether stopped rows are selected by their stop (by stopped).
func ReportRange(q watchdog.SLAReportQuery) (from, to time.Time, byStop bool) {
	return micro(q.From), micro(q.To), q.By != watchdog.ByStarted
}
