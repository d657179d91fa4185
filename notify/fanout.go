package notify

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// DefaultRemembered is how many alerts a Fanout or Router remembers partial
// progress for; the least recently delivered alert is forgotten first.
const DefaultRemembered = 10000

// Fanout returns a Notifier that delivers each alert to all of ns
// concurrently and succeeds when every one of them has succeeded. Nil members
// are skipped.
//
// When some members fail, Deliver reports retry if any failure is
// retryable, and wraps the error in a *watchdog.RetryAfterError carrying the
// longest wait any member asked for. Fanout remembers, per alert ID, which
// members already succeeded or failed permanently, so when the outbox retries
// the alert only the remaining members are attempted again. That memory holds
// at most DefaultRemembered alerts and lives in this process only: after a
// restart, or once an alert is evicted, every member is attempted again.
// Registering each notifier with the engine under its own name gives each a
// durable outbox row instead; Fanout is the convenient alternative.
func Fanout(ns ...watchdog.Notifier) watchdog.Notifier {
	g := newGroup(DefaultRemembered)
	for i, n := range ns {
		if n != nil {
			g.add(fmt.Sprintf("notifier %d", i), n)
		}
	}
	return watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
		return g.deliver(ctx, a, g.all())
	})
}

// group delivers to a chosen subset of its members and remembers per alert
// which members are done.
type group struct {
	names   []string
	members []watchdog.Notifier
	mem     *memory
}

func newGroup(remember int) *group {
	return &group{mem: newMemory(remember)}
}

func (g *group) add(name string, n watchdog.Notifier) int {
	g.names = append(g.names, name)
	g.members = append(g.members, n)
	return len(g.members) - 1
}

func (g *group) all() []int {
	idx := make([]int, len(g.members))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// outcome is a member's final result for one alert: success, or a permanent
// failure whose error is reported again on later calls.
type outcome struct {
	err error
}

type result struct {
	member int
	retry  bool
	err    error
}

// deliver sends a to the members in idx that are not done with it yet.
func (g *group) deliver(ctx context.Context, a watchdog.Alert, idx []int) (bool, error) {
	if len(idx) == 0 {
		return false, nil
	}
	var done map[int]outcome
	if a.ID != 0 {
		done = g.mem.get(a.ID)
	}
	var todo []int
	for _, i := range idx {
		if _, ok := done[i]; !ok {
			todo = append(todo, i)
		}
	}

	results := make([]result, len(todo))
	var wg sync.WaitGroup
	for k, i := range todo {
		wg.Go(func() {
			results[k] = g.call(ctx, i, a)
		})
	}
	wg.Wait()

	var (
		failures  []error
		retry     bool
		wait      time.Duration
		haveWait  bool
		newlyDone = make(map[int]outcome)
	)
	for _, i := range idx {
		if o, ok := done[i]; ok && o.err != nil {
			failures = append(failures, o.err)
		}
	}
	for _, r := range results {
		switch {
		case r.err == nil:
			newlyDone[r.member] = outcome{}
		case !r.retry:
			err := fmt.Errorf("%s: %w", g.names[r.member], r.err)
			newlyDone[r.member] = outcome{err: err}
			failures = append(failures, err)
		default:
			retry = true
			failures = append(failures, fmt.Errorf("%s: %w", g.names[r.member], r.err))
			if rae, ok := errors.AsType[*watchdog.RetryAfterError](r.err); ok && rae != nil && (!haveWait || rae.After > wait) {
				wait, haveWait = rae.After, true
			}
		}
	}

	if a.ID != 0 {
		if retry {
			g.mem.record(a.ID, newlyDone)
		} else {
			// Every member is done: the outbox will not ask again.
			g.mem.forget(a.ID)
		}
	}
	if len(failures) == 0 {
		return false, nil
	}
	var err error = &MultiError{Total: len(idx), Errors: failures}
	if haveWait {
		err = &watchdog.RetryAfterError{After: wait, Err: err}
	}
	return retry, err
}

// call runs one member, turning a panic into a permanent failure so that one
// broken notifier cannot take the process down from a goroutine.
func (g *group) call(ctx context.Context, i int, a watchdog.Alert) (r result) {
	r.member = i
	defer func() {
		if p := recover(); p != nil {
			r.retry, r.err = false, fmt.Errorf("notifier panicked: %v", p)
		}
	}()
	r.retry, r.err = g.members[i].Deliver(ctx, a)
	return r
}

// MultiError reports the members of a Fanout or Router that failed to deliver
// one alert. errors.Is and errors.As look into every member's error.
type MultiError struct {
	// Total is how many members the alert was meant for.
	Total  int
	Errors []error
}

// Error lists each failed member's error.
func (e *MultiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "notify: %d of %d notifiers failed: ", len(e.Errors), e.Total)
	for i, err := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the members' errors.
func (e *MultiError) Unwrap() []error { return e.Errors }

// memory is a bounded LRU map from alert ID to the members done with it.
type memory struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *memEntry, most recently used at the front
	byID  map[int64]*list.Element
}

type memEntry struct {
	id   int64
	done map[int]outcome
}

func newMemory(max int) *memory {
	return &memory{max: max, order: list.New(), byID: make(map[int64]*list.Element)}
}

// get returns a copy of the members done with alert id.
func (m *memory) get(id int64) map[int]outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.byID[id]
	if !ok {
		return nil
	}
	m.order.MoveToFront(el)
	done := el.Value.(*memEntry).done
	cp := make(map[int]outcome, len(done))
	for k, v := range done {
		cp[k] = v
	}
	return cp
}

// record adds members done with alert id, evicting the least recently used
// alert when full.
func (m *memory) record(id int64, done map[int]outcome) {
	if len(done) == 0 || m.max <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.byID[id]; ok {
		m.order.MoveToFront(el)
		e := el.Value.(*memEntry)
		for k, v := range done {
			e.done[k] = v
		}
		return
	}
	cp := make(map[int]outcome, len(done))
	for k, v := range done {
		cp[k] = v
	}
	m.byID[id] = m.order.PushFront(&memEntry{id: id, done: cp})
	for m.order.Len() > m.max {
		old := m.order.Back()
		m.order.Remove(old)
		delete(m.byID, old.Value.(*memEntry).id)
	}
}

func (m *memory) forget(id int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.byID[id]; ok {
		m.order.Remove(el)
		delete(m.byID, id)
	}
}

func (m *memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}
