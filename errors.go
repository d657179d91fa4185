package watchdog

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Stores translate their drivers' errors into these at their
// boundary; check them with errors.Is.
var (
	// ErrNotFound reports an unknown ticket.
	ErrNotFound = errors.New("watchdog: not found")
	// ErrInvalid reports bad input; the error is usually a *ValidationError.
	ErrInvalid = errors.New("watchdog: invalid input")
	// ErrClosed reports use of a closed store or engine.
	ErrClosed = errors.New("watchdog: closed")
	// ErrConflict reports a write that lost a race it cannot retry by itself.
	ErrConflict = errors.New("watchdog: conflict")
	// ErrUnavailable reports a store that cannot serve a call now but may
	// later: its database is unreachable (connection refused or reset, a
	// host name that does not resolve yet, a server starting up or shutting
	// down) or out of space. Nothing of the call was written; retry it
	// after a while. The HTTP API answers it with 503 and Retry-After.
	ErrUnavailable = errors.New("watchdog: store unavailable")
	// ErrStorageFull reports a write refused because the database's disk
	// (or quota) is full. It matches ErrUnavailable too: reads still work,
	// and writes succeed again once space is freed.
	ErrStorageFull error = storageFull{}
)

// storageFull is ErrStorageFull: a sentinel that matches ErrUnavailable too.
type storageFull struct{}

func (storageFull) Error() string        { return "watchdog: store out of disk space" }
func (storageFull) Is(target error) bool { return target == ErrUnavailable }

// FieldError names one bad field of one item of a batch.
type FieldError struct {
	// Item is the index of the event in its batch (0 for a single event).
	Item int `json:"item"`
	// ID is the item's ticket id when it could be read.
	ID      string `json:"id,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("item %d: %s", e.Item, e.Message)
	}
	return fmt.Sprintf("item %d: %s: %s", e.Item, e.Field, e.Message)
}

// ValidationError lists every bad field of a batch. It matches ErrInvalid
// with errors.Is.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	if len(e.Errors) == 0 {
		return "invalid input"
	}
	var b strings.Builder
	b.WriteString("invalid input: ")
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 10 {
			fmt.Fprintf(&b, "and %d more", len(e.Errors)-10)
			break
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true for validation errors.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }
