package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

// LatenessConfig configures the lateness mode.
type LatenessConfig struct {
	// Server must use PolicyYAML and post to Slack's webhook on Slack.
	Server *Server
	// Slack is the recording mock the server posts to.
	Slack *mockslack.Server
	// Tickets is how many tickets to make due (default 10,000).
	Tickets int
	// Lead is how long after the tickets are sent the first breach is due
	// (default 4s). Each ticket is created one response target (5s) before
	// its breach, so with a lead under 5s the tickets are created in the
	// past, as a helpdesk's would be; the alert stage comes 0.75s before
	// the breach (85% of the target), and both must come after the tickets
	// are stored.
	Lead time.Duration
	// Spread is the window the breach instants fall in (default 1s).
	Spread time.Duration
	// Settle bounds the wait for every message after the last due instant
	// (default 2 minutes).
	Settle time.Duration
	// RunID makes ticket ids unique per run.
	RunID string
	// Progress receives progress lines; nil is silent.
	Progress io.Writer
	// Settled, when set, is called once the wait for the stages ends
	// (every one arrived on both channels, or Settle passed), before the
	// grace period for late duplicates: a load running beside the run
	// (BulkLateness) stops there.
	Settled func()
	// Cycles makes every other ticket one of the "lateness-cycles" tier:
	// answered by an agent when created and then written to by the
	// customer, so that its stages are those of a next-reply cycle due at
	// the same instants, and half the stages are next-reply ones.
	Cycles bool
}

// LatenessResult is how late alerts arrived, by channel.
type LatenessResult struct {
	Tickets int `json:"tickets"`
	// Stages is how many (ticket, clock, stage) alerts were expected;
	// NextReplyStages how many of them are of next-reply cycles.
	Stages          int     `json:"stages"`
	NextReplyStages int     `json:"next_reply_stages,omitempty"`
	SpreadS         float64 `json:"spread_s"`
	IngestS         float64 `json:"ingest_s"`
	Slack           Arrival `json:"slack"`
	WebSocket       Arrival `json:"websocket"`
	ExactlyOnce     bool    `json:"exactly_once"`
	EvalPasses      float64 `json:"evaluation_passes,omitempty"`
	EvalMeanMs      float64 `json:"evaluation_pass_mean_ms,omitempty"`
	ServerMemory    *Memory `json:"server_memory,omitempty"`
	// CPU is the CPU time spent from the tickets' last answer until every
	// stage had arrived on both channels (or the settle time ran out): the
	// firing, recording and delivery of the stages, per 1,000 stages. Under
	// a bulk import (BulkLateness) it counts the import too.
	CPU *SpanCPU `json:"cpu,omitempty"`

	// sentAt is when the first ticket was sent, settledAt when the wait
	// for the stages ended: the window a load beside the run covers.
	sentAt, settledAt time.Time
}

// Arrival is what one channel received: receipt minus due instant, and how
// many of the expected stages arrived once, twice or never.
type Arrival struct {
	Lateness   Latency `json:"lateness"`
	Received   int     `json:"received"`
	Missing    int     `json:"missing"`
	Duplicates int     `json:"duplicates"`
	Unexpected int     `json:"unexpected"`
	// Closed is why the server closed the stream early, if it did.
	Closed string `json:"closed,omitempty"`
}

type stageKey struct{ ticket, clock, stage string }

// receipt is one alert received: its stage, when it arrived and, from a
// WebSocket message, the instant the server recorded it (the payload's
// timestamp, the alert's FiredAt).
type receipt struct {
	key   stageKey
	at    time.Time
	fired time.Time
}

// Lateness creates tickets whose response breach instants fall within
// Spread of each other (their alert stages 0.75s earlier), listens on
// /ws/alerts and the mock Slack, and measures receipt − due instant for
// every stage on both channels.
func Lateness(ctx context.Context, c LatenessConfig) (*LatenessResult, error) {
	if c.Tickets == 0 {
		c.Tickets = 10000
	}
	if c.Lead == 0 {
		c.Lead = 4 * time.Second
	}
	if c.Spread == 0 {
		c.Spread = time.Second
	}
	if c.Settle == 0 {
		c.Settle = 2 * time.Minute
	}
	alertOffset := time.Duration(float64(latenessTarget) * latenessAlertFrac)

	ws, err := dialAlerts(ctx, c.Server)
	if err != nil {
		return nil, fmt.Errorf("lateness: %w", err)
	}
	defer ws.closeNow()
	c.Slack.Reset()

	base := time.Now().Add(c.Lead).Truncate(time.Millisecond)
	events, due := latenessEvents(c, base, alertOffset)
	first := base.Add(-latenessTarget + alertOffset)

	ingestStart := time.Now()
	api, err := newAPIClient(c.Server.URL, nil, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(events); i += 1000 {
		if _, err := api.Ingest(ctx, events[i:min(i+1000, len(events))]...); err != nil {
			return nil, fmt.Errorf("lateness: creating tickets: %w", err)
		}
	}
	ingested := time.Now()
	cpu0 := markCPU(c.Server.PID)
	if ingested.After(first) {
		return nil, fmt.Errorf("lateness: storing %d tickets took %v, past the first due instant; raise -lead", c.Tickets, ingested.Sub(ingestStart).Round(time.Millisecond))
	}
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "  lateness: %d tickets stored in %v; stages due from %v to %v from now\n",
			c.Tickets, ingested.Sub(ingestStart).Round(time.Millisecond), first.Sub(ingested).Round(time.Millisecond), base.Add(c.Spread).Sub(ingested).Round(time.Millisecond))
	}

	// The machine's CPU from the first due instant on, read when it comes.
	var cpuDue cpuMark
	dueRead := make(chan struct{})
	dueTimer := time.AfterFunc(time.Until(first), func() {
		cpuDue = markCPU(c.Server.PID)
		close(dueRead)
	})
	defer dueTimer.Stop()

	// Wait for both channels to have everything, or the settle time.
	deadline := base.Add(c.Spread).Add(c.Settle)
	settled := time.Now()
	var cpu1 cpuMark
	got, err := receiveAll(ctx, deadline, c.Progress, "lateness", c.Slack, ws, len(due), func() {
		settled = time.Now()
		cpu1 = markCPU(c.Server.PID)
		if c.Settled != nil {
			c.Settled()
		}
	})
	if err != nil {
		return nil, err
	}
	r := &LatenessResult{
		Tickets:         c.Tickets,
		Stages:          len(due),
		NextReplyStages: nextReplyStages(due),
		SpreadS:         c.Spread.Seconds(),
		IngestS:         round2(ingested.Sub(ingestStart).Seconds()),
		Slack:           arrival(due, got.slack),
		WebSocket:       arrival(due, got.ws),
		CPU:             spanCPU(cpu0, cpu1, settled.Sub(ingested), len(due)),
		sentAt:          ingestStart,
		settledAt:       settled,
	}
	if !dueTimer.Stop() {
		<-dueRead
		r.CPU.setDue(cpuDue, cpu1, settled.Sub(first))
	}
	if got.wsErr != nil {
		// The server dropped the client (e.g. as too slow): a result, not
		// a harness failure.
		r.WebSocket.Closed = got.wsErr.Error()
	}
	r.ExactlyOnce = r.Slack.ok() && r.WebSocket.ok()
	if m, ok := ReadMemory(c.Server.PID); ok {
		r.ServerMemory = &m
	}
	return r, nil
}

