package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the figures were measured.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemoryGB string `json:"memory_gb"`
	Go       string `json:"go"`
	Postgres string `json:"postgres,omitempty"`
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute averages at the start
	// and at the end: other work on the machine skews the figures.
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

// Report is one harness run.
type Report struct {
	Command  string         `json:"command"`
	Started  time.Time      `json:"started"`
	Duration string         `json:"duration"`
	Machine  Machine        `json:"machine"`
	Stores   []*StoreReport `json:"stores"`
	Targets  []Target       `json:"targets"`
}

// Target is one of the targets and whether a run met it.
type Target struct {
	Store    string `json:"store"`
	Name     string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// DescribeMachine reads the CPU, memory and load from /proc.
func DescribeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadStart: LoadAvg()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.MemoryGB = strconv.FormatFloat(kb/1024/1024, 'f', 1, 64)
			}
		}
	}
	return m
}

// LoadAvg returns the 1, 5 and 15 minute load averages.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Evaluate fills r.Targets from the stores' figures.
func (r *Report) Evaluate() {
	r.Targets = nil
	add := func(store, name, measured string, met bool) {
		r.Targets = append(r.Targets, Target{store, name, measured, met})
	}
	for _, s := range r.Stores {
		if s.IngestRatio > 0 {
			add(s.Kind, "ingest over HTTP ≥ 0.25 × raw COPY",
				fmt.Sprintf("%.2f × (%.0f events/s vs %.0f rows/s)", s.IngestRatio, s.Ingest.EventsPerS, s.Ceiling.RowsPerS), s.IngestRatio >= 0.25)
			add(s.Kind, "ingest over HTTP ≥ 0.45 × raw COPY (the next ceiling)", fmt.Sprintf("%.2f ×", s.IngestRatio), s.IngestRatio >= 0.45)
		}
		if l := s.Lateness; l != nil {
			stored := 0
			if s.Preload != nil {
				stored = s.Preload.Tickets
			}
			measured, met := latenessWithin(l, 1000)
			add(s.Kind, fmt.Sprintf("alert lateness p99 ≤ 1 s (%s stored, %s due within 1 s)", count(stored), count(l.Tickets)), measured, met)
			add(s.Kind, "each stage delivered exactly once", exactlyOnce(l), l.ExactlyOnce)
		}
		if l := s.LatenessCycles; l != nil {
			measured, met := latenessWithin(l, 1000)
			add(s.Kind, fmt.Sprintf("alert lateness p99 ≤ 1 s with half the stages next-reply cycles (%s due within 1 s)", count(l.Tickets)), measured, met)
			add(s.Kind, "each cycle stage delivered exactly once", exactlyOnce(l), l.ExactlyOnce)
		}
		evaluateBulkAndCatchup(s, add)
		if s.Scheduler != nil && s.SchedulerSmall != nil && s.SchedulerSmall.PerTicketUs > 0 {
			ratio := s.Scheduler.PerTicketUs / s.SchedulerSmall.PerTicketUs
			add(s.Kind, fmt.Sprintf("scheduler wake-up cost at %s stored ≤ 2 × at %s (1%% due; per due ticket, %d claimed per pass)", count(s.Scheduler.Stored), count(s.SchedulerSmall.Stored), s.Scheduler.ClaimBatch),
				fmt.Sprintf("%.2f × (%.0f µs vs %.0f µs per due ticket; pass p50 %.1f ms vs %.1f ms)", ratio, s.Scheduler.PerTicketUs, s.SchedulerSmall.PerTicketUs, s.Scheduler.Pass.P50Ms, s.SchedulerSmall.Pass.P50Ms), ratio <= 2)
		}
		if d := s.Drain; d != nil {
			add(s.Kind, fmt.Sprintf("notification backlog of %s imported tickets drains through a 1 message/s Slack: each clock's highest stage once, none failed", count(d.Tickets)),
				fmt.Sprintf("%.0f s (floor %.0f s), %d messages, %d refused with 429, duplicates %d, unexpected %d, failed %.0f", d.DrainS, d.FloorS, d.Messages, d.Refused, d.Duplicates, d.Unexpected, d.Failed),
				d.ExactlyOnce && d.Failed == 0)
		}
		if s.ScaleMemory != nil && s.Preload != nil {
			add(s.Kind, fmt.Sprintf("watchdogd RSS < 150 MB at %s stored", count(s.Preload.Tickets)),
				fmt.Sprintf("peak %.0f MB", s.ScaleMemory.PeakMB), s.ScaleMemory.PeakMB < 150)
		}
		if rp := s.Reports; rp != nil {
			// PostgreSQL's targets are the issue's; SQLite's are 3 × them
			// (it aggregates in Go what PostgreSQL aggregates in SQL).
			week, month := 300.0, 1000.0
			if s.Kind == "sqlite" {
				week, month = 900, 3000
			}
			n := count(rp.Tickets)
			add(s.Kind, fmt.Sprintf("30-day report by tier and week p99 < %.0f ms (%s tickets)", week, n), fmt.Sprintf("%.0f ms", rp.Week30.P99Ms), rp.Week30.N > 0 && rp.Week30.P99Ms < week)
			add(s.Kind, fmt.Sprintf("365-day report by tier and month p99 < %.0f ms (%s tickets)", month, n), fmt.Sprintf("%.0f ms", rp.Month365.P99Ms), rp.Month365.N > 0 && rp.Month365.P99Ms < month)
			if e := rp.Export; e != nil {
				add(s.Kind, "CSV export ≥ 100k rows/s, flat RSS", fmt.Sprintf("%.0f rows/s; RSS %.0f MB before, %.0f MB at most during", e.RowsPerS, e.RSSBeforeMB, e.RSSMaxMB),
					e.RowsPerS >= 100000 && e.RSSMaxMB < e.RSSBeforeMB+50)
			}
		}
		if s.Reads != nil {
			add(s.Kind, "dashboard p99 < 20 ms", fmt.Sprintf("%.1f ms", s.Reads.Dashboard.P99Ms), s.Reads.Dashboard.P99Ms < 20)
			add(s.Kind, "ticket p99 < 5 ms", fmt.Sprintf("%.1f ms", s.Reads.Ticket.P99Ms), s.Reads.Ticket.P99Ms < 5)
			add(s.Kind, "web UI queue page p99 < 50 ms", fmt.Sprintf("%.1f ms", s.Reads.Queue.P99Ms), s.Reads.Queue.P99Ms < 50)
		}
	}
}

