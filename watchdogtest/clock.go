package watchdogtest

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"
)

// Clock is a fake watchdog.Clock. Time stands still until Advance or Set
// moves it; timers whose deadline is reached then fire, in deadline order.
// It is safe for concurrent use.
type Clock struct {
	watched // guards the fields below; notified whenever timers change
	now     time.Time
	timers  []*timer
}

type timer struct {
	at time.Time
	c  chan time.Time
}

// NewClock returns a fake clock reading t.
func NewClock(t time.Time) *Clock {
	return &Clock{now: t}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock reaches now+d. A
// timer with d <= 0 fires at once.
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
		return t.c, func() bool { return false }
	}
	c.timers = append(c.timers, t)
	c.notify()
	return t.c, func() bool { return c.stop(t) }
}

func (c *Clock) stop(t *timer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			c.notify()
			return true
		}
	}
	return false
}

// Advance moves the clock forward by d, firing the timers it passes.
func (c *Clock) Advance(d time.Duration) {
	c.Set(c.Now().Add(d))
}

// Set moves the clock to t (never backwards), firing the timers it passes.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.now) {
		return
	}
	c.now = t
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	kept := c.timers[:0]
	fired := false
	for _, x := range c.timers {
		if !x.at.After(t) {
			x.c <- x.at
			fired = true
			continue
		}
		kept = append(kept, x)
	}
	c.timers = kept
	if fired {
		c.notify()
	}
}

// Timers reports how many timers are waiting.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// NextTimer returns the earliest deadline of the waiting timers.
func (c *Clock) NextTimer() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	next := c.timers[0].at
	for _, x := range c.timers[1:] {
		if x.at.Before(next) {
			next = x.at
		}
	}
	return next, true
}

// WaitForTimers blocks until at least n timers are waiting, that is until
// the loops under test have gone to sleep. It fails the test after ten
// seconds of real time.
func (c *Clock) WaitForTimers(tb testing.TB, n int) {
	tb.Helper()
	have := 0
	c.waitUntil(tb, func() bool { have = len(c.timers); return have >= n },
		func() string { return fmt.Sprintf("%d timers, have %d", n, have) })
}

// WaitForTimerAt blocks until a timer is waiting whose deadline is at or
// before t, that is until a loop under test has planned to wake by t.
func (c *Clock) WaitForTimerAt(tb testing.TB, t time.Time) {
	tb.Helper()
	c.waitUntil(tb, func() bool {
		return slices.ContainsFunc(c.timers, func(x *timer) bool { return !x.at.After(t) })
	}, func() string { return fmt.Sprintf("a timer due by %v", t) })
}
