package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store"
)

// ReportsResult is the reports mode's figures: SLA reports over a store of
// resolved tickets spread over a year, two outcomes each.
type ReportsResult struct {
	Tickets  int     `json:"tickets"`
	Outcomes int     `json:"outcomes"`
	PreloadS float64 `json:"preload_s"`
	// BackfillS is how long Engine.BackfillOutcomes took to record the
	// outcomes of every ticket (stored without them, as before upgrading).
	BackfillS float64 `json:"backfill_s"`
	// Week30 is GET /reports/sla over 30 days by tier and week; Month365
	// over 365 days by tier and month; each in turn in UTC, Europe/Berlin,
	// +05:30 and America/New_York.
	Week30   Latency       `json:"report_30d_tier_week"`
	Month365 Latency       `json:"report_365d_tier_month"`
	Export   *ExportResult `json:"export,omitempty"`
}

// ExportResult is one CSV export of every outcome over HTTP.
type ExportResult struct {
	Rows     int     `json:"rows"`
	Seconds  float64 `json:"seconds"`
	RowsPerS float64 `json:"rows_per_s"`
	// RSSBeforeMB is the server's resident memory before the export;
	// RSSMaxMB the most sampled (every 50 ms) during it.
	RSSBeforeMB float64 `json:"rss_before_mb"`
	RSSMaxMB    float64 `json:"rss_max_mb"`
}

// reportTiers are the tracked tiers of PolicyYAML.
var reportTiers = weighted{{"gold", 15}, {"silver", 30}, {"bronze", 55}}

// PreloadOutcomes stores tickets resolved over the year before now, three
// events each (new, a first response, resolved), without outcomes, then
// times the outcome backfill that records two per ticket.
func PreloadOutcomes(ctx context.Context, dbURL string, tickets int, out io.Writer, res *ReportsResult) error {
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("reports preload: %w", err)
	}
	defer st.Close()
	now := time.Now().Truncate(time.Second)
	// The columns of a resolved ticket, no outcomes: the backfill adds them.
	plan := func(t *watchdog.Ticket) watchdog.Plan {
		ev := watchdog.Evaluate(t, p, now)
		return watchdog.Plan{State: ev.State, Untracked: ev.Untracked, Open: ev.Open}
	}
	r := rand.New(rand.NewPCG(3, 4))
	var done atomic.Int64
	stop := progress(ctx, out, "reports preload", func() string { return fmt.Sprintf("%d/%d tickets", done.Load(), tickets) })
	start := time.Now()
	const batch = 5000
	events := make([]watchdog.Event, 0, 3*batch)
	for i := range tickets {
		// Created over the year before now, resolved by now (at most 54h on).
		created := now.Add(-3*24*time.Hour - time.Duration(r.Int64N(int64(362*24*time.Hour))))
		answered := created.Add(time.Duration(r.Int64N(int64(6 * time.Hour))))
		resolved := answered.Add(time.Second + time.Duration(r.Int64N(int64(48*time.Hour))))
		ev := watchdog.Event{ID: fmt.Sprintf("RP-%08d", i), Priority: priorities.pick(r), CustomerTier: reportTiers.pick(r), CreatedAt: created}
		for _, s := range []struct {
			status string
			at     time.Time
		}{{"new", created}, {"open", answered}, {"resolved", resolved}} {
			ev.Status, ev.UpdatedAt = s.status, s.at
			events = append(events, ev)
		}
		if len(events) == 3*batch || i == tickets-1 {
			if _, err := st.Ingest(ctx, events, plan); err != nil {
				stop()
				return fmt.Errorf("reports preload: ingest at ticket %d: %w", i, err)
			}
			done.Store(int64(i + 1))
			events = events[:0]
		}
	}
	stop()
	res.Tickets, res.PreloadS = tickets, round2(time.Since(start).Seconds())

	eng, err := watchdog.New(st, &watchdog.Config{Policy: p})
	if err != nil {
		return err
	}
	start = time.Now()
	n, err := eng.BackfillOutcomes(ctx)
	if err != nil {
		return err
	}
	res.BackfillS = round2(time.Since(start).Seconds())
	if n != tickets {
		return fmt.Errorf("reports preload: the backfill visited %d tickets, want %d", n, tickets)
	}
	return vacuumPostgres(ctx, dbURL)
}

