package postgres

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// DefaultConnectTimeout is the connect_timeout a DSN without one gets: how
// long dialling and the handshake may take when no context bounds them (a
// connection database/sql opens in the background, the alert listener's).
const DefaultConnectTimeout = 10 * time.Second

// cancelRequestTimeout bounds the connection lib/pq opens to send a cancel
// request, which it reads until the server closes it.
const cancelRequestTimeout = 5 * time.Second

// connector opens the pool's connections so that a call's context bounds
// every round trip, even to a server that stopped answering without closing
// its connections (a frozen host, a partition that drops packets).
//
// lib/pq uses a context only to dial: the handshake after it, and every read
// on an established connection, wait for as long as the server is silent,
// and the cancel request it sends when a query's context ends cannot reach a
// server that is not running. So:
//   - the handshake is cut when Connect's context ends;
//   - each connection has a dialer of its own. lib/pq dials through a
//     connection's dialer again only to send the cancel request of a call
//     whose context ended (conn.cancel in lib/pq), so that dial first ends
//     the blocked call: it puts the connection's socket past its deadline,
//     the read returns a timeout, and lib/pq marks the connection bad, which
//     database/sql then discards;
//   - BEGIN, the one round trip lib/pq sends before it watches the context
//     (its transaction's), is guarded here the same way.
type connector struct {
	cfg pq.Config
}

func newConnector(dsn string) (*connector, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	return &connector{cfg: cfg}, nil
}

// Connect opens one connection, giving up when ctx ends.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	d := &connDialer{}
	pc, err := pq.NewConnectorConfig(c.cfg)
	if err != nil {
		return nil, err
	}
	pc.Dialer(d)
	stop := context.AfterFunc(ctx, d.cut)
	dc, err := pc.Connect(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	if !stop() {
		// ctx ended during the handshake and may have cut the socket.
		_ = dc.Close()
		return nil, ctx.Err()
	}
	pqc, ok := dc.(pqConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("postgres: lib/pq's connection %T lacks a method the store needs", dc)
	}
	d.established()
	return &conn{pqConn: pqc, d: d}, nil
}

// pqConn is what database/sql uses of a lib/pq connection.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// conn is a lib/pq connection whose BEGIN is bounded by its context, and
// which prepares the statements of preparedSQL.
type conn struct {
	pqConn
	d *connDialer
	// broken is set once a context cut the socket: the connection's
	// protocol state is unknown, so database/sql must discard it.
	broken atomic.Bool
	// stmts are the statements of preparedSQL prepared on this
	// connection. database/sql uses a connection from one goroutine at a
	// time.
	stmts map[string]preparedStmt
}

// preparedSQL holds the statements, by their text, that each connection
// prepares the first time it runs them and then runs by name: the write
// transactions' statements of every batch. Parsing and planning them
// again for every batch was a tenth of the server's time during ingest.
// Only statements run in write transactions (see keyedPlans) belong here:
// the plan PostgreSQL may come to cache for a prepared statement is made
// under the settings of the transaction that made it. Filled by prepared
// at package initialisation only.
var preparedSQL = map[string]bool{}

// prepared registers query in preparedSQL and returns it. Call it only in
// package-level variable declarations.
func prepared(query string) string {
	preparedSQL[query] = true
	return query
}

// preparedStmt is what lib/pq's prepared statements offer.
type preparedStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

// stmt returns the prepared statement of query, preparing it on first use,
// or nil when query is not in preparedSQL (or has no arguments, which
// lib/pq sends as a simple query).
func (c *conn) stmt(ctx context.Context, query string, args []driver.NamedValue) (preparedStmt, error) {
	if len(args) == 0 || !preparedSQL[query] {
		return nil, nil
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	ds, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(preparedStmt)
	if !ok {
		_ = ds.Close()
		return nil, nil
	}
	if c.stmts == nil {
		c.stmts = make(map[string]preparedStmt)
	}
	c.stmts[query] = st
	return st, nil
}

// QueryContext runs query, by its prepared statement when it has one.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, args)
	}
	return c.pqConn.QueryContext(ctx, query, args)
}

// ExecContext runs query, by its prepared statement when it has one.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.ExecContext(ctx, args)
	}
	return c.pqConn.ExecContext(ctx, query, args)
}

// BeginTx begins a transaction, giving up when ctx ends.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	stop := context.AfterFunc(ctx, c.d.cut)
	tx, err := c.pqConn.BeginTx(ctx, opts)
	if !stop() {
		c.broken.Store(true)
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	return tx, err
}

// IsValid reports whether database/sql may reuse the connection.
func (c *conn) IsValid() bool { return !c.broken.Load() && c.pqConn.IsValid() }

// ResetSession refuses a connection a context cut.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.broken.Load() {
		return driver.ErrBadConn
	}
	return c.pqConn.ResetSession(ctx)
}

// Driver returns lib/pq's driver.
func (c *connector) Driver() driver.Driver { return &pq.Driver{} }

// connDialer dials one connection's socket and, once the connection is
// established, its cancel requests.
type connDialer struct {
	net.Dialer
	mu      sync.Mutex
	conn    net.Conn // the connection's socket (the last one dialled during the handshake)
	done    bool     // the handshake is over: further dials are cancel requests
	aborted bool     // a context cut the socket
}

// pastDeadline is a deadline already over: it wakes every blocked read and
// write of a socket.
var pastDeadline = time.Unix(1, 0)

func (d *connDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d *connDialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, addr)
}

func (d *connDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	cancelling := d.done
	if cancelling && d.conn != nil {
		// A call's context ended: end its wait on the socket.
		_ = d.conn.SetDeadline(pastDeadline)
	}
	d.mu.Unlock()
	c, err := d.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if cancelling {
		_ = c.SetDeadline(time.Now().Add(cancelRequestTimeout))
		return c, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conn = c
	if d.aborted {
		_ = c.SetDeadline(pastDeadline)
	}
	return c, nil
}

// cut ends every wait on the socket (and makes one dialled later start
// past its deadline): a context ended.
func (d *connDialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.aborted = true
	if d.conn != nil {
		_ = d.conn.SetDeadline(pastDeadline)
	}
}

// established marks the handshake over.
func (d *connDialer) established() {
	d.mu.Lock()
	d.done = true
	d.mu.Unlock()
}

// withConnectTimeout gives dsn a connect_timeout of DefaultConnectTimeout
// unless it (or PGCONNECT_TIMEOUT) sets one.
func withConnectTimeout(dsn string) string {
	if os.Getenv("PGCONNECT_TIMEOUT") != "" {
		return dsn
	}
	return withParam(dsn, "connect_timeout", strconv.Itoa(int(DefaultConnectTimeout/time.Second)))
}

// withParam adds key=value to dsn, a URL or a key=value string, unless dsn
// mentions key.
func withParam(dsn, key, value string) string {
	if strings.Contains(dsn, key) {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(strings.TrimSpace(dsn) + " " + key + "=" + value)
}
