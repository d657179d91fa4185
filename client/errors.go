package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is an answer other than the one a call wanted: the API's status
// and its JSON error body.
type APIError struct {
	// StatusCode is the HTTP status, such as 422 or 503.
	StatusCode int
	// Message is the body's "error"; the status text when the body had none.
	Message string
	// Details name each bad item and field of a batch, or each bad query
	// parameter.
	Details []FieldError
	// RequestID is the answer's X-Request-ID, the server's log's
	// correlation id.
	RequestID string
	// RetryAfter is the answer's Retry-After (zero without one): after it,
	// a 429 or 503 call may succeed.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "watchdog API: %d %s", e.StatusCode, e.Message)
	for i, d := range e.Details {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", len(e.Details)-5)
			break
		}
		b.WriteString("; ")
		if d.Field != "" {
			fmt.Fprintf(&b, "item %d: %s: %s", d.Item, d.Field, d.Message)
		} else {
			fmt.Fprintf(&b, "item %d: %s", d.Item, d.Message)
		}
	}
	return b.String()
}

// IsNotFound reports whether err is an answer 404: no such ticket.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsInvalid reports whether err is an answer 422 or 400: the request,
// as sent, will never succeed.
func IsInvalid(err error) bool {
	s := statusOf(err)
	return s == http.StatusUnprocessableEntity || s == http.StatusBadRequest
}

func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// answerError makes the *APIError of an answer whose body is body.
func answerError(resp *http.Response, body []byte) error {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-ID")}
	e.RetryAfter, _ = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	var eb Error
	if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
		e.Message = eb.Error
		if eb.Details != nil {
			e.Details = *eb.Details
		}
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
