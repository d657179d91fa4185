package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// PostError is a failed POST of a notifier built on PostJSON. Its message
// names the operation and the outcome, never the URL (which may hold a
// token) nor the body.
type PostError struct {
	// Op names the notifier, such as "webhook helpdesk-hook".
	Op string
	// StatusCode is the HTTP status of the answer; 0 when none came.
	StatusCode int
	// Retryable reports whether another attempt may succeed.
	Retryable bool
	msg       string
	err       error
}

// Error describes the failure without the URL.
func (e *PostError) Error() string { return e.msg }

// Unwrap returns the cause: a network or context error.
func (e *PostError) Unwrap() error { return e.err }

// PostJSON POSTs body as application/json to target with the extra
// headers, and classifies the outcome the way every HTTP notifier here
// does: a 2xx is delivered; 429 and 503 are a *watchdog.RetryAfterError
// (429 Throttled) carrying the Retry-After wait, so that the engine pauses
// the destination; other 5xx, 408, 425, network errors and timeouts retry;
// any other status is a permanent failure.
func PostJSON(ctx context.Context, client *http.Client, op, target string, body []byte, header http.Header) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false, &PostError{Op: op, msg: op + ": cannot build the request (the URL is not shown)"}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err // url.Error quotes the URL
		}
		return true, &PostError{Op: op, Retryable: true, msg: op + ": request failed: " + cause.Error(), err: cause}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	pe := &PostError{Op: op, StatusCode: resp.StatusCode, Retryable: HTTPStatusRetryable(resp.StatusCode),
		msg: fmt.Sprintf("%s: HTTP %d", op, resp.StatusCode)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		wait, _ := RetryAfter(resp.Header, time.Now())
		return true, &watchdog.RetryAfterError{After: wait, Throttled: resp.StatusCode == http.StatusTooManyRequests, Err: pe}
	}
	return pe.Retryable, pe
}

// CheckHTTPURL reports whether s is an absolute http or https URL, without
// quoting it.
func CheckHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("is not an absolute http or https URL (not shown: it may hold a secret)")
	}
	return nil
}

// TicketLink is the dashboard URL of a ticket: dashboard with {id}
// replaced, or <dashboard>/tickets/<id>; "" without a dashboard.
func TicketLink(dashboard, id string) string {
	if dashboard == "" || id == "" {
		return ""
	}
	if strings.Contains(dashboard, "{id}") {
		return strings.ReplaceAll(dashboard, "{id}", url.PathEscape(id))
	}
	return strings.TrimRight(dashboard, "/") + "/tickets/" + url.PathEscape(id)
}