// vacuumPostgres runs VACUUM ANALYZE on a Postgres store, as autovacuum
// would soon after a bulk load.
func vacuumPostgres(ctx context.Context, dbURL string) error {
	t, err := store.ParseURL(dbURL)
	if err != nil || t.Kind != store.Postgres {
		return err
	}
	db, err := sql.Open("postgres", t.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "VACUUM ANALYZE")
	return err
}

// reportZones are the zones the report queries cycle through.
var reportZones = []string{"UTC", "Europe/Berlin", "+05:30", "America/New_York"}

// TimeReports times n30 30-day reports by tier and week and n365 365-day
// reports by tier and month, through the server.
func TimeReports(ctx context.Context, srv *Server, n30, n365 int, res *ReportsResult) error {
	now := time.Now()
	run := func(n int, days int, groupBy string) (Latency, error) {
		samples := make([]time.Duration, 0, n)
		for i := range n {
			q := url.Values{"from": {now.AddDate(0, 0, -days).UTC().Format(time.RFC3339)}, "to": {now.UTC().Format(time.RFC3339)},
				"group_by": {groupBy}, "tz": {reportZones[i%len(reportZones)]}}
			start := time.Now()
			if _, err := getAll(ctx, srv.URL+"/reports/sla?"+q.Encode(), nil); err != nil {
				return Latency{}, err
			}
			samples = append(samples, time.Since(start))
		}
		return Summarize(samples), nil
	}
	var err error
	if res.Week30, err = run(n30, 30, "tier,week"); err != nil {
		return err
	}
	res.Month365, err = run(n365, 365, "tier,month")
	return err
}

// TimeExport exports every outcome as CSV over HTTP, counting rows and
// sampling the server's memory.
func TimeExport(ctx context.Context, srv *Server) (*ExportResult, error) {
	now := time.Now()
	q := url.Values{"from": {now.AddDate(-1, 0, -1).UTC().Format(time.RFC3339)}, "to": {now.Add(time.Hour).UTC().Format(time.RFC3339)}, "format": {"csv"}}
	res := &ExportResult{}
	if m, ok := ReadMemory(srv.PID); ok {
		res.RSSBeforeMB = m.CurrentMB
	}
	sampling, stop := context.WithCancel(ctx)
	defer stop()
	maxRSS := make(chan float64, 1)
	go func() {
		peak := 0.0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if m, ok := ReadMemory(srv.PID); ok && m.CurrentMB > peak {
				peak = m.CurrentMB
			}
			select {
			case <-sampling.Done():
				maxRSS <- peak
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	lines, err := getAll(ctx, srv.URL+"/reports/sla/outcomes?"+q.Encode(), countLines)
	stop()
	res.RSSMaxMB = <-maxRSS
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	res.Rows, res.Seconds = lines-1, round2(el.Seconds())
	res.RowsPerS = float64(int(float64(res.Rows) / el.Seconds()))
	return res, nil
}

// getAll GETs u and reads its body with read (nil: discard), returning
// what read counts; any status but 200 is an error.
func getAll(ctx context.Context, u string, read func(io.Reader) (int, error)) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return 0, fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if read == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return 0, err
	}
	return read(resp.Body)
}

func countLines(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	n := 0
	for {
		_, err := br.ReadSlice('\n')
		switch err {
		case nil:
			n++
		case bufio.ErrBufferFull:
		case io.EOF:
			return n, nil
		default:
			return n, err
		}
	}
}