func exactlyOnce(l *LatenessResult) string { return onceLine(l.Stages, l.Slack, l.WebSocket) }

func onceLine(stages int, slack, ws Arrival) string {
	f := func(a Arrival) string {
		return fmt.Sprintf("%d/%d (missing %d, duplicates %d, unexpected %d)", a.Received-a.Duplicates-a.Unexpected, stages, a.Missing, a.Duplicates, a.Unexpected)
	}
	return "Slack " + f(slack) + "; WebSocket " + f(ws)
}

// latenessWithin says whether both channels' p99 lateness is at most ms,
// with every stage arrived (a stage that never arrived is later than any
// p99).
func latenessWithin(l *LatenessResult, ms float64) (measured string, met bool) {
	worst := max(l.Slack.Lateness.P99Ms, l.WebSocket.Lateness.P99Ms)
	if l.Slack.Missing+l.WebSocket.Missing > 0 {
		worst = 1e9
	}
	return fmt.Sprintf("Slack %.0f ms, WebSocket %.0f ms", l.Slack.Lateness.P99Ms, l.WebSocket.Lateness.P99Ms),
		worst <= ms && l.Slack.Lateness.N > 0 && l.WebSocket.Lateness.N > 0
}

func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func mem(m *Memory) string {
	if m == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB peak", m.PeakMB)
}

// WriteTable prints the figures for a terminal.
func (r *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	r.writeFigures(bw, false)
	if len(r.Targets) > 0 {
		fmt.Fprintln(bw, "\nTargets")
		for _, t := range r.Targets {
			fmt.Fprintf(bw, "  %-8s %-6s %s: %s\n", t.Store, metWord(t.Met), t.Name, t.Measured)
		}
	}
	return bw.Flush()
}

