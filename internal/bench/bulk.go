package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// BulkConfig configures a bulk import that runs beside another
// measurement: the ingest mode's workload (Batch events per request, one
// stream per connection, the same share of updates and the same mix of
// tiers, priorities and statuses) posted at a fixed rate until stopped.
type BulkConfig struct {
	// Workload gives Batch, Streams, UpdateFraction, RunID and Seed; its
	// Events and Base are ignored (the import runs until Stop, and its
	// tickets are created in the two hours before it starts).
	Workload
	// Server receives the events.
	Server *Server
	// Rate is the events per second to post, spread evenly over the
	// streams.
	Rate float64
	// Progress receives a line every few seconds; nil is silent.
	Progress io.Writer
}

// bulkChunk is how much of the import (in time at Rate) one workload
// covers: each stream encodes its next chunk when it has sent the last.
// The first chunk is encoded before the import starts and covers the
// warm-up and the lateness run beside it with room to spare, so that no
// encoding runs in the measured window. With 5 s chunks the four streams
// encoded their second chunk at once (108,000 events at 22,000 events/s,
// about 0.4 s of CPU), 3 s after the lateness tickets were sent: just
// before their first stage came due. At 23,000 events/s the first chunk
// is 460,000 events, 77 MB of bodies, encoded in under 2 s.
const bulkChunk = 20 * time.Second

// Bulk is a bulk import in progress (StartBulk).
type Bulk struct {
	c        BulkConfig
	base     time.Time
	interval time.Duration // between two requests, over all streams
	chunk    int           // events per chunk, a multiple of Batch × Streams
	start    time.Time
	stopping chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	acked    atomic.Int64

	mu      sync.Mutex
	answers []bulkAnswer
	errs    []error
}

type bulkAnswer struct {
	at     time.Time
	events int
	took   time.Duration
}

