package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/lib/pq"
	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/client"

	"github.com/ticket-watchdog/watchdog/store"
)

// PreloadConfig fills a store directly, without a server.
type PreloadConfig struct {
	// DatabaseURL names the store, as DATABASE_URL does.
	DatabaseURL string
	// Tickets is how many tickets to store.
	Tickets int
	// DueEvery makes every DueEvery-th ticket already due (created ten
	// days ago, all its stages passed): 100 gives 1% due. 0 means none.
	DueEvery int
	// Batch is how many tickets one store transaction takes (default 5,000).
	Batch int
	// Progress receives progress lines; nil is silent.
	Progress io.Writer
}

// PreloadResult reports how the store was filled.
type PreloadResult struct {
	Tickets  int     `json:"tickets"`
	Due      int     `json:"due"`
	Seconds  float64 `json:"seconds"`
	RowsPerS float64 `json:"rows_per_s"`
	Method   string  `json:"method"`
	// VacuumS is how long the VACUUM ANALYZE after a Postgres preload took:
	// autovacuum would do it soon after a bulk load, and until it does,
	// index-only scans (the dashboard's count) must visit the heap.
	VacuumS float64 `json:"vacuum_s,omitempty"`
}

// PreloadID is the id of the i-th preloaded ticket.
func PreloadID(i int) string { return fmt.Sprintf("SC-%08d", i) }

