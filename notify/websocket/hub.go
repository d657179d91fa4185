package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	watchdog "github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/query"
)

// Defaults for the zero fields of Config.
const (
	DefaultBufferSize   = 16384
	DefaultPingInterval = 30 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

var errWriteTimeout = errors.New("write timed out")

// maxClientMessage is the largest data message a client may send; the hub
// ignores client messages, and a larger one closes the connection with
// StatusMessageTooBig.
const maxClientMessage = 4096

// Close codes and reasons the hub ends connections with.
const (
	// SlowClientStatus closes a client whose buffer of unsent messages
	// filled up: it does not read fast enough to keep up with the alerts.
	SlowClientStatus = websocket.StatusPolicyViolation
	// SlowClientReason is the close reason sent with SlowClientStatus.
	SlowClientReason = "client too slow"
	// ShutdownStatus closes every client when the hub is closed.
	ShutdownStatus = websocket.StatusGoingAway
	// ShutdownReason is the close reason sent with ShutdownStatus.
	ShutdownReason = "server shutting down"
)

// Config configures a Hub. The zero value is usable: same-origin clients
// only, defaults for the rest.
type Config struct {
	// AllowedOrigins lists host patterns (path.Match syntax, matched case
	// insensitively against the Origin's host, or against "scheme://host"
	// when the pattern holds "://") of the cross-origin pages allowed to
	// connect, as coder/websocket's AcceptOptions.OriginPatterns. Same-origin
	// requests and requests without an Origin header (non-browser clients)
	// are always allowed; empty means same-origin only.
	AllowedOrigins []string
	// BufferSize is how many messages may wait for one client before it is
	// dropped as too slow (default DefaultBufferSize).
	BufferSize int
	// PingInterval is how often each client is pinged; a client that does
	// not answer within WriteTimeout is dropped (default DefaultPingInterval).
	PingInterval time.Duration
	// WriteTimeout bounds each write (a message, or the messages queued
	// for a client, which go out together) and each ping (default
	// DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
	// MaxClients limits concurrent clients; further upgrades are refused
	// with 503 and Retry-After. Zero means unlimited.
	MaxClients int
	// TrustedHosts are host names (without port, matched case
	// insensitively) whose pages may connect from any port and scheme,
	// besides the same origin and AllowedOrigins: the names a server
	// answers to, such as localhost or its public host.
	TrustedHosts []string
}

// withDefaults returns a copy of cfg (which may be nil) with defaults filled.
func (cfg *Config) withDefaults() Config {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.AllowedOrigins = append([]string(nil), c.AllowedOrigins...)
	if c.BufferSize <= 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxClients < 0 {
		c.MaxClients = 0
	}
	return c
}

// Hub streams alerts to WebSocket clients. Mount it at /ws/alerts; feed it
// with Run (from Watchdog.Subscribe) or Publish. A client that cannot keep up
// is dropped; it never slows the publisher or the other clients. Hub does no
// authentication: wrap it in the server's auth middleware. Because
// http.Server.Shutdown does not wait for hijacked connections, call Close or
// Shutdown when the server stops.
type Hub struct {
	cfg     Config
	accept  websocket.AcceptOptions
	trusted map[string]bool // TrustedHosts, lower case
	log     *slog.Logger

	mu       sync.RWMutex
	clients  map[*client]struct{} // receiving alerts
	live     map[*client]struct{} // connections not yet finished, for Shutdown
	reserved int                  // upgrades in progress, counted against MaxClients
	closed   bool
	handlers sync.WaitGroup
}

// client is one connection: the hub sends it pre-encoded messages through
// send and tells it to go away by closing done.
type client struct {
	conn   *websocket.Conn
	out    *batchConn // conn's connection, which Accept hijacked through batchWriter
	filter filter
	send   chan []byte
	remote string

	once   sync.Once
	done   chan struct{}
	code   websocket.StatusCode // set before done is closed
	reason string
}

// stop tells the client's writer to close the connection with code; only
// the first call counts. It reports whether this call was the first.
func (c *client) stop(code websocket.StatusCode, reason string) bool {
	first := false
	c.once.Do(func() {
		c.code, c.reason = code, reason
		close(c.done)
		first = true
	})
	return first
}

// NewHub returns a hub configured by cfg; nil means defaults.
func NewHub(cfg *Config) *Hub {
	c := cfg.withDefaults()
	h := &Hub{
		cfg: c,
		// ServeHTTP checks the origin itself, to refuse in JSON.
		accept:  websocket.AcceptOptions{InsecureSkipVerify: true},
		trusted: make(map[string]bool),
		log:     c.Logger,
		clients: make(map[*client]struct{}),
		live:    make(map[*client]struct{}),
	}
	for _, host := range c.TrustedHosts {
		h.trusted[strings.ToLower(host)] = true
	}
	for _, p := range c.AllowedOrigins {
		// A malformed pattern matches nothing; say so once here rather
		// than on each refusal.
		if _, err := path.Match(p, ""); err != nil {
			h.log.Warn("websocket: malformed allowed origin pattern; cross-origin clients will be refused",
				"pattern", p, "error", err)
		}
	}
	return h
}

// ServeHTTP upgrades the request to a WebSocket and streams the alerts that
// match the query's filters until the client goes away, is dropped, or the
// hub closes. Filters (each repeatable, comma-separated lists allowed):
// ticket_id, tier (or customer_tier), priority, state (alert|breach) and
// sla_type (response|resolution). Before any upgrade, a malformed query
// string or bad filter is answered 400, a disallowed Origin 403 and a
// client over MaxClients 503, each with a JSON error.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed; use GET with a WebSocket upgrade", "")
		return
	}
	vals, err := query.Parse(r.URL.RawQuery)
	if err != nil {
		// url.Values would drop the pair and with it a filter the client
		// meant to set.
		qe, _ := errors.AsType[*query.Error](err)
		writeError(w, http.StatusBadRequest, "invalid query: "+qe.Param+": "+qe.Message, qe.Param)
		return
	}
	f, err := parseFilter(vals)
	if err != nil {
		var fe *filterError
		param := ""
		if errors.As(err, &fe) {
			param = fe.Param
		}
		writeError(w, http.StatusBadRequest, "invalid filter: "+err.Error(), param)
		return
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		writeError(w, http.StatusUpgradeRequired, "expected a WebSocket upgrade request", "")
		return
	}
	if err := h.checkOrigin(r); err != nil {
		h.log.Info("websocket: upgrade refused", "remote", r.RemoteAddr, "error", err)
		writeError(w, http.StatusForbidden, err.Error(), "")
		return
	}
	if msg, ok := h.reserve(); !ok {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, msg, "")
		return
	}

	bw := &batchWriter{ResponseWriter: w}
	conn, err := websocket.Accept(bw, r, &h.accept)
	if err != nil {
		h.release()
		// Accept has answered.
		h.log.Info("websocket: upgrade refused", "remote", r.RemoteAddr, "error", err)
		return
	}
	conn.SetReadLimit(maxClientMessage)
	c := &client{
		conn:   conn,
		out:    bw.conn,
		filter: f,
		send:   make(chan []byte, h.cfg.BufferSize),
		done:   make(chan struct{}),
		remote: r.RemoteAddr,
	}
	if !h.register(c) {
		_ = conn.Close(ShutdownStatus, ShutdownReason)
		return
	}
	defer h.handlers.Done()
	defer h.unregister(c)
	h.log.Debug("websocket: client connected", "remote", c.remote)
	h.serve(c)
}