// latenessEvents lays the tickets' breach instants out evenly over the
// spread from base, and lists each stage's due instant.
func latenessEvents(c LatenessConfig, base time.Time, alertOffset time.Duration) ([]client.Event, map[stageKey]time.Time) {
	due := make(map[stageKey]time.Time, 2*c.Tickets)
	events := make([]client.Event, c.Tickets)
	for i := range c.Tickets {
		breach := base.Add(time.Duration(int64(c.Spread) * int64(i) / int64(c.Tickets)))
		created := breach.Add(-latenessTarget)
		id := fmt.Sprintf("LATE-%s-%06d", c.RunID, i)
		events[i] = client.Event{ID: id, Priority: "high", CustomerTier: "lateness", Status: "new", CreatedAt: created, UpdatedAt: created}
		clock := string(watchdog.Response)
		if c.Cycles && i%2 == 1 {
			// The agent answered at creation, a minute before; the
			// customer wrote back at the cycle's start.
			clock = string(watchdog.NextReply)
			events[i] = cycleEvent(id, created)
		}
		due[stageKey{id, clock, watchdog.StageBreach}] = breach
		due[stageKey{id, clock, watchdog.StageAlert}] = created.Add(alertOffset)
	}
	return events, due
}

func nextReplyStages(due map[stageKey]time.Time) (n int) {
	for k := range due {
		if k.clock == string(watchdog.NextReply) {
			n++
		}
	}
	return n
}

// cycleEvent is a "lateness-cycles" ticket whose next-reply cycle starts at
// start: created a minute before with an agent's answer, then a message
// from the customer.
func cycleEvent(id string, start time.Time) client.Event {
	created := start.Add(-time.Minute)
	msgs := []client.Message{{At: created, Author: client.MessageAuthorAgent}, {At: start, Author: client.MessageAuthorCustomer}}
	return client.Event{ID: id, Priority: "high", CustomerTier: "lateness-cycles", Status: "open", CreatedAt: created, UpdatedAt: start,
		Messages: &msgs}
}

func (a Arrival) ok() bool { return a.Missing == 0 && a.Duplicates == 0 && a.Unexpected == 0 }

func arrival(due map[stageKey]time.Time, got []receipt) Arrival {
	var a Arrival
	seen := make(map[stageKey]int, len(got))
	var late []time.Duration
	for _, g := range got {
		d, ok := due[g.key]
		if !ok {
			a.Unexpected++
			continue
		}
		seen[g.key]++
		if seen[g.key] > 1 {
			a.Duplicates++
			continue
		}
		late = append(late, g.at.Sub(d))
	}
	a.Received = len(got)
	a.Missing = len(due) - len(seen)
	a.Lateness = Summarize(late)
	return a
}

// slackStages reads the ticket, clock and stage of each alert in the Slack
// notifier's message: one attachment per alert (several when alerts were
// sent together), with Ticket, SLA and State fields.
func slackStages(m mockslack.Message) ([]stageKey, error) {
	atts, err := m.AttachmentFields()
	if err != nil {
		return nil, err
	}
	if len(atts) == 0 {
		return nil, errors.New("no attachment")
	}
	keys := make([]stageKey, 0, len(atts))
	for _, f := range atts {
		k := stageKey{ticket: f["Ticket"], clock: f["SLA"]}
		switch state := f["State"]; {
		case state == "ALERT":
			k.stage = watchdog.StageAlert
		case state == "BREACH":
			k.stage = watchdog.StageBreach
		case strings.HasPrefix(state, "ESCALATION "):
			k.stage = "escalation-" + strings.TrimPrefix(state, "ESCALATION ")
		}
		if k.ticket == "" || k.clock == "" || k.stage == "" {
			return nil, errors.New("an attachment without Ticket, SLA and State fields")
		}
		keys = append(keys, k)
	}
	return keys, nil
}
