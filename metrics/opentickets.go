package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticket-watchdog/watchdog"
)

// knownStates are always reported, at zero when absent, so that a state's
// series does not vanish when its last ticket leaves it.
var knownStates = []string{
	string(watchdog.TicketOK), string(watchdog.TicketAlert),
	string(watchdog.TicketBreach), string(watchdog.TicketUntracked),
}

// openTicketsCollector reports open tickets by state from a callback run at
// scrape time. Counting a large store is a query, so results are cached for
// a while, one count runs at a time however many scrapes wait for it, and a
// scrape waits at most the timeout: a count that fails or overruns is
// replaced by the last good one when there is one.
type openTicketsCollector struct {
	desc    *prometheus.Desc
	errors  prometheus.Counter
	clock   watchdog.Clock
	timeout time.Duration
	ttl     time.Duration
	log     *slog.Logger

	mu       sync.Mutex
	fn       OpenTicketsFunc
	gen      int // bumped by set, so a count by an old fn is not cached
	cached   map[string]int
	cachedAt time.Time
	inflight *countCall
}

// countCall is one run of the callback that several scrapes may wait for.
type countCall struct {
	done   chan struct{}
	counts map[string]int
	err    error
}

func newOpenTicketsCollector(cfg *Config) *openTicketsCollector {
	return &openTicketsCollector{
		desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "open_tickets"),
			"Open tickets by SLA state, counted at most once per cache period.", []string{"state"}, nil),
		errors:  newCounter("open_tickets_count_errors_total", "Failed or timed-out counts of open tickets."),
		clock:   cfg.Clock,
		timeout: cfg.OpenTicketsTimeout,
		ttl:     cfg.OpenTicketsTTL,
		log:     cfg.Logger,
	}
}

func (c *openTicketsCollector) set(fn OpenTicketsFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fn = fn
	c.gen++
	c.cached, c.cachedAt, c.inflight = nil, time.Time{}, nil
}

// Describe implements prometheus.Collector.
func (c *openTicketsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *openTicketsCollector) Collect(ch chan<- prometheus.Metric) {
	counts, ok, err := c.counts()
	if !ok {
		return
	}
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	out := make(map[string]int, len(counts)+len(knownStates))
	for _, s := range knownStates {
		out[s] = 0
	}
	maps.Copy(out, counts)
	for state, n := range out {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}

// counts returns the cached counts while fresh, otherwise counts anew; ok
// is false when no callback is set.
func (c *openTicketsCollector) counts() (counts map[string]int, ok bool, err error) {
	c.mu.Lock()
	if c.fn == nil {
		c.mu.Unlock()
		return nil, false, nil
	}
	if c.cached != nil && c.clock.Now().Sub(c.cachedAt) < c.ttl {
		counts = c.cached
		c.mu.Unlock()
		return counts, true, nil
	}
	call := c.inflight
	if call == nil {
		call = &countCall{done: make(chan struct{})}
		c.inflight = call
		go c.run(call, c.fn, c.gen)
	}
	c.mu.Unlock()

	// The callback gets a context with the timeout too; this wait only
	// guards against one that ignores it.
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	select {
	case <-call.done:
		err = call.err
		counts = call.counts
	case <-t.C:
		err = fmt.Errorf("metrics: counting open tickets took over %s", c.timeout)
	}
	if err == nil {
		return counts, true, nil
	}
	c.errors.Inc()
	c.log.Warn("counting open tickets for metrics failed", "err", err)
	c.mu.Lock()
	stale := c.cached
	c.mu.Unlock()
	if stale != nil {
		return stale, true, nil
	}
	return nil, true, err
}

// run calls fn once and caches a good result.
func (c *openTicketsCollector) run(call *countCall, fn OpenTicketsFunc, gen int) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	counts, err := safeCount(ctx, fn)
	if err == nil && counts == nil {
		counts = map[string]int{}
	}
	c.mu.Lock()
	if c.gen == gen {
		if err == nil {
			c.cached = maps.Clone(counts)
			c.cachedAt = c.clock.Now()
		}
		c.inflight = nil
	}
	c.mu.Unlock()
	call.counts, call.err = counts, err
	close(call.done)
}

// safeCount turns a panicking callback into an error: a scrape must never
// take the process down.
func safeCount(ctx context.Context, fn OpenTicketsFunc) (counts map[string]int, err error) {
	defer func() {
		if r := recover(); r != nil {
			counts, err = nil, fmt.Errorf("metrics: open tickets callback panicked: %v", r)
		}
	}()
	counts, err = fn(ctx)
	if err != nil {
		return nil, fmt.Errorf("metrics: counting open tickets: %w", err)
	}
	return counts, nil
}
