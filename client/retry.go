package client

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

// retrier sends requests with Config.HTTPClient and sends a request
// answered 429 or 503 again after its Retry-After (or a backoff from 0.5 s
// without one), at most Config.MaxRetries times, each wait at most
// Config.MaxRetryWait. A wait that would outlast the call's deadline is
// not made: the answer is returned instead.
type retrier struct {
	doer HttpRequestDoer
	cfg  Config
}

type noRetryKey struct{}

// withoutRetries marks calls whose 503 is their answer (/readyz).
func withoutRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

// Do implements HttpRequestDoer.
func (r *retrier) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		resp, err := r.doer.Do(req)
		if err != nil || !retryable(resp.StatusCode) || attempt >= r.cfg.MaxRetries || ctx.Value(noRetryKey{}) != nil {
			return resp, err
		}
		wait, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			wait = r.cfg.MaxRetryWait
			if attempt < 16 {
				wait = min(500*time.Millisecond<<attempt, wait)
			}
		}
		wait = min(wait, r.cfg.MaxRetryWait)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return resp, nil
		}
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return resp, nil // the body cannot be sent again
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		next := req.Clone(ctx)
		if req.GetBody != nil {
			if next.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = next
	}
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
