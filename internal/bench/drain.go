package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog/client"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

// drainPolicy is the drain mode's SLA file: every ticket's four stages
// per clock are long past on import, and the one route, with inhibition
// (on by default), sends each clock's highest stage to a Slack that takes
// one message a second, 100 alerts a message. {{URL}} is the stand-in's.
const drainPolicy = `escalation: [1.5, 2.0]
tiers:
  drain:
    high: {response: 30, resolution: 180}
notifications:
  receivers:
    team: {slack: {webhook_url: "{{URL}}", max_alerts_per_message: 100}}
  routes:
    - receivers: [team]
`

// DrainConfig configures the drain mode.
type DrainConfig struct {
	// Binary, DatabaseURL and WorkDir spawn the server as Plan does.
	Binary      string
	DatabaseURL string
	WorkDir     string
	Label       string
	// Tickets to import, every stage long past.
	Tickets int
	// Timeout bounds the wait for the backlog to drain.
	Timeout  time.Duration
	Progress io.Writer
}

// DrainResult is what the drain mode measured.
type DrainResult struct {
	Tickets int `json:"tickets"`
	// Entries is the alerts Slack must show: each clock's highest stage.
	Entries int `json:"entries"`
	// Recorded is the alerts recorded (4 stages per clock).
	Recorded int `json:"alerts_recorded"`
	// IngestS is how long importing the tickets took.
	IngestS float64 `json:"ingest_s"`
	// DrainS is from the first import request to the last entry received.
	DrainS float64 `json:"drain_s"`
	// FloorS is Entries / 100 per message / 1 message per second.
	FloorS float64 `json:"floor_s"`
	// Messages Slack accepted and requests it refused with 429.
	Messages  int `json:"messages"`
	Refused   int `json:"refused_429"`
	MaxPerMsg int `json:"max_alerts_per_message"`
	// ExactlyOnce: every clock's highest stage received once, nothing else.
	ExactlyOnce bool `json:"exactly_once"`
	Duplicates  int  `json:"duplicates"`
	Unexpected  int  `json:"unexpected"`
	// Failed counts deliveries recorded as failed for good.
	Failed float64 `json:"failed"`
}

// Drain imports Tickets tickets whose every stage is past through a
// notifications route to a Slack stand-in that enforces Slack's rate (one
// message a second, else 429 with Retry-After), and measures how long the
// backlog takes to drain and that each clock's highest stage arrives once.
func Drain(ctx context.Context, c DrainConfig) (*DrainResult, error) {
	mock, err := mockslack.New(&mockslack.Config{Faults: mockslack.Faults{RatePerSecond: 1}})
	if err != nil {
		return nil, err
	}
	slackSrv := httptest.NewServer(mock)
	defer slackSrv.Close()
	sla := filepath.Join(c.WorkDir, "drain_sla.yaml")
	policy := strings.ReplaceAll(drainPolicy, "{{URL}}", slackSrv.URL+mockslack.WebhookPath)
	if err := os.WriteFile(sla, []byte(policy), 0o644); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(c.WorkDir, c.Label+"-drain.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	srv, err := Spawn(ctx, SpawnConfig{Binary: c.Binary, DatabaseURL: c.DatabaseURL, SLAFile: sla, Log: logFile})
	if err != nil {
		return nil, err
	}
	defer func() { _ = srv.Stop() }()
	api, err := newAPIClient(srv.URL, nil, 2*time.Minute)
	if err != nil {
		return nil, err
	}
	created := time.Now().Add(-365 * 24 * time.Hour).UTC().Truncate(time.Second)
	events := make([]client.Event, c.Tickets)
	for i := range events {
		events[i] = client.Event{ID: fmt.Sprintf("DRAIN-%06d", i), Priority: "high", CustomerTier: "drain", Status: "open", CreatedAt: created, UpdatedAt: created}
	}
	res := &DrainResult{Tickets: c.Tickets, Entries: 2 * c.Tickets, Recorded: 8 * c.Tickets}
	res.FloorS = float64(res.Entries) / 100
	start := time.Now()
	for i := 0; i < len(events); i += 1000 {
		if _, err := api.Ingest(ctx, events[i:min(i+1000, len(events))]...); err != nil {
			return nil, fmt.Errorf("drain: importing tickets: %w", err)
		}
	}
	res.IngestS = round2(time.Since(start).Seconds())
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "  drain: %d tickets imported in %.1fs; waiting for %d entries (floor %.0fs)\n", c.Tickets, res.IngestS, res.Entries, res.FloorS)
	}
	waitCtx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	stop := progress(waitCtx, c.Progress, "drain", func() string {
		return fmt.Sprintf("%d of %d entries, %d messages, %d refused", mock.AttachmentCount(), res.Entries, mock.Stats().Accepted, mock.Stats().Injected)
	})
	msgs, err := mock.WaitAttachments(waitCtx, res.Entries)
	stop()
	res.DrainS = round2(time.Since(start).Seconds())
	if err != nil {
		return res, fmt.Errorf("drain: %d of %d entries after %v: %w", mock.AttachmentCount(), res.Entries, c.Timeout, err)
	}
	time.Sleep(2 * time.Second) // anything more would be a duplicate
	msgs = mock.Messages()
	st := mock.Stats()
	res.Messages, res.Refused = st.Accepted, st.Injected
	seen := map[string]int{}
	for _, m := range msgs {
		res.MaxPerMsg = max(res.MaxPerMsg, m.Attachments)
		fields, err := m.AttachmentFields()
		if err != nil {
			return res, err
		}
		for _, f := range fields {
			if f["State"] != "ESCALATION 2" {
				res.Unexpected++
			}
			seen[f["Ticket"]+"/"+f["SLA"]]++
		}
	}
	for _, n := range seen {
		res.Duplicates += n - 1
	}
	res.ExactlyOnce = len(seen) == res.Entries && res.Duplicates == 0 && res.Unexpected == 0
	res.Failed, err = metricValue(ctx, srv.URL, `watchdog_deliveries_total{notifier="team",outcome="failed"}`)
	return res, err
}

// metricValue reads one sample of the server's /metrics (0 when absent).
func metricValue(ctx context.Context, baseURL, sample string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, sc.Err()
}
