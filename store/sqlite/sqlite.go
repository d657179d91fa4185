// Package sqlite is the embedded watchdog.Store: one SQLite file, no server,
// pure Go (modernc.org/sqlite, no cgo). It suits a single process; several
// processes on one machine may share the file, but alert subscriptions only
// see alerts recorded through the same *Store (use package store/postgres
// for several processes with a shared alert feed).
//
// The file runs in WAL mode with synchronous=NORMAL, foreign keys on and a
// busy timeout. Writes go through one dedicated connection in BEGIN
// IMMEDIATE transactions, so they never deadlock on lock upgrades and are
// serialised in the process without SQLITE_BUSY; reads use a separate pool
// and run concurrently with the writer. Batches are written with multi-row
// statements prepared once per size. Times are stored as INTEGER unix
// microseconds (UTC).
//
//	s, err := sqlite.Open(ctx, "/var/lib/watchdog/watchdog.db", nil)
//	if err != nil { ... }
//	defer s.Close()
//	engine, err := watchdog.NewEngine(s, ...)
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/migrations"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// Config tunes a Store. The zero value (or nil) means defaults.
type Config struct {
	// SkipMigrate leaves the schema alone on Open, unchecked (Migrate
	// refuses a newer one); call Migrate yourself.
	SkipMigrate bool
	// BusyTimeout is how long a statement waits for another connection's
	// lock (another process or another *Store on the same file). Default
	// 30s.
	BusyTimeout time.Duration
	// ReadConns is the size of the read pool. Default 4.
	ReadConns int
	// CacheKiB is the writer's page cache in KiB. Default 32768 (32 MiB):
	// WAL writes whole pages, and a large cache keeps the index pages an
	// ingest touches in memory. Each reader gets an eighth of it: reads are
	// served by the operating system's file cache too, which does not
	// count against the process, so large reader caches only add memory.
	CacheKiB int
}

// WithDefaults returns a copy of c with zero fields set to their defaults.
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.BusyTimeout = cmp.Or(out.BusyTimeout, 30*time.Second)
	out.ReadConns = cmp.Or(out.ReadConns, 4)
	out.CacheKiB = cmp.Or(out.CacheKiB, 32<<10)
	return &out
}

func (c *Config) validate() error {
	switch {
	case c.BusyTimeout < 0:
		return fmt.Errorf("sqlite: config BusyTimeout %s: must not be negative", c.BusyTimeout)
	case c.ReadConns < 0:
		return fmt.Errorf("sqlite: config ReadConns %d: must not be negative", c.ReadConns)
	case c.CacheKiB < 0:
		return fmt.Errorf("sqlite: config CacheKiB %d: must not be negative", c.CacheKiB)
	}
	return nil
}

// Store is the SQLite watchdog.Store. It is safe for concurrent use.
type Store struct {
	w    *sql.DB // one connection: every write transaction
	gate writeGate
	r    *sql.DB // read pool

	closed    atomic.Bool
	closeOnce sync.Once
	feed      *feed

	mu      sync.Mutex
	stmts   map[string]*sql.Stmt // prepared on w, by SQL text
	missing map[string]struct{}  // used but not prepared on w yet

	// full is set while the disk has had no room for the last write (see
	// reclaim).
	full       atomic.Bool
	reclaiming sync.Mutex

	ckpt *checkpointer // copies the log into the database file beside the writer

	// inputs tells evaluations which tickets they read before their
	// transaction are still as read (see preplan.go); wnote is what the
	// write transaction in progress changes, for inputs.
	inputs    planInputs
	wnote     writeNote
	preloadMu sync.Mutex
	// evalPart is how many preloaded tickets one write transaction of an
	// evaluation records at most (evaluationPart; tests lower it).
	evalPart int

	// handoffs are the deliveries this store handed off whose outcomes it
	// has not recorded (see handoff.go).
	handoffs sqlstore.Handoffs
}

