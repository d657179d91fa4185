package sqlite

import (
	"context"
	"fmt"
	"sync"

	"github.com/ticket-watchdog/watchdog"
)

// subscriberBuffer is how many alerts a subscriber may fall behind before it
// misses some.
const subscriberBuffer = 16384

// feed fans committed alerts out to the subscribers of one Store.
type feed struct {
	mu     sync.Mutex
	subs   map[chan watchdog.Alert]struct{}
	done   chan struct{}
	closed bool
}

func newFeed() *feed {
	return &feed{subs: map[chan watchdog.Alert]struct{}{}, done: make(chan struct{})}
}

// SubscribeAlerts streams the alerts recorded through this Store from now
// on, until ctx is done or the store closes. Alerts recorded by another
// *Store on the same file (another process) are not seen. A subscriber more
// than 16384 alerts behind misses alerts; it never blocks the writer.
func (s *Store) SubscribeAlerts(ctx context.Context) (<-chan watchdog.Alert, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	return s.feed.subscribe(ctx)
}

func (f *feed) subscribe(ctx context.Context) (<-chan watchdog.Alert, error) {
	ch := make(chan watchdog.Alert, subscriberBuffer)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, fmt.Errorf("sqlite: %w", watchdog.ErrClosed)
	}
	f.subs[ch] = struct{}{}
	go func() {
		select {
		case <-ctx.Done():
		case <-f.done:
		}
		f.mu.Lock()
		delete(f.subs, ch)
		close(ch)
		f.mu.Unlock()
	}()
	return ch, nil
}

// publish hands alerts to every subscriber that has room for them.
func (f *feed) publish(alerts []watchdog.Alert) {
	if len(alerts) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		for _, a := range alerts {
			a.Deliveries = nil // as the Postgres feed: the alert alone
			select {
			case ch <- a:
			default:
			}
		}
	}
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
}
