package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// This file sends row sets with COPY ... FROM STDIN instead of statements
// over unnest arrays. The server parses COPY's rows field by field, with no
// array to parse, unnest and materialise first; the rows are encoded here
// straight into COPY's text format, with no array literal per column.
// Ingest copies its plain inserts (new tickets, new timeline events) this
// way, into the tables themselves: each is a plain insert under the batch's
// row locks, exactly as the statements were, so a unique violation (a
// concurrent batch created the same ticket) still fails the transaction,
// which reruns.

// copyRows is rows in COPY's text format: fields separated by tabs, rows
// ended by newlines, \N for NULL.
type copyRows struct {
	buf []byte
	n   int // rows
}

// text appends a text field, escaped.
func (r *copyRows) text(s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '\t', '\n', '\r':
			r.escaped(s)
			return
		}
	}
	r.buf = append(r.buf, s...)
	r.buf = append(r.buf, '\t')
}

func (r *copyRows) escaped(s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			r.buf = append(r.buf, '\\', '\\')
		case '\t':
			r.buf = append(r.buf, '\\', 't')
		case '\n':
			r.buf = append(r.buf, '\\', 'n')
		case '\r':
			r.buf = append(r.buf, '\\', 'r')
		default:
			r.buf = append(r.buf, c)
		}
	}
	r.buf = append(r.buf, '\t')
}

// nullText appends s, or NULL for "".
func (r *copyRows) nullText(s string) {
	if s == "" {
		r.null()
		return
	}
	r.text(s)
}

func (r *copyRows) null() { r.buf = append(r.buf, '\\', 'N', '\t') }

func (r *copyRows) bool(v bool) {
	if v {
		r.buf = append(r.buf, 't', '\t')
	} else {
		r.buf = append(r.buf, 'f', '\t')
	}
}

func (r *copyRows) int(v int64) {
	r.buf = strconv.AppendInt(r.buf, v, 10)
	r.buf = append(r.buf, '\t')
}

// time appends t in UTC to the microsecond (the stored precision).
func (r *copyRows) time(t time.Time) {
	r.buf = appendTimestamp(r.buf, t)
	r.buf = append(r.buf, '\t')
}

// timePtr appends *t, or NULL for nil.
func (r *copyRows) timePtr(t *time.Time) {
	if t == nil {
		r.null()
		return
	}
	r.time(*t)
}

// end ends the row.
func (r *copyRows) end() {
	r.buf[len(r.buf)-1] = '\n'
	r.n++
}

// appendTimestamp appends t as a timestamptz literal in UTC, to the
// microsecond (ISO 8601 with a T, so that an array literal needs no
// quotes). time.Format takes several times as long, for every time column
// of every row.
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 1 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.999999Z")
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendDigits(b, us, 6)
	}
	return append(b, '+', '0', '0')
}