var _ watchdog.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and, unless
// cfg.SkipMigrate, brings its schema up to date.
func Open(ctx context.Context, path string, cfg *Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: database path %q: %w", path, err)
	}
	busy := strconv.FormatInt(cfg.BusyTimeout.Milliseconds(), 10)
	common := url.Values{}
	common.Add("_pragma", "busy_timeout("+busy+")")
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "synchronous(NORMAL)")
	common.Add("_pragma", "temp_store(MEMORY)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	// The checkpointer copies the log's pages into the database file as
	// writes come; the writer's own checkpoint (in the commit that takes
	// the log past this many pages) is what restarts the log under steady
	// writes, since a write seldom begins just as every page is copied. It
	// holds every write queued behind it, so it comes every 25,000 pages
	// (about 100 MB of log at most) rather than 10,000: HTTP ingest 1.08x.
	wq.Add("_pragma", "wal_autocheckpoint(25000)")
	wq.Add("_pragma", "cache_size(-"+strconv.Itoa(cfg.CacheKiB)+")")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", dsn(abs, wq))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	keepConns(w, 1)
	// Creates the file and switches it to WAL before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, wrapCtx(ctx, "open "+abs, err)
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "cache_size(-"+strconv.Itoa(max(cfg.CacheKiB/8, 1))+")")
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", dsn(abs, rq))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	keepConns(r, cfg.ReadConns)

	c, err := sql.Open("sqlite", dsn(abs, common))
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	keepConns(c, 1)

	s := &Store{w: w, r: r, feed: newFeed(), stmts: map[string]*sql.Stmt{}, missing: map[string]struct{}{}, ckpt: newCheckpointer(c), evalPart: evaluationPart}
	if !cfg.SkipMigrate {
		if err := Migrate(ctx, w); err != nil {
			s.Close()
			return nil, err
		}
	}
	// From here on, writes by other connections show as a change.
	if err := s.inputs.lookOutside(ctx, w); err != nil {
		s.Close()
		return nil, wrapCtx(ctx, "open "+abs, err)
	}
	return s, nil
}

// keepConns sizes db's pool to n connections, kept open for the store's
// life (each holds its pragmas and prepared statements).
func keepConns(db *sql.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// dsn builds a file: URI so that any character of the path (even '?' or
// '#') survives.
func dsn(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Migrate applies the embedded SQLite migrations (package migrations) to db
// with goose. Applied versions are recorded, so running it again is a no-op.
// It refuses a database migrated beyond the last of them (by a newer
// version), whose tables this version's statements may no longer match.
func Migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations.SQLite, "sqlite")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return wrapCtx(ctx, "migrate", err)
	}
	// A file migrated by a newer version (this binary downgraded) may
	// lack what this version's statements read: refuse it rather than
	// fail request by request.
	current, latest, err := p.GetVersions(ctx)
	if err != nil {
		return wrapCtx(ctx, "migrate", err)
	}
	if current > latest {
		return fmt.Errorf("sqlite: the database is at migration %d, newer than this version knows (%d): run a version at least as new, or migrate the file down to %d first with the newer version's migrations (goose, migrations/sqlite)", current, latest, latest)
	}
	return nil
}

// Ping reports whether the database file is reachable and, after a write
// failed for lack of space, whether it has room again (an error matching
// watchdog.ErrStorageFull while it has not).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.wrap(ctx, "ping", s.r.PingContext(ctx)); err != nil {
		return err
	}
	if s.full.Load() {
		return s.reclaim(ctx)
	}
	return nil
}

// Close closes the subscriptions and the database handles. Calling it again
// does nothing.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.feed.close()
		s.mu.Lock()
		for _, st := range s.stmts {
			st.Close()
		}
		s.stmts = nil
		s.mu.Unlock()
		err = errors.Join(s.ckpt.close(), s.r.Close(), s.w.Close())
		if err != nil {
			err = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return err
}

// check refuses calls on a closed store or with a finished context.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: %w", watchdog.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// wrap translates a driver error at the boundary: a finished context and a
// closed store are reported as such (with the driver's error kept).
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if s.closed.Load() && !errors.Is(err, watchdog.ErrClosed) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, watchdog.ErrClosed, err)
	}
	return wrapCtx(ctx, op, err)
}

func wrapCtx(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlite: %s: %w: %w", op, cerr, err)
	}
	if sentinel := classify(err); sentinel != nil {
		return fmt.Errorf("sqlite: %s: %w (%w)", op, sentinel, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// inWrite runs fn in a write transaction and commits it; an error (fn's,
// or beginning or committing) is wrapped with op and nothing is written.
// While the disk is full it first tries to reclaim space, and refuses the
// write when there is none.
func (s *Store) inWrite(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return s.inWriteAs(ctx, op, normalWrite, fn)
}

// inUrgentWrite is inWrite for a notifier's delivery bookkeeping, which
// goes before the other writes waiting (see writeGate).
func (s *Store) inUrgentWrite(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return s.inWriteAs(ctx, op, urgentWrite, fn)
}

func (s *Store) inWriteAs(ctx context.Context, op string, class writeClass, fn func(tx *sql.Tx) error) error {
	if err := s.makeRoom(ctx); err != nil {
		return err
	}
	return s.writeAs(ctx, op, class, fn)
}

// makeRoom tries to reclaim space while the disk has been full for the
// last write, and refuses the write when there is none.
func (s *Store) makeRoom(ctx context.Context) error {
	if s.full.Load() {
		return s.reclaim(ctx)
	}
	return nil
}

// write is inWrite without the check for space.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return s.writeAs(ctx, op, normalWrite, fn)
}

func (s *Store) writeAs(ctx context.Context, op string, class writeClass, fn func(tx *sql.Tx) error) error {
	if err := s.gate.enter(ctx, class); err != nil {
		return s.wrap(ctx, op+": begin", err)
	}
	defer s.gate.leave()
	return s.writeHeld(ctx, op, fn)
}

// writeHeld is write for a caller that holds the gate.
func (s *Store) writeHeld(ctx context.Context, op string, fn func(tx *sql.Tx) error) (err error) {
	defer func() { s.noteWrite(err) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, op+": begin", err)
	}
	defer s.endWrite(tx)
	s.wnote = writeNote{}
	if err := fn(tx); err != nil {
		return s.wrap(ctx, op, err)
	}
	err = tx.Commit()
	if err != nil {
		// Whether anything was written is not known.
		s.wnote = writeNote{}
	}
	s.inputs.committed(s.wnote)
	if err != nil {
		return s.wrap(ctx, op+": commit", err)
	}
	s.ckpt.wrote()
	return nil
}