func metWord(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// writeFigures writes one section per store, as markdown tables or as
// aligned text.
func (r *Report) writeFigures(w io.Writer, markdown bool) {
	for _, s := range r.Stores {
		var rows [][2]string
		row := func(k, v string) { rows = append(rows, [2]string{k, v}) }
		if i := s.Ingest; i != nil {
			row("ingest", fmt.Sprintf("%.0f events/s (%d events, batch %d, %d connections, %.0f%% updates, %.1fs)", i.EventsPerS, i.Events, i.Batch, i.Connections, 100*i.UpdateShare, i.Seconds))
			row("ingest request latency", fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, max %.1f ms", i.Request.P50Ms, i.Request.P99Ms, i.Request.MaxMs))
			row("ingest server RSS", mem(i.Memory))
		}
		if c := s.Ceiling; c != nil {
			row("raw COPY ceiling", fmt.Sprintf("%.0f rows/s (%d rows into %s)", c.RowsPerS, c.Rows, c.Table))
		}
		if s.IngestRatio > 0 {
			row("ingest / COPY", fmt.Sprintf("%.2f", s.IngestRatio))
		}
		if p := s.PreloadSmall; p != nil && s.SchedulerSmall != nil {
			row(fmt.Sprintf("scheduler, %s stored", count(p.Tickets)), schedLine(s.SchedulerSmall))
		}
		if p := s.Preload; p != nil {
			row(fmt.Sprintf("preload %s tickets", count(p.Tickets)), fmt.Sprintf("%.1fs, %.0f tickets/s (%s)", p.Seconds, p.RowsPerS, p.Method))
			if p.VacuumS > 0 {
				row("VACUUM ANALYZE after the preload", fmt.Sprintf("%.1fs (what autovacuum does soon after a bulk load)", p.VacuumS))
			}
		}
		if sc := s.Scheduler; sc != nil {
			row(fmt.Sprintf("scheduler, %s stored", count(sc.Stored)), schedLine(sc))
		}
		if s.ServerReadyS > 0 && s.Preload != nil {
			row("watchdogd start on the preloaded store", fmt.Sprintf("%.1fs to /readyz 200 with open tickets recomputed", s.ServerReadyS))
		}
		if rd := s.Reads; rd != nil {
			row("GET /dashboard?state=breach&limit=100", fmt.Sprintf("p50 %.2f ms, p99 %.2f ms (%d requests, %d matching)", rd.Dashboard.P50Ms, rd.Dashboard.P99Ms, rd.Dashboard.N, rd.DashboardTotal))
			row("GET /tickets/{id}", fmt.Sprintf("p50 %.2f ms, p99 %.2f ms (%d requests)", rd.Ticket.P50Ms, rd.Ticket.P99Ms, rd.Ticket.N))
			row("GET /ui/ (web UI queue page)", fmt.Sprintf("p50 %.2f ms, p99 %.2f ms (%d requests, %d KB each)", rd.Queue.P50Ms, rd.Queue.P99Ms, rd.Queue.N, rd.QueueBytes/1024))
		}
		if l := s.Lateness; l != nil {
			row("lateness: tickets", fmt.Sprintf("%d (breach instants within %.0fs; %d stages expected; stored in %.1fs)", l.Tickets, l.SpreadS, l.Stages, l.IngestS))
			row("lateness: Slack", arrivalLine(l.Slack))
			row("lateness: WebSocket", arrivalLine(l.WebSocket))
			if l.EvalPasses > 0 {
				row("scheduler passes during lateness (server /metrics)", fmt.Sprintf("%.0f passes, mean %.1f ms", l.EvalPasses, l.EvalMeanMs))
			}
			cpuRow(row, "lateness: CPU per 1,000 stages", l.CPU)
		}
		if l := s.LatenessCycles; l != nil {
			row("lateness, half next-reply: tickets", fmt.Sprintf("%d (%d stages expected, %d of next-reply cycles; stored in %.1fs)", l.Tickets, l.Stages, l.NextReplyStages, l.IngestS))
			row("lateness, half next-reply: Slack", arrivalLine(l.Slack))
			row("lateness, half next-reply: WebSocket", arrivalLine(l.WebSocket))
			cpuRow(row, "lateness, half next-reply: CPU per 1,000 stages", l.CPU)
		}
		bulkAndCatchupRows(s, row)
		if d := s.Drain; d != nil {
			row("drain: notification backlog", fmt.Sprintf("%d tickets imported with every stage past (%d alerts recorded, %.1fs): %d entries (each clock's highest stage; inhibition supersedes the rest)", d.Tickets, d.Recorded, d.IngestS, d.Entries))
			row("drain: Slack at 1 message/s, 429 beyond", fmt.Sprintf("drained in %.0f s from the first import request (floor %.0f s); %d messages (at most %d alerts each), %d refused with 429; exactly once: %v; failed %.0f", d.DrainS, d.FloorS, d.Messages, d.MaxPerMsg, d.Refused, d.ExactlyOnce, d.Failed))
		}
		if rp := s.Reports; rp != nil {
			row(fmt.Sprintf("reports: %s resolved tickets over a year", count(rp.Tickets)), fmt.Sprintf("%s outcomes; stored in %.1fs without them, then the start-up backfill recorded them in %.1fs", count(rp.Outcomes), rp.PreloadS, rp.BackfillS))
			row("GET /reports/sla, 30 days by tier and week", fmt.Sprintf("p50 %.0f ms, p99 %.0f ms (%d requests, zones UTC, Europe/Berlin, +05:30, America/New_York)", rp.Week30.P50Ms, rp.Week30.P99Ms, rp.Week30.N))
			row("GET /reports/sla, 365 days by tier and month", fmt.Sprintf("p50 %.0f ms, p99 %.0f ms (%d requests)", rp.Month365.P50Ms, rp.Month365.P99Ms, rp.Month365.N))
			if e := rp.Export; e != nil {
				row("GET /reports/sla/outcomes?format=csv", fmt.Sprintf("%d rows in %.1fs: %.0f rows/s; server RSS %.0f MB before, at most %.0f MB during", e.Rows, e.Seconds, e.RowsPerS, e.RSSBeforeMB, e.RSSMaxMB))
			}
		}
		if s.ScaleMemory != nil {
			row("scale + lateness server RSS", fmt.Sprintf("%.0f MB peak, %.0f MB at the end", s.ScaleMemory.PeakMB, s.ScaleMemory.CurrentMB))
		}
		if markdown {
			fmt.Fprintf(w, "\n### %s\n\n| measure | figure |\n|---|---|\n", s.Kind)
			for _, r := range rows {
				fmt.Fprintf(w, "| %s | %s |\n", r[0], r[1])
			}
		} else {
			fmt.Fprintf(w, "\n%s\n", s.Kind)
			for _, r := range rows {
				fmt.Fprintf(w, "  %-40s %s\n", r[0], r[1])
			}
		}
	}
}

func schedLine(s *SchedulerResult) string {
	return fmt.Sprintf("%d due: pass of %d p50 %.2f ms, p99 %.2f ms; %.1f µs per due ticket; idle wake-up p50 %.2f ms", s.Due, s.ClaimBatch, s.Pass.P50Ms, s.Pass.P99Ms, s.PerTicketUs, s.Idle.P50Ms)
}

func arrivalLine(a Arrival) string {
	s := fmt.Sprintf("p50 %.0f ms, p99 %.0f ms, max %.0f ms after the due instant (%d received, %d missing, %d duplicates)", a.Lateness.P50Ms, a.Lateness.P99Ms, a.Lateness.MaxMs, a.Received, a.Missing, a.Duplicates)
	if a.Closed != "" {
		s += "; the server closed the stream: " + a.Closed
	}
	return s
}

// WriteMarkdown writes BENCHMARKS.md: how to rerun, the machine, the
// figures and the targets. notes is appended verbatim (analysis, profiles).
func (r *Report) WriteMarkdown(w io.Writer, notes string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Benchmarks\n\nFigures from `cmd/watchdog-bench`, which drives a real `watchdogd` over HTTP as a helpdesk would.\n")
	fmt.Fprintf(bw, "Rerun them with `make bench` (both stores; about %s here) or a single mode, e.g.\n`make build && ./bin/watchdog-bench -spawn -db postgres ingest`; `./bin/watchdog-bench -h` lists the flags.\n", r.Duration)
	fmt.Fprintf(bw, "Micro-benchmarks of the hot paths: `make bench-micro` (compare runs with `benchstat`).\n\n")
	fmt.Fprintf(bw, "## Run\n\n- command: `%s`\n- started: %s, took %s\n", r.Command, r.Started.UTC().Format(time.RFC3339), r.Duration)
	m := r.Machine
	fmt.Fprintf(bw, "- machine: %d CPUs (%s), %s GB memory\n- Go %s; PostgreSQL %s (default settings, over TCP on 127.0.0.1)\n", m.CPUs, m.CPUModel, m.MemoryGB, strings.TrimPrefix(m.Go, "go"), orNA(m.Postgres))
	fmt.Fprintf(bw, "- load average (1/5/15 min) at start: %s; at end: %s. Other work shared the machine during the run, so treat the figures as a floor.\n", m.LoadStart, m.LoadEnd)
	fmt.Fprintf(bw, "\n## Figures\n")
	r.writeFigures(bw, true)
	if len(r.Targets) > 0 {
		fmt.Fprintf(bw, "\n## Targets (issues 7, 15, 17 and 19)\n\n| store | target | measured | |\n|---|---|---|---|\n")
		for _, t := range r.Targets {
			fmt.Fprintf(bw, "| %s | %s | %s | %s |\n", t.Store, t.Name, t.Measured, metWord(t.Met))
		}
	}
	fmt.Fprintf(bw, "\n## How each figure is measured\n\n%s", methodText)
	if notes != "" {
		fmt.Fprintf(bw, "\n%s\n", strings.TrimSpace(notes))
	}
	return bw.Flush()
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

const methodText = `- **ingest**: N events (default 200,000) split into C streams (default 4), one keep-alive
  connection each, posted as JSON arrays of 1,000 to ` + "`POST /tickets`" + `; 20% of events update a
  ticket created earlier in the same stream (status change, sometimes a first response); tiers,
  priorities and statuses follow a helpdesk-like mix, 2% with no policy (untracked). Every answer must
  be 200. Bodies are encoded before the clock starts; the answer is read in full. RSS is the
  server's VmHWM from /proc.
- **ceiling** (PostgreSQL): the same events as rows (an update's id suffixed so the key holds),
  ` + "`COPY … FROM STDIN`" + ` in one transaction into a scratch table ` + "`LIKE tickets INCLUDING ALL`" + `
  in the same database, so the ratio compares one run on one machine.
- **scale**: tickets are preloaded straight into the store (its batch Ingest through an in-process
  engine, 5,000 per transaction), 1% of them created ten days ago so every stage is due. The
  scheduler's cost is timed in-process with ` + "`Engine.EvaluateDue`" + ` claiming 100 tickets per pass
  until nothing is due, at the full size and at 10k stored with the same 1% due: a pass handles
  the same work in both, so its duration shows what the stored count adds. Then watchdogd starts
  on the preloaded store and answers sequential ` + "`GET /dashboard?state=breach&limit=100`" + `,
  ` + "`GET /tickets/{id}`" + ` (random stored ids) and ` + "`GET /ui/`" + ` (the web UI's queue page: open
  tickets by urgency, 50 rows with each clock evaluated from its timeline, the count capped at
  10,000) on one connection after a warm-up.
- **lateness**: on the same server, T tickets (default 10,000) of a tier whose response target is
  5 s are created (in the past, as a helpdesk's are) so that their breach instants fall evenly
  within one second, 4 s ahead; their alert stages (0.85) fall within one second 0.75 s earlier,
  so the two bursts overlap: 20,000 stages due within 1.75 s. A recording mock Slack (the server's
  SLACK_WEBHOOK_URL) and one WebSocket client on ` + "`/ws/alerts`" + ` note the receipt time of each
  message; lateness is receipt − the stage's due instant, and every (ticket, clock, stage) must
  arrive exactly once on each channel. A second run does the same with every other ticket under a
  policy tracking only a 5 s next reply, answered by an agent a minute before and then written to
  by the customer at the instant its response would have started: half the stages are those of
  next-reply cycles, due at the same instants. Each run also counts, from the tickets' last
  answer until every stage arrived, the CPU time of watchdogd, of the harness and of every
  other process (the database server) per 1,000 stages, and the machine's busy share, from
  /proc: CPU time measures work, where lateness on a shared machine also measures the machine.
  The busy share is also given from the first due instant on, without the wait for it: near
  100 %, the burst was bound by the machine's CPU.
- **drain** (notification backlog): a fresh server whose SLA file has a ` + "`notifications:`" + ` section with
  one route (inhibition on, as by default) to one Slack receiver (100 alerts a message) imports
  -drain-tickets tickets (default 10,000) created a year ago in batches of 1,000, so every stage of
  both clocks is long past (escalation steps at 150 % and 200 %: 8 alerts each). A Slack stand-in
  takes one message a second and answers 429 with Retry-After to anything faster. Each clock's
  highest stage must arrive exactly once (2 entries a ticket; the lower stages are superseded) and
  no delivery may fail; drain time runs from the first import request to the last entry received.
  The floor is entries / 100 per message / 1 message per second.
- **reports**: R tickets (default 1,000,000) of the tracked tiers, created over the year before
  the run and resolved (three events each: new, a first response within 6 h, resolved within
  48 h more), are stored through the store's batch Ingest without outcomes, as a database from
  before outcomes were recorded; ` + "`Engine.BackfillOutcomes`" + ` (what watchdogd runs at
  start-up) then records their 2R outcomes, timed. watchdogd starts on the store and answers
  sequential ` + "`GET /reports/sla`" + ` for the last 30 days by tier and week and for the last 365 days
  by tier and month, in turn in UTC, Europe/Berlin, +05:30 and America/New_York; then one
  ` + "`GET /reports/sla/outcomes?format=csv`" + ` of every outcome, read in full, its rows counted and
  the server's resident memory sampled every 50 ms.
- **lateness under a bulk import**: the lateness run again on the same server (10,000 tickets,
  20,000 stages due within 1.75 s) while another client posts the ingest mode's workload (batches
  of 1,000 over 4 connections, 20% updates, new ticket ids created in the two hours before, none
  due for over an hour) paced at half the ingest mode's events/s on this store (or ` + "`-bulk-rate`" + `).
  The import starts 2 s before the lateness tickets are sent and stops once every stage has
  arrived on both channels (or the settle time passed); any alert of its tickets would count as
  unexpected. Its rate during the lateness run is the events answered between the first lateness
  ticket sent and the end of that wait, over that time.
- **catch-up**: a fresh server with the harness's SLA file (no ` + "`notifications:`" + ` section, so every
  alert goes to Slack and the WebSocket) imports -catchup-tickets tickets (default 100,000; gold,
  high, open, no first response, created ten days ago) in batches of -catchup-batch (1,000) on
  one connection, bodies encoded first. Every stage of both clocks is past, so each ticket fires
  every stage the policy gives it (4: alert and breach of response and resolution, computed from
  the policy). A stage counts as recorded when the WebSocket client receives it: the store
  publishes an alert only after the transaction that records it commits. The rate is the stages
  recorded over the time from the first batch sent to the last of them; delivery is each
  channel's last first receipt after the last batch's answer; each stage must arrive exactly once
  on each channel.
`

// cpuRow adds a row for c, when the run could measure it.
func cpuRow(row func(k, v string), name string, c *SpanCPU) {
	if c == nil {
		return
	}
	v := fmt.Sprintf("watchdogd %.0f ms, database and other processes %.0f ms, harness %.0f ms; machine %.0f%% busy over %.1fs",
		c.ServerMs, c.OtherMs, c.HarnessMs, 100*c.BusyShare, c.SpanS)
	if c.DueSpanS > 0 {
		v += fmt.Sprintf(" (%.0f%% over its %.1fs from the first due instant)", 100*c.DueBusyShare, c.DueSpanS)
	}
	row(name, v)
}
