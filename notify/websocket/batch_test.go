package websocket_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	watchdog "github.com/ticket-watchdog/watchdog"
	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
)

// gatedListener's connections count their writes once armed, and the
// first armed write waits until the gate opens.
type gatedListener struct {
	net.Listener
	armed  atomic.Bool
	writes atomic.Int64
	gate   chan struct{}
	once   sync.Once
	first  chan struct{} // closed when the first armed write waits
}

func (l *gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, l: l}, nil
}

type gatedConn struct {
	net.Conn
	l *gatedListener
}

func (c *gatedConn) Write(p []byte) (int, error) {
	if c.l.armed.Load() {
		c.l.writes.Add(1)
		c.l.once.Do(func() { close(c.l.first) })
		<-c.l.gate
	}
	return c.Conn.Write(p)
}

// A burst of alerts queued for a client goes out in a few large writes,
// not one write per message, and arrives whole and in order; the client's
// ping meanwhile is answered.
func TestBurstGoesOutInFewWrites(t *testing.T) {
	t.Parallel()
	hub := wshub.NewHub(nil)
	mux := http.NewServeMux()
	mux.Handle("/ws/alerts", hub)
	srv := httptest.NewUnstartedServer(mux)
	l := &gatedListener{Listener: srv.Listener, gate: make(chan struct{}), first: make(chan struct{})}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = hub.Close() })
	conn := dial(t, hub, srv, "", nil, 1)

	// The first message's write waits at the gate while the rest queue.
	const n = 2000
	l.armed.Store(true)
	hub.Publish(alert(1, "T-1", "gold", "high", watchdog.Response, "warning"))
	select {
	case <-l.first:
	case <-time.After(waitTimeout):
		t.Fatal("the first message was not written")
	}
	for id := int64(2); id <= n; id++ {
		hub.Publish(alert(id, "T-1", "gold", "high", watchdog.Response, "warning"))
	}
	// A ping arriving meanwhile is answered: its pong waits for the
	// connection with the burst and goes out with it.
	pinged := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		pinged <- conn.Ping(ctx)
	}()
	close(l.gate)

	for want := int64(1); want <= n; want++ {
		if m := readMessage(t, conn); m.AlertID != want {
			t.Fatalf("got alert %d, want %d", m.AlertID, want)
		}
	}
	// About 310 bytes a message: 2,000 of them fill about 20 writes of 32 KiB
	// (and the pong one more).
	if w := l.writes.Load(); w > n/20 {
		t.Errorf("%d messages took %d writes, want at most %d", n, w, n/20)
	}
	// The pong may come after the last message; reading goes on for it.
	conn.CloseRead(context.Background())
	if err := <-pinged; err != nil {
		t.Errorf("ping during the burst: %v", err)
	}
	if hub.Clients() != 1 {
		t.Errorf("hub has %d clients, want 1", hub.Clients())
	}
}
