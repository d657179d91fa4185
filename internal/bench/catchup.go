package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

// CatchupConfig configures the catch-up mode.
type CatchupConfig struct {
	// Server must use PolicyYAML, have no notifications: section (every
	// alert goes to every notifier) and post to Slack's webhook on Slack.
	Server *Server
	// Slack is the recording mock the server posts to.
	Slack *mockslack.Server
	// Tickets to import (default 100,000), Batch per request (default
	// 1,000).
	Tickets int
	Batch   int
	// Settle bounds the wait for every stage after the last batch's answer
	// (default 10 minutes).
	Settle time.Duration
	// RunID makes ticket ids unique per run.
	RunID    string
	Progress io.Writer
}

// Catch-up tickets: a tier of PolicyYAML's on a 24x7 calendar, open with
// no first response, created long before every stage of both clocks.
const (
	catchupTier     = "gold"
	catchupPriority = "high"
	catchupStatus   = "open"
	catchupAge      = 10 * 24 * time.Hour
)

// CatchupResult is what the catch-up mode measured.
type CatchupResult struct {
	Tickets int `json:"tickets"`
	Batch   int `json:"batch"`
	// StagesPerTicket is computed from the server's policy: every stage of
	// every running clock of a catch-up ticket is past on import.
	StagesPerTicket int `json:"stages_per_ticket"`
	Stages          int `json:"stages"`
	// ImportS is from the first batch sent to the last batch's answer;
	// ImportRequest the latency of one batch.
	ImportS       float64 `json:"import_s"`
	ImportRequest Latency `json:"import_request"`
	// Recorded is how many expected stages the WebSocket client received;
	// RecordedS is from the first batch sent to the first receipt of the
	// last of them, and StagesPerS = Recorded / RecordedS.
	Recorded   int     `json:"recorded"`
	RecordedS  float64 `json:"recorded_s"`
	StagesPerS float64 `json:"recorded_stages_per_s"`
	// FiredS and FiredPerS use the latest alert's own fired instant (the
	// payload's timestamp) instead: a lower bound, taken before the commit.
	FiredS    float64 `json:"fired_s"`
	FiredPerS float64 `json:"fired_stages_per_s"`
	// Slack and WebSocket: lateness here is receipt − the last batch's
	// answer (negative for stages delivered while the import still ran),
	// so its max is when the channel had every stage.
	Slack       Arrival `json:"slack"`
	WebSocket   Arrival `json:"websocket"`
	ExactlyOnce bool    `json:"exactly_once"`
	// Server is what the server's /metrics and /proc said of the run.
	Server CatchupServer `json:"server"`
}

// CatchupServer is the server's side of a catch-up, from its /metrics
// (differences over the run) and /proc.
type CatchupServer struct {
	// AlertsRecorded counts alerts_fired_total; Backfilled those of them
	// already due when their ticket was imported.
	AlertsRecorded float64 `json:"alerts_recorded"`
	Backfilled     float64 `json:"alerts_backfilled"`
	// EvalPasses scheduler passes took EvalBusyS in all (EvalMeanMs each)
	// over EvaluatedTickets due tickets.
	EvalPasses       float64 `json:"evaluation_passes"`
	EvalBusyS        float64 `json:"evaluation_busy_s"`
	EvalMeanMs       float64 `json:"evaluation_pass_mean_ms"`
	EvaluatedTickets float64 `json:"evaluated_tickets"`
	// SlackDelivered counts Slack deliveries delivered (one per alert,
	// however many alerts a message carried).
	SlackDelivered float64 `json:"slack_deliveries"`
	// CPUS is the watchdogd process's CPU time (user + system) from the
	// first batch to the end of the wait; a PostgreSQL server's own CPU is
	// not in it.
	CPUS   float64 `json:"cpu_s"`
	Memory *Memory `json:"memory,omitempty"`
}