// StartBulk encodes the first seconds of the import, then starts posting:
// stream s sends its j-th request at start + (j × Streams + s) × Batch /
// Rate, or at once when the server has kept it behind. Each request must
// answer 200 (a failure stops the import; Stop returns it).
func StartBulk(ctx context.Context, c BulkConfig) (*Bulk, error) {
	if c.Rate <= 0 || c.Batch < 1 || c.Streams < 1 {
		return nil, fmt.Errorf("bulk import: rate %.0f events/s, batch %d and connections %d must be positive", c.Rate, c.Batch, c.Streams)
	}
	per := c.Batch * c.Streams
	b := &Bulk{
		c: c,
		// Tickets are created in the two hours before now, so that with
		// PolicyYAML's targets of hours none comes due for more than an
		// hour: the import adds load, never alerts.
		base:     time.Now(),
		interval: time.Duration(float64(time.Second) * float64(c.Batch) / c.Rate),
		chunk:    max(1, int(c.Rate*bulkChunk.Seconds())/per) * per,
		stopping: make(chan struct{}),
	}
	first := make([][]encodedBatch, c.Streams)
	for s := range c.Streams {
		var err error
		if first[s], err = b.encode(0, s); err != nil {
			return nil, err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	b.start = time.Now()
	for s := range c.Streams {
		b.wg.Add(1)
		go b.stream(runCtx, s, first[s])
	}
	return b, nil
}

// encode returns stream s's batches of chunk k, each a new set of tickets.
func (b *Bulk) encode(k, s int) ([]encodedBatch, error) {
	w := b.c.Workload
	w.Events, w.Base = b.chunk, b.base
	w.RunID = fmt.Sprintf("%s-%d", b.c.RunID, k)
	w.Seed = b.c.Seed + uint64(k)
	var out []encodedBatch
	for _, batch := range w.Stream(s) {
		data, err := json.Marshal(batch)
		if err != nil {
			return nil, fmt.Errorf("bulk import: encoding a batch: %w", err)
		}
		out = append(out, encodedBatch{data, len(batch)})
	}
	return out, nil
}

func (b *Bulk) stream(ctx context.Context, s int, batches []encodedBatch) {
	defer b.wg.Done()
	fail := func(err error) {
		b.mu.Lock()
		b.errs = append(b.errs, fmt.Errorf("bulk import stream %d: %w", s, err))
		b.mu.Unlock()
		b.cancel()
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	defer hc.CloseIdleConnections()
	api, err := newAPIClient(b.c.Server.URL, hc, 5*time.Minute)
	if err != nil {
		fail(err)
		return
	}
	for j, k := 0, 0; ; j++ {
		if len(batches) == 0 {
			k++
			if batches, err = b.encode(k, s); err != nil {
				fail(err)
				return
			}
		}
		at := b.start.Add(time.Duration(j*b.c.Streams+s) * b.interval)
		t := time.NewTimer(time.Until(at))
		select {
		case <-b.stopping:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			// A stream kept behind finds its timer fired already: Stop
			// must still win over sending more.
			select {
			case <-b.stopping:
				return
			default:
			}
		}
		t0 := time.Now()
		if err := api.IngestEncoded(ctx, batches[0].body); err != nil {
			if ctx.Err() == nil {
				fail(err)
			}
			return
		}
		now := time.Now()
		b.acked.Add(int64(batches[0].events))
		b.mu.Lock()
		b.answers = append(b.answers, bulkAnswer{now, batches[0].events, now.Sub(t0)})
		b.mu.Unlock()
		batches = batches[1:]
	}
}

// Acked is how many events the server has answered so far.
func (b *Bulk) Acked() int { return int(b.acked.Load()) }

// Stop sends no more requests, waits for those in flight to be answered,
// and returns what the import achieved.
func (b *Bulk) Stop() (*BulkIngestResult, error) {
	close(b.stopping)
	b.wg.Wait()
	b.cancel()
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &BulkIngestResult{TargetPerS: round1(b.c.Rate), Batch: b.c.Batch, Connections: b.c.Streams, UpdateShare: b.c.UpdateFraction}
	var lat []time.Duration
	last := b.start
	for _, a := range b.answers {
		r.Events += a.events
		lat = append(lat, a.took)
		if a.at.After(last) {
			last = a.at
		}
	}
	r.Request = Summarize(lat)
	if el := last.Sub(b.start); el > 0 {
		r.Seconds = round2(el.Seconds())
		r.EventsPerS = float64(int(float64(r.Events) / el.Seconds()))
	}
	return r, errors.Join(b.errs...)
}

// between is how many events were answered within [from, to].
func (b *Bulk) between(from, to time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, a := range b.answers {
		if !a.at.Before(from) && !a.at.After(to) {
			n += a.events
		}
	}
	return n
}

// BulkIngestResult is what a bulk import beside another run achieved.
type BulkIngestResult struct {
	// TargetPerS is the rate the import was paced at; TargetFrom says
	// where it came from, and NoAlertsPerS is the ingest mode's rate on
	// this store kind (no alerts due, nothing else running) when this run
	// measured it.
	TargetPerS   float64 `json:"target_events_per_s"`
	TargetFrom   string  `json:"target_from"`
	NoAlertsPerS float64 `json:"no_alerts_events_per_s,omitempty"`
	Batch        int     `json:"batch"`
	Connections  int     `json:"connections"`
	UpdateShare  float64 `json:"update_share"`
	// Events were answered over Seconds (from the first request to the
	// last answer): EventsPerS.
	Events     int     `json:"events"`
	Seconds    float64 `json:"seconds"`
	EventsPerS float64 `json:"events_per_s"`
	// StartedBeforeS is how long the import ran before the measured run
	// sent its first ticket.
	StartedBeforeS float64 `json:"started_before_s"`
	// During* cover the measured run, from its first ticket sent to the end
	// of its wait for the stages: events answered in it and their rate.
	DuringEvents int     `json:"during_events"`
	DuringS      float64 `json:"during_s"`
	DuringPerS   float64 `json:"during_events_per_s"`
	// Request is the latency of one POST /tickets of Batch events.
	Request Latency `json:"request"`
}

// BulkLatenessConfig configures the lateness mode under a bulk import.
type BulkLatenessConfig struct {
	// Lateness is the measured run; its server is Bulk's.
	Lateness LatenessConfig
	// Bulk is the import beside it; Bulk.Server is set from Lateness.
	Bulk BulkConfig
	// TargetFrom says where Bulk.Rate came from; NoAlertsPerS is the ingest
	// mode's rate, when measured (both only reported).
	TargetFrom   string
	NoAlertsPerS float64
	// Warmup is how long the import runs before the lateness tickets are
	// sent (default 2s), so that they meet it at its pace.
	Warmup time.Duration
}

// BulkLatenessResult is the lateness run's figures beside the bulk import's.
type BulkLatenessResult struct {
	Lateness *LatenessResult   `json:"lateness"`
	Bulk     *BulkIngestResult `json:"bulk"`
}

// BulkLateness measures lateness (Lateness) while another client imports
// tickets at Bulk.Rate: the import starts Warmup before the lateness
// tickets are sent and stops once every stage has arrived on both channels
// (or the settle time passed). The imported tickets never come due in the
// run, so any alert of theirs would count as unexpected.
func BulkLateness(ctx context.Context, c BulkLatenessConfig) (*BulkLatenessResult, error) {
	if c.Warmup == 0 {
		c.Warmup = 2 * time.Second
	}
	c.Bulk.Server = c.Lateness.Server
	bulk, err := StartBulk(ctx, c.Bulk)
	if err != nil {
		return nil, err
	}
	stopped := false
	var bres *BulkIngestResult
	var berr error
	stopBulk := func() {
		if !stopped {
			stopped = true
			bres, berr = bulk.Stop()
		}
	}
	defer stopBulk()
	stop := progress(ctx, c.Bulk.Progress, "bulk import", func() string {
		return fmt.Sprintf("%d events answered", bulk.Acked())
	})
	select {
	case <-ctx.Done():
	case <-time.After(c.Warmup):
	}
	stop()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if bulk.Acked() == 0 {
		stopBulk()
		return nil, errors.Join(fmt.Errorf("bulk import: no request answered within the %v warm-up", c.Warmup), berr)
	}
	lc := c.Lateness
	lc.Settled = stopBulk
	l, err := Lateness(ctx, lc)
	stopBulk()
	if err != nil {
		return nil, errors.Join(err, berr)
	}
	if berr != nil {
		return nil, berr
	}
	bres.TargetFrom, bres.NoAlertsPerS = c.TargetFrom, c.NoAlertsPerS
	bres.StartedBeforeS = round2(l.sentAt.Sub(bulk.start).Seconds())
	bres.DuringEvents = bulk.between(l.sentAt, l.settledAt)
	if d := l.settledAt.Sub(l.sentAt); d > 0 {
		bres.DuringS = round2(d.Seconds())
		bres.DuringPerS = float64(int(float64(bres.DuringEvents) / d.Seconds()))
	}
	return &BulkLatenessResult{Lateness: l, Bulk: bres}, nil
}
