package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// retryAfter is the Retry-After of a 503 for a store that could not answer.
const retryAfter = 5 * time.Second

// storeContext bounds the store calls a request makes from now on.
func (h *Handler) storeContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
}

// storeError answers an engine error: input errors as 4xx, a store that
// cannot answer (unreachable, out of space, past the request's deadline) as
// 503 with Retry-After, the rest as 500 with a message that holds nothing
// internal.
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *watchdog.ValidationError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusUnprocessableEntity, "invalid input", ve.Errors)
	case errors.Is(err, watchdog.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error(), nil)
	case errors.Is(err, watchdog.ErrNotFound):
		h.health.answered(false)
		writeError(w, http.StatusNotFound, "not found", nil)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		writeError(w, 499, "request cancelled", nil)
	case unavailable(err):
		h.health.failed(err)
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		writeError(w, http.StatusServiceUnavailable, h.unavailableMessage(err), nil)
	default:
		h.log.Error("request failed", "correlation_id", CorrelationID(r.Context()), "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the server log for correlation id "+CorrelationID(r.Context()), nil)
	}
}

// unavailable reports an error that says the store could not answer now,
// rather than anything about the request.
func unavailable(err error) bool {
	return errors.Is(err, watchdog.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, watchdog.ErrClosed)
}

// unavailableMessage says why the store could not answer, without its
// details (host names, file paths), which the log has.
func (h *Handler) unavailableMessage(err error) string {
	switch {
	case errors.Is(err, watchdog.ErrStorageFull):
		return "the store is out of disk space: writes are refused until space is freed; try again later"
	case errors.Is(err, context.DeadlineExceeded):
		return "the store did not answer within " + h.cfg.RequestTimeout.String() + "; try again later"
	case errors.Is(err, watchdog.ErrClosed):
		return "the service is shutting down; try again"
	}
	return "the store is unreachable; try again later"
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{}
	if h.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), min(DefaultReadyTimeout, h.cfg.RequestTimeout))
		defer cancel()
		details, err := h.cfg.Ready(ctx)
		for k, v := range details {
			body[k] = v
		}
		if err != nil {
			if unavailable(err) {
				h.health.failed(err)
				w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
			}
			body["status"], body["error"] = "unavailable", err.Error()
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
		h.health.answered(true)
	}
	body["status"] = "ready"
	writeJSON(w, http.StatusOK, body)
}

// storeHealth logs the store's state changes as requests see them: once
// when it stops answering, once when it answers again (with how long it was
// out and how many requests it refused), rather than once per request.
type storeHealth struct {
	log     *slog.Logger
	mu      sync.Mutex
	down    bool
	full    bool // down only for writes: out of disk space
	since   time.Time
	refused int
}

func (s *storeHealth) failed(err error) {
	full := errors.Is(err, watchdog.ErrStorageFull)
	s.mu.Lock()
	s.refused++
	if s.down {
		s.full = s.full && full
		s.mu.Unlock()
		return
	}
	s.down, s.full, s.since = true, full, time.Now()
	s.mu.Unlock()
	s.log.Error("store unavailable: requests that need it get 503 until it answers again", "err", err)
}

// answered notes a call the store served; wrote says whether it wrote, or
// (/readyz) checked that it can, since reads go on while the disk is full.
func (s *storeHealth) answered(wrote bool) {
	s.mu.Lock()
	if !s.down || s.full && !wrote {
		s.mu.Unlock()
		return
	}
	since, refused := s.since, s.refused
	s.down, s.refused = false, 0
	s.mu.Unlock()
	s.log.Info("store available again", "unavailable_for", time.Since(since).Round(time.Millisecond).String(), "requests_refused", refused)
}