// checkOrigin lets a browser page connect only from the server's own
// origin, a trusted host or an allowed origin; clients that send no Origin
// (not browsers) connect. The rules are coder/websocket's, plus
// TrustedHosts.
func (h *Hub) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return errors.New("the Origin header is not a URL with a host")
	}
	if strings.EqualFold(u.Host, r.Host) || h.trusted[strings.ToLower(u.Hostname())] {
		return nil
	}
	for _, p := range h.cfg.AllowedOrigins {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return nil
		}
	}
	return fmt.Errorf("pages from origin %s may not open the alert stream (not this server's origin nor an allowed origin)", u.Host)
}

// serve is the client's writer: it sends messages and pings until the
// client goes away or is stopped. The request context is not used: after
// the hijack it no longer follows the connection.
func (h *Hub) serve(c *client) {
	// The reader answers pings and the client's close, and cancels ctx when
	// the connection ends. Data messages (application keepalives, say) are
	// discarded. It is not CloseRead: that closes on data and, when it does,
	// holds the connection open for 15s waiting for itself.
	ctx, cancel := context.WithCancel(context.Background())
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel()
		for {
			if _, r, err := c.conn.Reader(ctx); err != nil {
				return
			} else if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel() // cuts the connection if it is still open
		<-readDone
	}()
	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	// stall cuts the connection when a write takes longer than WriteTimeout,
	// which unblocks the write.
	stall := time.AfterFunc(time.Hour, func() { _ = c.conn.CloseNow() })
	stall.Stop()
	defer stall.Stop()
	for {
		// A stop wins over queued messages: a slow client gets no more.
		select {
		case <-c.done:
			h.closeClient(c)
			return
		default:
		}
		select {
		case <-c.done:
			h.closeClient(c)
			return
		case <-ctx.Done():
			_ = c.conn.CloseNow()
			h.log.Debug("websocket: client disconnected", "remote", c.remote)
			return
		case msg := <-c.send:
			// One reusable timer bounds the writes instead of a context
			// deadline per message, which costs a timer and an AfterFunc
			// registration for every message.
			stall.Reset(h.cfg.WriteTimeout)
			err := h.writeQueued(c, msg)
			if !stall.Stop() && err == nil {
				err = errWriteTimeout
			}
			if err != nil {
				h.fail(c, "write", err)
				return
			}
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
			err := c.conn.Ping(pctx)
			pcancel()
			if err != nil {
				h.fail(c, "ping", err)
				return
			}
		}
	}
}