// catchupStages lists the (clock, stage) pairs a catch-up ticket created
// at created fires, from the policy the server runs: every stage of each
// clock that runs for an open ticket with no first response. It fails when
// a stage would not be past by now, or when the policy gives the ticket
// a calendar or a cycle clock the count does not model.
func catchupStages(p *watchdog.Policy, created, now time.Time) ([]stageKey, error) {
	t := &watchdog.Ticket{CustomerTier: catchupTier, Priority: catchupPriority}
	sel, reason, ok := p.Select(t)
	switch {
	case !ok:
		return nil, fmt.Errorf("catch-up: no policy for %s/%s: %s", catchupTier, catchupPriority, reason)
	case sel.Calendar != nil:
		return nil, fmt.Errorf("catch-up: policy %s has a calendar; the expected stages assume 24x7", sel.Name)
	case sel.Targets.NextReply != 0 || sel.Targets.PeriodicUpdate != 0:
		return nil, fmt.Errorf("catch-up: policy %s tracks cycle clocks, which the expected stages leave out", sel.Name)
	}
	var clocks []watchdog.SLAClock
	if p.Statuses.IsAwaitingResponse(catchupStatus) {
		clocks = append(clocks, watchdog.Response)
	}
	if !p.Statuses.IsPaused(catchupStatus) && !p.Statuses.IsResolved(catchupStatus) {
		clocks = append(clocks, watchdog.Resolution)
	}
	var out []stageKey
	for _, c := range clocks {
		target := sel.Targets.Target(c)
		if target == 0 {
			continue
		}
		for _, st := range p.Stages() {
			due := created.Add(time.Duration(st.Fraction * float64(target)))
			if !due.Before(now) {
				return nil, fmt.Errorf("catch-up: %s %s is due at %v, not past", c, st.Name, due)
			}
			out = append(out, stageKey{clock: string(c), stage: st.Name})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("catch-up: policy %s fires no stage for an open ticket", sel.Name)
	}
	return out, nil
}

// Catchup imports Tickets tickets whose every stage is long past (as after
// an outage, or a first import), in batches through POST /tickets, and
// measures how fast the server records their stages and when Slack and a
// WebSocket client have each of them, exactly once.
func Catchup(ctx context.Context, c CatchupConfig) (*CatchupResult, error) {
	c.Tickets = cmp.Or(c.Tickets, 100000)
	c.Batch = cmp.Or(c.Batch, 1000)
	if c.Settle == 0 {
		c.Settle = 10 * time.Minute
	}
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		return nil, err
	}
	created := time.Now().Add(-catchupAge).UTC().Truncate(time.Second)
	perTicket, err := catchupStages(p, created, time.Now())
	if err != nil {
		return nil, err
	}
	bodies, keys, err := catchupBatches(c, created, perTicket)
	if err != nil {
		return nil, err
	}
	api, err := newAPIClient(c.Server.URL, nil, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	ws, err := dialAlerts(ctx, c.Server)
	if err != nil {
		return nil, fmt.Errorf("catch-up: %w", err)
	}
	defer ws.closeNow()
	c.Slack.Reset()
	before, err := scrapeMetrics(ctx, c.Server.URL)
	if err != nil {
		return nil, err
	}
	cpu0, _ := ProcCPU(c.Server.PID)

	start := time.Now()
	var lat []time.Duration
	for _, body := range bodies {
		t0 := time.Now()
		if err := api.IngestEncoded(ctx, body); err != nil {
			return nil, fmt.Errorf("catch-up: importing tickets: %w", err)
		}
		lat = append(lat, time.Since(t0))
	}
	imported := time.Now()
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "  catch-up: %d tickets imported in %v; waiting for %d stages\n", c.Tickets, imported.Sub(start).Round(time.Millisecond), len(keys))
	}
	var cpu1 time.Duration
	got, err := receiveAll(ctx, imported.Add(c.Settle), c.Progress, "catch-up", c.Slack, ws, len(keys), func() {
		cpu1, _ = ProcCPU(c.Server.PID)
	})
	if err != nil {
		return nil, err
	}
	after, err := scrapeMetrics(ctx, c.Server.URL)
	if err != nil {
		return nil, err
	}
	r := &CatchupResult{Tickets: c.Tickets, Batch: c.Batch, StagesPerTicket: len(perTicket), Stages: len(keys),
		ImportS: round2(imported.Sub(start).Seconds()), ImportRequest: Summarize(lat)}
	due := make(map[stageKey]time.Time, len(keys))
	for _, k := range keys {
		due[k] = imported
	}
	r.Slack, r.WebSocket = arrival(due, got.slack), arrival(due, got.ws)
	if got.wsErr != nil {
		r.WebSocket.Closed = got.wsErr.Error()
	}
	r.ExactlyOnce = r.Slack.ok() && r.WebSocket.ok()
	r.recordedFrom(due, got.ws, start)
	r.Server = catchupServer(before, after, cpu1-cpu0, c.Server.PID)
	return r, nil
}

