package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	sjson "github.com/segmentio/encoding/json"

	"github.com/ticket-watchdog/watchdog/internal/mockslack"
)

// alertStream is one client of the server's /ws/alerts, as a dashboard
// would be: it notes each alert's stage and arrival instant until closed.
// The lateness and catch-up modes share it so that both channels are
// measured the same way.
type alertStream struct {
	conn     *websocket.Conn
	stopRead context.CancelFunc
	done     chan struct{}

	mu  sync.Mutex
	got []receipt
	err error // why the server ended the stream, if it did
}

// dialAlerts connects to srv's /ws/alerts and starts reading.
func dialAlerts(ctx context.Context, srv *Server) (*alertStream, error) {
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/alerts"
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", wsURL, err)
	}
	conn.SetReadLimit(1 << 20)
	readCtx, stop := context.WithCancel(ctx)
	s := &alertStream{conn: conn, stopRead: stop, done: make(chan struct{})}
	go s.read(readCtx)
	return s, nil
}

func (s *alertStream) read(ctx context.Context) {
	defer close(s.done)
	var buf bytes.Buffer
	for {
		data, err := s.next(ctx, &buf)
		at := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			}
			return
		}
		var m streamedAlert
		if err := m.decode(data); err != nil {
			continue
		}
		s.mu.Lock()
		s.got = append(s.got, receipt{stageKey{m.TicketID, m.SLAType, m.Stage}, at, m.Timestamp})
		s.mu.Unlock()
	}
}

// next reads one message into buf, reused from message to message: the
// stream is tens of thousands of messages in a burst, and the harness's
// CPU is taken from the server it measures.
func (s *alertStream) next(ctx context.Context, buf *bytes.Buffer) ([]byte, error) {
	_, r, err := s.conn.Reader(ctx)
	if err != nil {
		return nil, err
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// streamedAlert is what the harness reads of a /ws/alerts message
// (client.AlertMessage): the stage it names and when it was recorded.
type streamedAlert struct {
	TicketID  string    `json:"ticket_id"`
	SLAType   string    `json:"sla_type"`
	Stage     string    `json:"stage"`
	Timestamp time.Time `json:"timestamp"`
}

// decode parses with github.com/segmentio/encoding/json, several times
// faster than encoding/json here, and falls back to encoding/json for a
// message it refuses.
func (m *streamedAlert) decode(data []byte) error {
	if err := sjson.Unmarshal(data, m); err == nil {
		return nil
	}
	*m = streamedAlert{}
	return json.Unmarshal(data, m)
}

// count is how many alerts have arrived so far.
func (s *alertStream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// waitFor returns once n alerts have arrived, the server has ended the
// stream, or ctx is done.
func (s *alertStream) waitFor(ctx context.Context, n int) {
	for ctx.Err() == nil {
		s.mu.Lock()
		have, err := len(s.got), s.err
		s.mu.Unlock()
		if have >= n || err != nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// close stops reading and returns what arrived, and the error with which
// the server ended the stream early, if it did.
func (s *alertStream) close() ([]receipt, error) {
	s.stopRead()
	<-s.done
	s.conn.CloseNow()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got, s.err
}

// closeNow drops the connection (for error paths; close is idempotent
// after it).
func (s *alertStream) closeNow() {
	s.stopRead()
	<-s.done
	s.conn.CloseNow()
}

// slackReceipts lists each alert the mock Slack received, with the
// instant it accepted the message that carried it.
func slackReceipts(mock *mockslack.Server) ([]receipt, error) {
	var got []receipt
	for _, m := range mock.Messages() {
		keys, err := slackStages(m)
		if err != nil {
			return nil, fmt.Errorf("slack message %d: %w", m.Seq, err)
		}
		for _, k := range keys {
			got = append(got, receipt{key: k, at: m.ReceivedAt})
		}
	}
	return got, nil
}

// received is what the Slack stand-in and the WebSocket stream received;
// wsErr is why the server closed the stream early, if it did.
type received struct {
	slack, ws []receipt
	wsErr     error
}

// receiveAll waits until both channels have n stages or deadline passes,
// reporting progress under label, calls settled then, waits a second more
// for duplicates that would arrive late, and returns what each received.
func receiveAll(ctx context.Context, deadline time.Time, w io.Writer, label string, slack *mockslack.Server, ws *alertStream, n int, settled func()) (received, error) {
	waitCtx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	stop := progress(waitCtx, w, label, func() string {
		return fmt.Sprintf("slack %d/%d, websocket %d/%d", slack.AttachmentCount(), n, ws.count(), n)
	})
	_, slackErr := slack.WaitAttachments(waitCtx, n)
	ws.waitFor(waitCtx, n)
	settled()
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
	stop()
	var got received
	got.ws, got.wsErr = ws.close()
	if err := ctx.Err(); err != nil {
		return got, err
	}
	if slackErr != nil && !errors.Is(slackErr, context.DeadlineExceeded) {
		return got, slackErr
	}
	var err error
	if got.slack, err = slackReceipts(slack); err != nil {
		return got, fmt.Errorf("%s: %w", label, err)
	}
	return got, nil
}