// appendDigits appends v (non-negative, fewer than width digits) zero-padded
// to width digits.
func appendDigits(b []byte, v, width int) []byte {
	n := len(b) + width
	b = append(b, "000000"[:width]...)
	for i := n - 1; v > 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// copyBufs recycles the buffers of copyRows: a batch of 1,000 tickets is
// a few hundred KiB of rows, allocated anew for each batch otherwise.
var copyBufs = sync.Pool{New: func() any { return &copyRows{buf: make([]byte, 0, 256<<10)} }}

// copyStmt is lib/pq's statement for COPY ... FROM STDIN: besides Exec (one
// row of values, or none to finish), it takes rows already in COPY's text
// format.
type copyStmt interface {
	driver.Stmt
	CopyData(ctx context.Context, line string) (driver.Result, error)
}

var errNoCopy = errors.New("the connection's driver does not offer COPY FROM STDIN data")

// copyChunk is about how much of rows each CopyData call passes: lib/pq
// sends its buffer once it passes 63 KiB.
const copyChunk = 60 << 10

// copyIn runs query, a COPY ... FROM STDIN, with rows on c, a connection of
// lib/pq inside a transaction. A row the server refuses fails the COPY and
// with it the transaction, as a failed statement does. ctx bounds every
// round trip, as the connector does for statements: when it ends, the
// connection is cut and discarded.
func copyIn(ctx context.Context, c *sql.Conn, query string, rows *copyRows) error {
	if rows.n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.Raw(func(dc any) error {
		if own, ok := dc.(*conn); ok {
			stop := context.AfterFunc(ctx, own.d.cut)
			defer func() {
				if !stop() {
					own.broken.Store(true)
				}
			}()
		}
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errNoCopy
		}
		st, err := prep.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		cs, ok := st.(copyStmt)
		if !ok {
			_ = st.Close()
			return errNoCopy
		}
		err = sendRows(ctx, cs, rows.buf)
		if err == nil {
			// No values: the end of the data (lib/pq's COPY has only
			// Exec). It waits for the server's verdict on every row.
			_, err = cs.Exec(nil)
		}
		// Close ends the COPY on the wire whatever happened before, so
		// that the connection is usable again (or known bad).
		if cerr := cs.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// sendRows passes data, whole rows each ending in a newline, to cs in
// chunks of whole rows. CopyData adds the newline after each chunk.
func sendRows(ctx context.Context, cs copyStmt, data []byte) error {
	for len(data) > 0 {
		n := len(data)
		if n > copyChunk {
			// Raw newlines only end rows: escaping turns those inside
			// values into \n.
			n = copyChunk + bytes.IndexByte(data[copyChunk:], '\n') + 1
		}
		// CopyData copies the chunk into its buffer and keeps nothing
		// of it: no copy of the whole data as a string first.
		if _, err := cs.CopyData(ctx, unsafe.String(&data[0], n-1)); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// copyTx is a write transaction (see beginWrite) on a connection of its
// own, so that COPY can reach the driver's connection, which a
// database/sql transaction does not give.
type copyTx struct {
	*sql.Tx
	conn    *sql.Conn // nil when the pool's driver is not lib/pq: no COPY
	release func()    // frees the context the transaction began with
	// ctx is the caller's context, which a transaction on conn does not
	// watch (see beginCopyPlanned); nil otherwise.
	ctx context.Context
}

// Commit commits the transaction unless its caller's context has ended:
// the check database/sql makes for a transaction that watches it, so that
// a call whose context ended never commits, nor waits on a server that
// stopped answering.
func (t *copyTx) Commit() error {
	if t.ctx != nil {
		if err := t.ctx.Err(); err != nil {
			return err
		}
	}
	return t.Tx.Commit()
}

// beginCopyWrite starts a write transaction planned for keyed batches, on
// a connection of its own when the driver can COPY.
func (s *Store) beginCopyWrite(ctx context.Context) (*copyTx, error) {
	return s.beginCopyPlanned(ctx, keyedPlans)
}

// beginCopyPlanned starts a write transaction with the planner settings
// plans, on a connection of its own when the driver can COPY.
func (s *Store) beginCopyPlanned(ctx context.Context, plans string) (*copyTx, error) {
	if !s.canCopy {
		tx, err := s.beginPlanned(ctx, plans)
		if err != nil {
			return nil, err
		}
		return &copyTx{Tx: tx.Tx}, nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// Once begun, the transaction does not watch ctx: database/sql would
	// roll it back and close c from a goroutine of its own when ctx ends,
	// racing a copyIn's c.Raw (which then finds no connection and panics).
	// BEGIN itself still gives up when ctx ends, and every statement after
	// it takes ctx, so an ended ctx fails the next one; end rolls back.
	bctx, release := context.WithCancel(context.WithoutCancel(ctx))
	unwatch := context.AfterFunc(ctx, release)
	tx, err := c.BeginTx(bctx, nil)
	if !unwatch() {
		// ctx ended during BEGIN: BEGIN gave up with bctx's error, or
		// database/sql is rolling the transaction back.
		if err == nil {
			_ = tx.Rollback()
		}
		err = ctx.Err()
	}
	if err == nil {
		if _, err = tx.ExecContext(ctx, plans); err != nil {
			_ = tx.Rollback()
		}
	}
	if err != nil {
		_ = c.Close()
		release()
		return nil, err
	}
	return &copyTx{Tx: tx, conn: c, release: release, ctx: ctx}, nil
}

// end rolls the transaction back unless it committed, and gives its
// connection back to the pool.
func (t *copyTx) end() {
	_ = t.Rollback()
	if t.conn != nil {
		_ = t.conn.Close()
	}
	if t.release != nil {
		t.release()
	}
}

// copyEventsSQL copies timeline events in the columns copyRows.event writes.
const copyEventsSQL = `COPY ticket_timeline (ticket_id, updated_at, status, priority, customer_tier,
	created_at, first_response_at, attributes, tags) FROM STDIN`

// copyInserts copies the new timeline events and the new tickets, in the
// tickets' merge (id) order, as the statements they replace inserted them.
func (w *ingestWrites) copyInserts(ctx context.Context, c *sql.Conn) error {
	rows := copyBufs.Get().(*copyRows)
	defer func() {
		*rows = copyRows{buf: rows.buf[:0]}
		copyBufs.Put(rows)
	}()
	for _, evs := range w.fresh {
		for i := range evs {
			rows.event(&evs[i])
		}
	}
	if err := copyIn(ctx, c, copyEventsSQL, rows); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	*rows = copyRows{buf: rows.buf[:0]}
	for _, t := range w.created {
		rows.ticket(t)
	}
	if err := copyIn(ctx, c, `COPY tickets (id, priority, customer_tier, status, created_at, updated_at,
		first_response_at, sla_state, untracked_reason, open, next_due_at, breach_at, backfilled_at, policy,
		attributes, tags, sla_calendar, open_clocks, response_breach_at, resolution_breach_at) FROM STDIN`, rows); err != nil {
		return fmt.Errorf("insert tickets: %w", err)
	}
	return nil
}

// event appends a ticket_timeline row.
func (r *copyRows) event(ev *watchdog.Event) {
	r.text(ev.ID)
	r.time(ev.UpdatedAt)
	r.text(ev.Status)
	r.text(ev.Priority)
	r.text(ev.CustomerTier)
	r.time(ev.CreatedAt)
	r.timePtr(ev.FirstResponseAt)
	r.nullText(sqlstore.EncodeAttributes(ev.Attributes))
	r.nullText(sqlstore.EncodeTags(ev.Tags))
	r.end()
}

// ticket appends a tickets row, escalation_level left to its default (a
// new ticket has no alerts).
func (r *copyRows) ticket(t *watchdog.Ticket) {
	r.text(t.ID)
	r.text(t.Priority)
	r.text(t.CustomerTier)
	r.text(t.Status)
	r.time(t.CreatedAt)
	r.time(t.UpdatedAt)
	r.timePtr(t.FirstResponseAt)
	r.text(string(t.State))
	r.text(t.Untracked)
	r.bool(t.Open)
	r.timePtr(t.NextDueAt)
	r.timePtr(t.BreachAt)
	r.timePtr(t.BackfilledAt)
	r.text(t.Policy)
	r.nullText(sqlstore.EncodeAttributes(t.Attributes))
	r.nullText(sqlstore.EncodeTags(t.Tags))
	oc := &t.OpenClocks
	r.text(oc.Calendar)
	r.int(int64(oc.Mask()))
	r.timePtr(oc.ResponseBreachAt)
	r.timePtr(oc.ResolutionBreachAt)
	r.end()
}
