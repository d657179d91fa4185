// Package mockpagerduty is a stand-in for PagerDuty's Events API v2 that
// records the events it receives, for tests, the end-to-end suite and
// demos (cmd/mockpagerduty serves it).
//
// POST /v2/enqueue takes an event as PagerDuty does (routing_key,
// event_action trigger, acknowledge or resolve, dedup_key, and for a
// trigger a payload with summary, source and severity) and answers 202;
// a malformed one gets 400 as PagerDuty answers it. GET /events lists the
// accepted events (without their routing keys, which are credentials:
// RoutingKeyOK says whether it matched Config.RoutingKey); DELETE /events
// forgets them. Status, when set, answers every enqueue with that status
// instead (with Retry-After: 1 on a 429).
package mockpagerduty

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// EnqueuePath is the Events API v2 path.
const EnqueuePath = "/v2/enqueue"

// Event is one accepted event.
type Event struct {
	Seq          int             `json:"seq"`
	ReceivedAt   time.Time       `json:"received_at"`
	EventAction  string          `json:"event_action"`
	DedupKey     string          `json:"dedup_key"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	RoutingKeyOK bool            `json:"routing_key_ok"`
}

// Config configures a Mock.
type Config struct {
	// RoutingKey, when set, is the key RoutingKeyOK compares with.
	RoutingKey string
}

// Mock is the stand-in; it is an http.Handler.
type Mock struct {
	cfg    Config
	mu     sync.Mutex
	events []Event
	status int
	notify chan struct{}
}

// New returns a Mock.
func New(cfg *Config) *Mock {
	m := &Mock{notify: make(chan struct{})}
	if cfg != nil {
		m.cfg = *cfg
	}
	return m
}

// SetStatus makes every enqueue answer status (0: accept normally).
func (m *Mock) SetStatus(status int) {
	m.mu.Lock()
	m.status = status
	m.mu.Unlock()
}

// Events returns the accepted events in arrival order.
func (m *Mock) Events() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// Wait blocks until at least n events are accepted or ctx ends.
func (m *Mock) Wait(ctx context.Context, n int) ([]Event, error) {
	for {
		m.mu.Lock()
		if len(m.events) >= n {
			out := slices.Clone(m.events)
			m.mu.Unlock()
			return out, nil
		}
		ch := m.notify
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return m.Events(), ctx.Err()
		}
	}
}

// ServeHTTP serves the Events API and the inspection endpoints.
func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == EnqueuePath && r.Method == http.MethodPost:
		m.enqueue(w, r)
	case r.URL.Path == "/events" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, m.Events())
	case r.URL.Path == "/events" && r.Method == http.MethodDelete:
		m.mu.Lock()
		m.events = nil
		m.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "invalid", "message": "not found"})
	}
}

func (m *Mock) enqueue(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	status := m.status
	m.mu.Unlock()
	if status != 0 {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeJSON(w, status, map[string]string{"status": "error", "message": http.StatusText(status)})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 512<<10))
	var ev struct {
		RoutingKey  string          `json:"routing_key"`
		EventAction string          `json:"event_action"`
		DedupKey    string          `json:"dedup_key"`
		Payload     json.RawMessage `json:"payload"`
	}
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	var p struct{ Summary, Source, Severity string }
	if ev.EventAction == "trigger" && err == nil {
		err = json.Unmarshal(ev.Payload, &p)
	}
	switch {
	case err != nil, ev.RoutingKey == "", ev.DedupKey == "",
		!slices.Contains([]string{"trigger", "acknowledge", "resolve"}, ev.EventAction),
		ev.EventAction == "trigger" && (p.Summary == "" || p.Source == "" ||
			!slices.Contains([]string{"critical", "error", "warning", "info"}, p.Severity)):
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid"})
		return
	}
	m.mu.Lock()
	m.events = append(m.events, Event{Seq: len(m.events) + 1, ReceivedAt: time.Now().UTC(), EventAction: ev.EventAction,
		DedupKey: ev.DedupKey, Payload: ev.Payload, RoutingKeyOK: m.cfg.RoutingKey == "" || ev.RoutingKey == m.cfg.RoutingKey})
	close(m.notify)
	m.notify = make(chan struct{})
	m.mu.Unlock()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
