package notify

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPStatusRetryable reports whether a request that failed with the HTTP
// status code may succeed if sent again later: 408 Request Timeout, 425 Too
// Early, 429 Too Many Requests and every 5xx are retryable; any other 4xx is
// a permanent failure of this request (bad credentials, unknown destination,
// malformed payload). Codes outside 400-599 are not failures it classifies and
// report false.
func HTTPStatusRetryable(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	case code >= 500 && code <= 599:
		return true
	}
	return false
}

// maxRetryAfterSeconds keeps a delay in seconds from overflowing a Duration.
const maxRetryAfterSeconds = math.MaxInt64 / int64(time.Second)

// RetryAfter parses the Retry-After header of h: either a number of seconds
// or an HTTP date, which is taken relative to now (a date in the past gives
// zero). ok is false when the header is missing or malformed, so the caller
// falls back to its own backoff.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > maxRetryAfterSeconds {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := at.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}
