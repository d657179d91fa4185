package bench

import "fmt"

// Targets of the lateness run under a bulk import and of the catch-up.
const (
	catchupMinStagesPerS = 20000
	catchupMaxDeliveryMs = 20000
	// bulkHeldShare is the share of its target rate the bulk import must
	// reach during the lateness run for that run to count as measured
	// under it.
	bulkHeldShare = 0.9
)

// evaluateBulkAndCatchup adds the targets of the bulk-lateness and
// catch-up modes for one store.
func evaluateBulkAndCatchup(s *StoreReport, add func(store, name, measured string, met bool)) {
	if bl := s.BulkLateness; bl != nil && bl.Lateness != nil && bl.Bulk != nil {
		l, b := bl.Lateness, bl.Bulk
		stored := 0
		if s.Preload != nil {
			stored = s.Preload.Tickets
		}
		measured, met := latenessWithin(l, 1000)
		add(s.Kind, fmt.Sprintf("alert lateness p99 ≤ 1 s under a bulk import at half the ingest rate (%s stored, %s due within 1 s)", count(stored), count(l.Tickets)),
			fmt.Sprintf("%s; bulk client %.0f events/s meanwhile (target %.0f)", measured, b.DuringPerS, b.TargetPerS), met)
		add(s.Kind, "each stage delivered exactly once under the bulk import", exactlyOnce(l), l.ExactlyOnce)
		ref := ""
		if b.NoAlertsPerS > 0 {
			ref = fmt.Sprintf("; %.0f without alerts", b.NoAlertsPerS)
		}
		add(s.Kind, fmt.Sprintf("bulk import held ≥ %.0f %% of its target rate during that lateness run", 100*bulkHeldShare),
			fmt.Sprintf("%.0f of %.0f events/s (%s; %.0f over its whole run%s)", b.DuringPerS, b.TargetPerS, b.TargetFrom, b.EventsPerS, ref),
			b.DuringEvents > 0 && b.DuringPerS >= bulkHeldShare*b.TargetPerS)
	}
	if c := s.CatchUp; c != nil {
		add(s.Kind, fmt.Sprintf("catch-up: stages of %s imported tickets recorded at ≥ 20,000 stages/s (%s stages, %d each)", count(c.Tickets), count(c.Stages), c.StagesPerTicket),
			fmt.Sprintf("%.0f stages/s (%d of %d recorded in %.1f s from the first batch)", c.StagesPerS, c.Recorded, c.Stages, c.RecordedS),
			c.Stages > 0 && c.Recorded == c.Stages && c.StagesPerS >= catchupMinStagesPerS)
		worst := max(c.Slack.Lateness.MaxMs, c.WebSocket.Lateness.MaxMs)
		add(s.Kind, "catch-up: every stage delivered ≤ 20 s after the last batch's answer, exactly once",
			fmt.Sprintf("Slack %+.1f s, WebSocket %+.1f s; %s", c.Slack.Lateness.MaxMs/1000, c.WebSocket.Lateness.MaxMs/1000, onceLine(c.Stages, c.Slack, c.WebSocket)),
			c.ExactlyOnce && c.Slack.Lateness.N > 0 && c.WebSocket.Lateness.N > 0 && worst <= catchupMaxDeliveryMs)
	}
}

// bulkAndCatchupRows are the figures of the bulk-lateness and catch-up
// modes for one store.
func bulkAndCatchupRows(s *StoreReport, row func(k, v string)) {
	if bl := s.BulkLateness; bl != nil && bl.Lateness != nil && bl.Bulk != nil {
		l, b := bl.Lateness, bl.Bulk
		row("lateness under a bulk import: tickets", fmt.Sprintf("%d (%d stages expected; stored in %.1fs while the import ran)", l.Tickets, l.Stages, l.IngestS))
		row("lateness under a bulk import: Slack", arrivalLine(l.Slack))
		row("lateness under a bulk import: WebSocket", arrivalLine(l.WebSocket))
		row("bulk import beside it", fmt.Sprintf("%.0f events/s during the lateness run (%d events in %.1fs); %.0f events/s over its %.1fs (%d events, started %.1fs before the lateness tickets); target %.0f events/s, %s",
			b.DuringPerS, b.DuringEvents, b.DuringS, b.EventsPerS, b.Seconds, b.Events, b.StartedBeforeS, b.TargetPerS, b.TargetFrom))
		row("bulk import requests", fmt.Sprintf("batch %d, %d connections, %.0f%% updates: p50 %.1f ms, p99 %.1f ms, max %.1f ms", b.Batch, b.Connections, 100*b.UpdateShare, b.Request.P50Ms, b.Request.P99Ms, b.Request.MaxMs))
		if l.EvalPasses > 0 {
			row("scheduler passes during it (server /metrics)", fmt.Sprintf("%.0f passes, mean %.1f ms", l.EvalPasses, l.EvalMeanMs))
		}
	}
	if c := s.CatchUp; c != nil {
		row("catch-up: import", fmt.Sprintf("%d tickets with every stage past (%d stages each by the policy, %d in all), %d per request: %.1fs, request p50 %.0f ms, p99 %.0f ms",
			c.Tickets, c.StagesPerTicket, c.Stages, c.Batch, c.ImportS, c.ImportRequest.P50Ms, c.ImportRequest.P99Ms))
		row("catch-up: recorded", fmt.Sprintf("%d of %d in %.1fs from the first batch: %.0f stages/s (by WebSocket receipt, after the commit; by the alerts' own fired instants, before it: %.1fs, %.0f stages/s)",
			c.Recorded, c.Stages, c.RecordedS, c.StagesPerS, c.FiredS, c.FiredPerS))
		row("catch-up: Slack", catchupLine(c.Slack))
		row("catch-up: WebSocket", catchupLine(c.WebSocket))
		v := c.Server
		row("catch-up: server side (/metrics, /proc)", fmt.Sprintf("%.0f alerts recorded (%.0f backfilled); %.0f scheduler passes over %.0f due tickets, %.1fs busy (mean %.0f ms); %.0f Slack deliveries; watchdogd CPU %.1fs; RSS %s",
			v.AlertsRecorded, v.Backfilled, v.EvalPasses, v.EvaluatedTickets, v.EvalBusyS, v.EvalMeanMs, v.SlackDelivered, v.CPUS, mem(v.Memory)))
	}
}

func catchupLine(a Arrival) string {
	s := fmt.Sprintf("every stage by %+.1fs after the last batch's answer (p50 %+.1fs; %d received, %d missing, %d duplicates, %d unexpected)",
		a.Lateness.MaxMs/1000, a.Lateness.P50Ms/1000, a.Received, a.Missing, a.Duplicates, a.Unexpected)
	if a.Closed != "" {
		s += "; the server closed the stream: " + a.Closed
	}
	return s
}
