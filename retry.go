package watchdog

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy spaces the attempts of a delivery that failed with a
// retryable error. A destination's own wait (RetryAfterError, as for HTTP
// 429) takes precedence when it is longer.
type RetryPolicy interface {
	// RetryDelay returns the wait before retry number attempt (1 for the
	// first retry).
	RetryDelay(attempt int) time.Duration
}

// ExponentialBackoff is the default RetryPolicy: delays double from Base up
// to Max, with "equal jitter" (half the delay fixed, half random) so that
// many failing deliveries do not retry in lock step. A zero Base means one
// second; a Max below Base means Base.
type ExponentialBackoff struct {
	Base time.Duration
	Max  time.Duration
}

// RetryDelay returns the wait before retry number attempt.
func (b ExponentialBackoff) RetryDelay(attempt int) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = time.Second
	}
	if max < base {
		max = base
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}