// recordedFrom fills the recording figures from the WebSocket receipts.
//
// "Recorded" is read on the WebSocket stream: the store publishes an alert
// to subscribers only after the transaction that records it has committed
// (watchdog.Plan.Alerts), so its receipt is an instant by which it was
// durably recorded — late by the hub's fan-out and the client's read, never
// early, so the rate is never flattered. The alert's own timestamp (its
// FiredAt) is the evaluation pass's instant, taken before that commit: it
// gives the other bound (FiredS). The server's alerts_fired_total counter
// is also counted after the commit, but reading it over time would mean
// scraping /metrics (which counts open tickets in the database) under
// load; it is read once at the end as a cross-check (Server).
func (r *CatchupResult) recordedFrom(due map[stageKey]time.Time, ws []receipt, start time.Time) {
	seen := make(map[stageKey]bool, len(due))
	var last, lastFired time.Time
	for _, g := range ws {
		if _, ok := due[g.key]; !ok || seen[g.key] {
			continue
		}
		seen[g.key] = true
		if g.at.After(last) {
			last = g.at
		}
		if g.fired.After(lastFired) {
			lastFired = g.fired
		}
	}
	r.Recorded = len(seen)
	if d := last.Sub(start); r.Recorded > 0 && d > 0 {
		r.RecordedS = round2(d.Seconds())
		r.StagesPerS = float64(int(float64(r.Recorded) / d.Seconds()))
	}
	if d := lastFired.Sub(start); r.Recorded > 0 && d > 0 {
		r.FiredS = round2(d.Seconds())
		r.FiredPerS = float64(int(float64(r.Recorded) / d.Seconds()))
	}
}

// catchupBatches encodes the import's request bodies (before the clock
// starts, as the ingest mode does) and lists every stage it must fire.
func catchupBatches(c CatchupConfig, created time.Time, perTicket []stageKey) (bodies [][]byte, keys []stageKey, err error) {
	keys = make([]stageKey, 0, c.Tickets*len(perTicket))
	batch := make([]client.Event, 0, c.Batch)
	for i := range c.Tickets {
		id := fmt.Sprintf("CU-%s-%07d", c.RunID, i)
		batch = append(batch, client.Event{ID: id, Priority: catchupPriority, CustomerTier: catchupTier, Status: catchupStatus,
			CreatedAt: created, UpdatedAt: created})
		for _, k := range perTicket {
			keys = append(keys, stageKey{id, k.clock, k.stage})
		}
		if len(batch) == c.Batch || i == c.Tickets-1 {
			data, err := json.Marshal(batch)
			if err != nil {
				return nil, nil, fmt.Errorf("catch-up: encoding a batch: %w", err)
			}
			bodies = append(bodies, data)
			batch = batch[:0]
		}
	}
	return bodies, keys, nil
}

func catchupServer(before, after metricSamples, cpu time.Duration, pid int) CatchupServer {
	d := func(name string) float64 { return after[name] - before[name] }
	busy := d("watchdog_evaluation_duration_seconds_sum")
	s := CatchupServer{
		AlertsRecorded:   d("watchdog_alerts_fired_total"),
		Backfilled:       d("watchdog_alerts_backfilled_total"),
		EvalPasses:       d("watchdog_evaluation_duration_seconds_count"),
		EvalBusyS:        round2(busy),
		EvaluatedTickets: d("watchdog_evaluated_tickets_total"),
		SlackDelivered:   d(`watchdog_deliveries_total{notifier="slack",outcome="delivered"}`),
		CPUS:             round2(cpu.Seconds()),
	}
	if s.EvalPasses > 0 {
		s.EvalMeanMs = round2(1000 * busy / s.EvalPasses)
	}
	if m, ok := ReadMemory(pid); ok {
		s.Memory = &m
	}
	return s
}