// Preload opens the store and ingests tickets through an in-process engine
// (the store's own batch Ingest with the engine's plan, as the server does
// for one POST), in big batches. Due tickets are left for the scheduler.
func Preload(ctx context.Context, c PreloadConfig) (*PreloadResult, error) {
	if c.Batch == 0 {
		c.Batch = 5000
	}
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	st, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	defer st.Close()
	eng, err := watchdog.New(st, &watchdog.Config{Policy: p})
	if err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().Truncate(time.Microsecond)
	var done atomic.Int64
	due := 0
	stop := progress(ctx, c.Progress, "preload", func() string { return fmt.Sprintf("%d/%d tickets", done.Load(), c.Tickets) })
	defer stop()
	start := time.Now()
	batch := make([]watchdog.Event, 0, c.Batch)
	for i := range c.Tickets {
		ev := watchdog.Event{ID: PreloadID(i), Priority: priorities.pick(r), CustomerTier: tiers.pick(r), Status: newStatus.pick(r)}
		if c.DueEvery > 0 && i%c.DueEvery == 0 {
			ev.CustomerTier, ev.Status = "silver", "new"
			ev.CreatedAt = now.Add(-10 * 24 * time.Hour)
			due++
		} else {
			ev.CreatedAt = now.Add(-time.Duration(r.Int64N(int64(30 * time.Minute))))
			if r.IntN(5) == 0 {
				ev.Status = "resolved"
			}
		}
		ev.UpdatedAt = ev.CreatedAt
		batch = append(batch, ev)
		if len(batch) == c.Batch || i == c.Tickets-1 {
			if _, err := eng.Ingest(ctx, batch); err != nil {
				return nil, fmt.Errorf("preload: ingest at ticket %d: %w", i, err)
			}
			done.Store(int64(i + 1))
			batch = batch[:0]
		}
	}
	elapsed := time.Since(start)
	res := &PreloadResult{
		Tickets:  c.Tickets,
		Due:      due,
		Seconds:  round2(elapsed.Seconds()),
		RowsPerS: float64(int(float64(c.Tickets) / elapsed.Seconds())),
		Method:   fmt.Sprintf("store Ingest through an in-process engine, %d tickets per transaction", c.Batch),
	}
	if t, err := store.ParseURL(c.DatabaseURL); err == nil && t.Kind == store.Postgres {
		vstart := time.Now()
		db, err := sql.Open("postgres", t.DSN)
		if err != nil {
			return nil, fmt.Errorf("preload: vacuum: %w", err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return nil, fmt.Errorf("preload: vacuum: %w", err)
		}
		res.VacuumS = round2(time.Since(vstart).Seconds())
	}
	return res, nil
}

// SchedulerResult is the scheduler's cost per wake-up.
type SchedulerResult struct {
	Stored int `json:"stored"`
	Due    int `json:"due"`
	// ClaimBatch is how many due tickets one pass claims.
	ClaimBatch int `json:"claim_batch"`
	// Pass is the duration of one pass that claimed ClaimBatch tickets
	// (or all that were due), evaluated them and recorded their alerts.
	Pass Latency `json:"pass"`
	// PerTicketUs is the mean cost per due ticket, in microseconds.
	PerTicketUs float64 `json:"per_ticket_us"`
	// Idle is a wake-up that finds nothing due: EvaluateDue plus NextDue.
	Idle   Latency `json:"idle"`
	Alerts int     `json:"alerts"`
}

type passObserver struct {
	watchdog.NopObserver
	mu     sync.Mutex
	passes []time.Duration
	n      int
}

func (o *passObserver) Evaluated(tickets, _ int, took time.Duration) {
	if tickets == 0 {
		return
	}
	o.mu.Lock()
	o.passes = append(o.passes, took)
	o.n += tickets
	o.mu.Unlock()
}

// SchedulerCost opens the store and runs the engine's scheduler pass
// (Engine.EvaluateDue, as the server's loop does at each wake-up) until
// nothing is due, claiming claimBatch tickets per pass; then times idle
// wake-ups.
func SchedulerCost(ctx context.Context, databaseURL string, stored, claimBatch int) (*SchedulerResult, error) {
	p, err := watchdog.ParsePolicy([]byte(PolicyYAML))
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	defer st.Close()
	obs := &passObserver{}
	eng, err := watchdog.New(st, &watchdog.Config{Policy: p, EvaluateBatch: claimBatch, Observer: obs})
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	start := time.Now()
	alerts, err := eng.Hooks().EvaluateDue(ctx, time.Now())
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	total := time.Since(start)
	var idle []time.Duration
	for range 20 {
		t0 := time.Now()
		if _, err := eng.Hooks().EvaluateDue(ctx, time.Now()); err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
		if _, _, err := st.NextDue(ctx); err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
		idle = append(idle, time.Since(t0))
	}
	r := &SchedulerResult{Stored: stored, Due: obs.n, ClaimBatch: claimBatch, Pass: Summarize(obs.passes), Idle: Summarize(idle), Alerts: len(alerts)}
	if obs.n > 0 {
		r.PerTicketUs = round1(float64(total.Microseconds()) / float64(obs.n))
	}
	return r, nil
}

// ReadsResult is read latency at scale.
type ReadsResult struct {
	// Dashboard is GET /dashboard?state=breach&limit=100.
	Dashboard      Latency `json:"dashboard"`
	DashboardTotal int     `json:"dashboard_total"`
	// Ticket is GET /tickets/{id} of random stored tickets.
	Ticket Latency `json:"ticket"`
	// Queue is GET /ui/, the web UI's queue page: open tickets by urgency,
	// 50 rows with their clocks evaluated, the count capped at 10,000.
	Queue      Latency `json:"queue"`
	QueueBytes int     `json:"queue_bytes"`
	Memory     *Memory `json:"server_memory,omitempty"`
}

// Reads times dashboard and ticket reads, one at a time on one connection,
// after a few warm-up requests. ids returns the i-th stored ticket id for
// i in [0, stored).
func Reads(ctx context.Context, srv *Server, stored int, ids func(int) string, dashboards, tickets int) (*ReadsResult, error) {
	api, err := newAPIClient(srv.URL, nil, time.Minute)
	if err != nil {
		return nil, err
	}
	// The generated client's raw calls, read whole but not decoded: the
	// latency is the server's and the transfer's, as before the client.
	breach, limit := client.GetDashboardParamsStateBreach, 100
	dash := func() (http.Header, error) {
		resp, err := api.Raw().GetDashboard(ctx, &client.GetDashboardParams{State: &breach, Limit: &limit})
		return drainOK(resp, err, "GET /dashboard")
	}
	ticket := func(id string) error {
		resp, err := api.Raw().GetTicket(ctx, id, nil)
		_, err = drainOK(resp, err, "GET /tickets/"+id)
		return err
	}
	r := &ReadsResult{}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 10 {
		if _, err := dash(); err != nil {
			return nil, err
		}
		if err := ticket(ids(i)); err != nil {
			return nil, err
		}
	}
	var lat []time.Duration
	for range dashboards {
		t0 := time.Now()
		h, err := dash()
		if err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
		r.DashboardTotal, _ = strconv.Atoi(h.Get("X-Total-Count"))
	}
	r.Dashboard = Summarize(lat)
	lat = nil
	for range tickets {
		id := ids(rng.IntN(stored))
		t0 := time.Now()
		if err := ticket(id); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	r.Ticket = Summarize(lat)
	if r.Queue, r.QueueBytes, err = queuePage(ctx, srv.URL, dashboards); err != nil {
		return nil, err
	}
	if m, ok := ReadMemory(srv.PID); ok {
		r.Memory = &m
	}
	return r, nil
}

// drainOK reads an answer of the raw client whole and fails unless it is
// a 200.
func drainOK(resp *http.Response, err error, what string) (http.Header, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d", what, resp.StatusCode)
	}
	return resp.Header, nil
}

// queuePage times GET /ui/, the web UI's queue, n times after a warm-up,
// one at a time on one connection; it also returns the page's size.
func queuePage(ctx context.Context, baseURL string, n int) (Latency, int, error) {
	hc := &http.Client{Timeout: time.Minute}
	size := 0
	get := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/ui/", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("GET /ui/: %w", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("GET /ui/: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /ui/: status %d", resp.StatusCode)
		}
		size = len(b)
		return nil
	}
	for range 10 {
		if err := get(); err != nil {
			return Latency{}, 0, err
		}
	}
	var lat []time.Duration
	for range n {
		t0 := time.Now()
		if err := get(); err != nil {
			return Latency{}, 0, err
		}
		lat = append(lat, time.Since(t0))
	}
	return Summarize(lat), size, nil
}