// maxBatch bounds how many queued messages one turn of a client's writer
// sends before it releases the connection and looks at pings and stops.
const maxBatch = 512

// writeQueued writes msg and then the messages queued behind it, up to
// maxBatch, holding the connection meanwhile so that they go out together.
// It stops early when the client is stopped: a stop wins over queued
// messages.
func (h *Hub) writeQueued(c *client, msg []byte) error {
	if len(c.send) == 0 {
		return c.conn.Write(context.Background(), websocket.MessageText, msg)
	}
	c.out.hold()
	for n := 1; ; n++ {
		if err := c.conn.Write(context.Background(), websocket.MessageText, msg); err != nil {
			_ = c.out.release()
			return err
		}
		if n == maxBatch || len(c.send) == 0 {
			break
		}
		select {
		case <-c.done:
			return c.out.release()
		default:
		}
		msg = <-c.send
	}
	return c.out.release()
}

// closeClient ends a stopped client's connection with its close code.
func (h *Hub) closeClient(c *client) {
	if err := c.conn.Close(c.code, c.reason); err != nil {
		h.log.Debug("websocket: close handshake failed", "remote", c.remote, "error", err)
	}
}

// fail drops a client whose write or ping failed.
func (h *Hub) fail(c *client, op string, err error) {
	_ = c.conn.CloseNow()
	select {
	case <-c.done:
		// Already being dropped or shut down; the failure is the consequence.
		return
	default:
	}
	h.log.Info("websocket: client dropped", "remote", c.remote, "op", op, "error", err)
}

// reserve counts an upgrade in progress against MaxClients; it fails when
// the hub is closed or full, with the message to answer.
func (h *Hub) reserve() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return "alert stream is shutting down", false
	}
	if h.cfg.MaxClients > 0 && len(h.live)+h.reserved >= h.cfg.MaxClients {
		return "too many alert stream clients; try again later", false
	}
	h.reserved++
	return "", true
}