// stmt returns the statement for query bound to tx. Statements are prepared
// once on the writer connection and reused by every later transaction; one
// not prepared yet is prepared within tx (the single writer connection is
// busy with tx) and noted, and endWrite prepares it for good.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	st, ok := s.stmts[query]
	if !ok && s.stmts != nil {
		s.missing[query] = struct{}{}
	}
	s.mu.Unlock()
	if ok {
		return tx.StmtContext(ctx, st), nil
	}
	return tx.PrepareContext(ctx, query)
}

// endWrite ends a write transaction (rolling it back unless committed) and
// prepares the statements it noted as missing, now that the writer
// connection is free.
func (s *Store) endWrite(tx *sql.Tx) {
	tx.Rollback()
	s.mu.Lock()
	var queries []string
	for q := range s.missing {
		queries = append(queries, q)
	}
	clear(s.missing)
	s.mu.Unlock()
	for _, q := range queries {
		st, err := s.w.Prepare(q)
		if err != nil {
			continue // prepared again within the next transaction that needs it
		}
		s.mu.Lock()
		if _, dup := s.stmts[q]; dup || s.stmts == nil {
			st.Close()
		} else {
			s.stmts[q] = st
		}
		s.mu.Unlock()
	}
}

// maxChunk is the most rows one multi-row statement carries: 512 rows of 13
// columns stay far below SQLite's 32766 variables.
const maxChunk = 512

// chunks splits n rows into power-of-two runs of at most maxChunk rows, so
// that a few prepared statement sizes serve every batch.
func chunks(n int) []int {
	var out []int
	for n > 0 {
		c := maxChunk
		for c > n {
			c >>= 1
		}
		out = append(out, c)
		n -= c
	}
	return out
}

// values returns "(?,?,?),(?,?,?)" for rows rows of cols columns.
func values(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

// bulkExec runs head + rows + tail (head ends with VALUES) over n rows in chunks; row(i, args)
// appends row i's cols arguments.
func (s *Store) bulkExec(ctx context.Context, tx *sql.Tx, head, tail string, cols, n int, row func(i int, args []any) []any) error {
	return s.eachChunk(ctx, tx, head, tail, cols, n, row, func(st *sql.Stmt, args []any) error {
		_, err := st.ExecContext(ctx, args...)
		return err
	})
}

// bulkQuery is bulkExec for statements that return rows (RETURNING): each
// returned row is passed to scan.
func (s *Store) bulkQuery(ctx context.Context, tx *sql.Tx, head, tail string, cols, n int, row func(i int, args []any) []any, scan func(*sql.Rows) error) error {
	return s.eachChunk(ctx, tx, head, tail, cols, n, row, func(st *sql.Stmt, args []any) error {
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		return sqlstore.ScanRows(rows, scan)
	})
}

// eachChunk prepares head + rows + tail for each chunk of the n rows and
// runs it with the chunk's arguments.
func (s *Store) eachChunk(ctx context.Context, tx *sql.Tx, head, tail string, cols, n int, row func(i int, args []any) []any, run func(*sql.Stmt, []any) error) error {
	args := make([]any, 0, min(n, maxChunk)*cols)
	i := 0
	for _, c := range chunks(n) {
		st, err := s.stmt(ctx, tx, head+" "+values(c, cols)+" "+tail)
		if err != nil {
			return err
		}
		args = args[:0]
		for k := 0; k < c; k++ {
			args = row(i+k, args)
		}
		if err := run(st, args); err != nil {
			return err
		}
		i += c
	}
	return nil
}

// ---- value conversions ------------------------------------------------------

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SerialIngest marks the store as one whose ingest transactions run one at
// a time (one writer): the engine plans new tickets before calling Ingest.
// See watchdog.SerialIngest.
func (s *Store) SerialIngest() {}

var _ watchdog.SerialIngest = (*Store)(nil)
