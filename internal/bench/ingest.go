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

	"github.com/ticket-watchdog/watchdog/client"
)

// IngestConfig configures the ingest mode.
type IngestConfig struct {
	Workload
	// Server receives the events.
	Server *Server
	// Progress receives a line every few seconds; nil is silent.
	Progress io.Writer
}

// IngestResult is what the ingest mode measured.
type IngestResult struct {
	Events      int     `json:"events"`
	Batch       int     `json:"batch"`
	Connections int     `json:"connections"`
	UpdateShare float64 `json:"update_share"`
	Seconds     float64 `json:"seconds"`
	EventsPerS  float64 `json:"events_per_s"`
	// Request is the latency of one POST /tickets of Batch events.
	Request Latency `json:"request"`
	// Memory is the server's memory after the run, when local.
	Memory *Memory `json:"server_memory,omitempty"`
}

type encodedBatch struct {
	body   []byte
	events int
}

// Ingest posts the workload's events to the server, one stream per
// connection, and measures throughput and request latency. Every request
// must answer 200. Request bodies are encoded before the clock starts.
func Ingest(ctx context.Context, c IngestConfig) (*IngestResult, error) {
	if c.Streams < 1 || c.Batch < 1 || c.Events < 1 {
		return nil, errors.New("ingest: events, batch and connections must be positive")
	}
	streams := make([][]encodedBatch, c.Streams)
	for s := range c.Streams {
		for _, b := range c.Stream(s) {
			data, err := json.Marshal(b)
			if err != nil {
				return nil, fmt.Errorf("ingest: encoding a batch: %w", err)
			}
			streams[s] = append(streams[s], encodedBatch{data, len(b)})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sent atomic.Int64
	lat := make([][]time.Duration, c.Streams)
	errs := make([]error, c.Streams)
	stop := progress(ctx, c.Progress, "ingest", func() string {
		return fmt.Sprintf("%d/%d events", sent.Load(), c.Events)
	})
	start := time.Now()
	var wg sync.WaitGroup
	for s := range c.Streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One client per stream with one idle connection: C streams
			// are C keep-alive connections.
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
			defer hc.CloseIdleConnections()
			api, err := newAPIClient(c.Server.URL, hc, 5*time.Minute)
			if err != nil {
				errs[s] = err
				cancel()
				return
			}
			for _, b := range streams[s] {
				t0 := time.Now()
				if err := api.IngestEncoded(ctx, b.body); err != nil {
					errs[s] = err
					cancel()
					return
				}
				lat[s] = append(lat[s], time.Since(t0))
				sent.Add(int64(b.events))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	r := &IngestResult{
		Events:      int(sent.Load()),
		Batch:       c.Batch,
		Connections: c.Streams,
		UpdateShare: c.UpdateFraction,
		Seconds:     round2(elapsed.Seconds()),
		EventsPerS:  float64(int(float64(sent.Load()) / elapsed.Seconds())),
		Request:     Summarize(all),
	}
	if m, ok := ReadMemory(c.Server.PID); ok {
		r.Memory = &m
	}
	return r, nil
}

// newAPIClient is the API client the harness measures with: the typed
// client's raw paths (IngestEncoded, RawClient) cost what a hand-written
// request did, and it never retries, so that a 429 or 503 fails the run
// rather than hides in its figures.
func newAPIClient(baseURL string, hc *http.Client, timeout time.Duration) (*client.Client, error) {
	c, err := client.New(baseURL, &client.Config{HTTPClient: hc, Timeout: timeout, MaxRetries: -1})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return c, nil
}

// progress prints what() to w every five seconds until the returned stop
// is called; once stop returns, nothing more is written (the caller writes
// to w next). A nil w prints nothing.
func progress(ctx context.Context, w io.Writer, label string, what func() string) (stop func()) {
	if w == nil {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	var once sync.Once
	start := time.Now()
	go func() {
		defer close(exited)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				fmt.Fprintf(w, "  %s: %s (%.0fs)\n", label, what(), time.Since(start).Seconds())
			}
		}
	}()
	// stop waits for the printer, so that nothing is written to w after it.
	return func() {
		once.Do(func() { close(done) })
		<-exited
	}
}