func (h *Hub) release() {
	h.mu.Lock()
	h.reserved--
	h.mu.Unlock()
}

// register turns a reservation into a client; it fails when the hub closed
// during the upgrade. On success the caller must call handlers.Done.
func (h *Hub) register(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reserved--
	if h.closed {
		return false
	}
	h.clients[c] = struct{}{}
	h.live[c] = struct{}{}
	h.handlers.Add(1)
	return true
}

func (h *Hub) unregister(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	delete(h.live, c)
	h.mu.Unlock()
}

// drop stops delivering to c and has its writer close the connection.
func (h *Hub) drop(c *client, code websocket.StatusCode, reason string) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	if c.stop(code, reason) && code == SlowClientStatus {
		h.log.Warn("websocket: dropping slow client", "remote", c.remote, "buffer", h.cfg.BufferSize)
	}
}

// Publish sends a to every client whose filters match. It never blocks: a
// client whose buffer is full is dropped and closed with SlowClientStatus.
// Publish is safe for concurrent use; messages from one goroutine reach each
// client in order.
func (h *Hub) Publish(a watchdog.Alert) {
	var msg []byte
	var slow []*client
	h.mu.RLock()
	for c := range h.clients {
		if !c.filter.match(&a) {
			continue
		}
		if msg == nil {
			var err error
			if msg, err = encodeMessage(a); err != nil {
				// Message holds only strings, numbers and times; a time
				// outside years 0-9999 is the only way here.
				h.mu.RUnlock()
				h.log.Error("websocket: cannot encode alert", "ticket_id", a.TicketID, "alert_id", a.ID, "error", err)
				return
			}
		}
		select {
		case c.send <- msg:
		default:
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		h.drop(c, SlowClientStatus, SlowClientReason)
	}
}

// Run publishes every alert from alerts (typically Watchdog.Subscribe's
// channel) until ctx is done or alerts is closed. It returns nil in both
// cases; it does not close the hub.
func (h *Hub) Run(ctx context.Context, alerts <-chan watchdog.Alert) error {
	if alerts == nil {
		return errors.New("websocket: Run: nil alerts channel")
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case a, ok := <-alerts:
			if !ok {
				return nil
			}
			h.Publish(a)
		}
	}
}

// Clients returns the number of clients currently receiving alerts.
func (h *Hub) Clients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

// Close refuses new clients, closes every client with ShutdownStatus and
// waits for their connections to end. Each close handshake is bounded by
// the library's timeouts; use Shutdown to bound the whole wait.
func (h *Hub) Close() error {
	return h.Shutdown(context.Background())
}

// Shutdown is Close with a bound: when ctx is done before every client's
// close handshake has finished, the remaining connections are cut without
// one and Shutdown returns ctx's error.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	stopping := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		stopping = append(stopping, c)
		delete(h.clients, c)
	}
	h.mu.Unlock()
	for _, c := range stopping {
		c.stop(ShutdownStatus, ShutdownReason)
	}

	finished := make(chan struct{})
	go func() {
		h.handlers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	h.mu.RLock()
	remaining := make([]*client, 0, len(h.live))
	for c := range h.live {
		remaining = append(remaining, c)
	}
	h.mu.RUnlock()
	for _, c := range remaining {
		c.stop(ShutdownStatus, ShutdownReason)
		_ = c.conn.CloseNow()
	}
	<-finished
	return fmt.Errorf("websocket: shutdown: %w", ctx.Err())
}

// writeError answers a JSON error before any upgrade.
func writeError(w http.ResponseWriter, status int, msg, param string) {
	body := struct {
		Error string `json:"error"`
		Param string `json:"param,omitempty"`
	}{msg, param}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// headerHasToken reports whether a comma-separated header holds token,
// case-insensitively.
func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
