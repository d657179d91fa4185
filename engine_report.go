package watchdog

import (
	"context"
	"fmt"
	"time"
)

// SLAReport aggregates the recorded SLA outcomes as q asks, judging clocks
// in progress at the engine's now; rows are sorted by period, then tier,
// priority, SLA type and calendar. A group with no clocks is left out.
func (e *Engine) SLAReport(ctx context.Context, q SLAReportQuery) ([]SLAReportRow, error) {
	q.Now = e.clock.Now()
	if err := q.Validate(); err != nil {
		return nil, err
	}
	rows, err := e.store.SLAReport(ctx, q)
	if err != nil {
		return nil, err
	}
	SortSLAReport(rows)
	return rows, nil
}

// SLAOutcomes calls fn for each outcome q selects, streaming them from the
// store (q.GroupBy is checked but plays no part).
func (e *Engine) SLAOutcomes(ctx context.Context, q SLAReportQuery, fn func(*Outcome) error) error {
	q.Now = e.clock.Now()
	if err := q.Validate(); err != nil {
		return err
	}
	return e.store.SLAOutcomes(ctx, q, fn)
}

// BackfillOutcomes records the outcomes of stored tickets that have none
// (stored before outcomes were recorded), in batches of ReplanBatch, under
// the policy in force. It is resumable: a ticket done keeps its outcomes,
// so a rerun skips it. It returns how many tickets it visited.
func (e *Engine) BackfillOutcomes(ctx context.Context) (int, error) {
	var after string
	total := 0
	start := e.clock.Now()
	for {
		p, now := e.policy.Load(), e.clock.Now()
		if p == nil {
			return total, nil
		}
		last, n, err := e.store.BackfillOutcomes(ctx, after, e.cfg.ReplanBatch, e.planFunc(p, now, false))
		if err != nil {
			return total, fmt.Errorf("watchdog: backfill outcomes: %w", err)
		}
		total += n
		if n < e.cfg.ReplanBatch {
			break
		}
		after = last
	}
	if total > 0 {
		e.log.Info("outcomes backfilled", "tickets", total, "took", e.clock.Now().Sub(start).Round(time.Millisecond))
	}
	return total, nil
}

// firstStopped returns the outcomes of planned that are stopped and were
// never recorded stopped in prior (by PriorOutcome: a cycle whose start a
// late message moved keeps counting once).
func firstStopped(prior, planned []Outcome) []Outcome {
	var out []Outcome
	for i := range planned {
		o := &planned[i]
		if !o.Stopped() {
			continue
		}
		if p := PriorOutcome(prior, o, *o.StoppedAt); p == nil || p.RecordedAt == nil {
			out = append(out, *o)
		}
	}
	return out
}
