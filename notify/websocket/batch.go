package websocket

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// batchLimit is how many bytes of frames a client's connection holds
// before writing them out; a batch larger than this goes out in pieces of
// about this size.
const batchLimit = 32 << 10

// batchConn is a client's connection with writes that can be held back and
// sent together. coder/websocket flushes every message to the connection
// as its own write, one system call and one TCP segment each; in a burst
// of alerts that is most of the cost of streaming them, for the server and
// for the client reading them. The hub's writer holds the connection while
// it writes the messages already queued for the client and releases it
// when the queue is empty, so the messages of a burst go out in a few
// large writes and a lone message still goes out at once.
//
// Writes from other goroutines (coder/websocket answers pings from its
// reader) are held with the rest and go out at the release, which comes
// when the writer has drained the queue.
type batchConn struct {
	net.Conn

	mu      sync.Mutex
	holding bool
	buf     []byte
	err     error // the first failed write; every later one fails too
}

func newBatchConn(c net.Conn) *batchConn {
	return &batchConn{Conn: c}
}

// Write sends p, or keeps it to send at the release while held.
func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if !b.holding {
		return b.write(p)
	}
	if len(b.buf)+len(p) > batchLimit {
		if err := b.flush(); err != nil {
			return 0, err
		}
		if len(p) > batchLimit {
			return b.write(p)
		}
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, batchLimit)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// hold keeps later writes until release.
func (b *batchConn) hold() {
	b.mu.Lock()
	b.holding = true
	b.mu.Unlock()
}

// release sends what was held and lets later writes through. Its error is
// that of the held writes, which reported success when they were kept.
func (b *batchConn) release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holding = false
	if b.err != nil {
		return b.err
	}
	return b.flush()
}

func (b *batchConn) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.write(b.buf)
	b.buf = b.buf[:0]
	return err
}

func (b *batchConn) write(p []byte) (int, error) {
	n, err := b.Conn.Write(p)
	if err != nil {
		b.err = err
	}
	return n, err
}

// batchWriter is the hub's http.ResponseWriter for an upgrade: its Hijack
// hands coder/websocket the connection wrapped in a batchConn.
type batchWriter struct {
	http.ResponseWriter
	conn *batchConn // set by Hijack
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *batchWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack takes over the connection as the server's writer does and
// returns it wrapped, with the buffered writer moved onto the wrapper.
func (w *batchWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Whatever the server buffered for the connection goes out first.
	if err := brw.Writer.Flush(); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	w.conn = newBatchConn(conn)
	brw.Writer.Reset(w.conn)
	return w.conn, brw, nil
}
