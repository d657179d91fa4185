package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/api"
)

// stubService answers every call with err (a nil err: an empty success);
// with block set, it waits for the call's context to end instead.
type stubService struct {
	mu    sync.Mutex
	err   error
	block bool
}

func (s *stubService) set(err error, block bool) {
	s.mu.Lock()
	s.err, s.block = err, block
	s.mu.Unlock()
}

func (s *stubService) answer(ctx context.Context) error {
	s.mu.Lock()
	err, block := s.err, s.block
	s.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (s *stubService) Ingest(ctx context.Context, events []watchdog.Event) ([]*watchdog.Ticket, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	return []*watchdog.Ticket{{ID: events[0].ID}}, nil
}

func (s *stubService) Ticket(ctx context.Context, id string) (*watchdog.TicketView, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	return &watchdog.TicketView{Ticket: &watchdog.Ticket{ID: id}}, nil
}

func (s *stubService) Dashboard(ctx context.Context, q watchdog.DashboardQuery) (*watchdog.DashboardPage, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	return &watchdog.DashboardPage{}, nil
}

func (s *stubService) Alerts(ctx context.Context, q watchdog.AlertsQuery) ([]watchdog.Alert, error) {
	if err := s.answer(ctx); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *stubService) SLAReport(ctx context.Context, q watchdog.SLAReportQuery) ([]watchdog.SLAReportRow, error) {
	return nil, s.answer(ctx)
}

func (s *stubService) SLAOutcomes(ctx context.Context, q watchdog.SLAReportQuery, fn func(*watchdog.Outcome) error) error {
	return s.answer(ctx)
}

const oneEvent = `{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`

// call sends one request to h and returns the recorded answer.
func call(h http.Handler, method, path string) *httptest.ResponseRecorder {
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, path, strings.NewReader(oneEvent))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// How each store failure is answered, on each route that uses the store:
// a store that cannot answer now is 503 with Retry-After and a message
// saying why, never 500.
func TestStoreFailureStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		err   error
		block bool
		code  int
		msg   string
	}{
		{"unreachable", errors.Join(errors.New("dial tcp: connection refused"), watchdog.ErrUnavailable), false, 503, "unreachable"},
		{"disk full", watchdog.ErrStorageFull, false, 503, "out of disk space"},
		{"deadline", nil, true, 503, "did not answer within 50ms"},
		{"closed", watchdog.ErrClosed, false, 503, "shutting down"},
		{"other", errors.New("boom"), false, 500, "internal error"},
	} {
		svc := &stubService{}
		svc.set(tc.err, tc.block)
		h, err := api.New(svc, &api.Config{RequestTimeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for _, rq := range [][2]string{{http.MethodPost, "/tickets"}, {http.MethodGet, "/tickets/1"}, {http.MethodGet, "/dashboard"},
			{http.MethodGet, "/reports/sla"}, {http.MethodGet, "/reports/sla/outcomes?format=csv"}} {
			start := time.Now()
			rec := call(h, rq[0], rq[1])
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.msg) {
				t.Errorf("%s: %s %s: %d %s; want %d saying %q", tc.name, rq[0], rq[1], rec.Code, rec.Body, tc.code, tc.msg)
			}
			if (tc.code == 503) != (rec.Header().Get("Retry-After") != "") {
				t.Errorf("%s: %s %s: %d with Retry-After %q; want it on 503s only", tc.name, rq[0], rq[1], rec.Code, rec.Header().Get("Retry-After"))
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("%s: %s %s took %s with a 50ms request timeout", tc.name, rq[0], rq[1], took)
			}
		}
	}
}

// A store that stops answering is logged once, not once per request, and
// once more when it answers again. While the disk is full, reads that
// succeed do not count as recovery.
func TestStoreStateLoggedOncePerChange(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	svc := &stubService{}
	h, err := api.New(svc, &api.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	count := func(s string) int { return strings.Count(logs.String(), s) }
	svc.set(watchdog.ErrUnavailable, false)
	for range 5 {
		call(h, http.MethodGet, "/dashboard")
		call(h, http.MethodPost, "/tickets")
	}
	svc.set(nil, false)
	call(h, http.MethodGet, "/dashboard")
	call(h, http.MethodGet, "/dashboard")
	if u, a := count(`"msg":"store unavailable`), count(`"msg":"store available again`); u != 1 || a != 1 {
		t.Errorf("%d unavailable and %d available-again lines for an outage of 10 requests; want 1 and 1:\n%s", u, a, logs)
	}
	if n := count(`"level":"ERROR","msg":"request failed"`); n != 0 {
		t.Errorf("%d request-failed lines; want none", n)
	}
	if !strings.Contains(logs.String(), `"requests_refused":10`) {
		t.Errorf("the recovery line should count the 10 refused requests:\n%s", logs)
	}

	svc.set(watchdog.ErrStorageFull, false)
	call(h, http.MethodPost, "/tickets")
	svc.set(nil, false)
	call(h, http.MethodGet, "/dashboard") // reads go on while the disk is full
	if a := count(`"msg":"store available again`); a != 1 {
		t.Errorf("a read counted as recovery from a full disk")
	}
	call(h, http.MethodPost, "/tickets")
	if u, a := count(`"msg":"store unavailable`), count(`"msg":"store available again`); u != 2 || a != 2 {
		t.Errorf("%d unavailable and %d available-again lines after a full disk came back; want 2 and 2", u, a)
	}
}
