// Package postgres is the PostgreSQL implementation of watchdog.Store, built
// on sqlx and lib/pq. Several processes may share one database: due tickets
// and deliveries are claimed with FOR UPDATE SKIP LOCKED, unique keys make
// each stage fire once, and alerts reach every process's subscribers through
// LISTEN/NOTIFY.
//
// Batches are written with constant SQL over unnest($n::type[]) arrays, so a
// 1,000-event Ingest costs a handful of round trips whatever its size.
//
//	st, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), nil) // migrates
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	// st is a watchdog.Store: hand it to the engine.
//
// A backend with its own pool uses New(db, cfg) after Migrate(ctx, db.DB).
// Tests get an isolated schema from package pgtest.
package postgres

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
)

// DefaultChannel is the LISTEN/NOTIFY channel alerts are published on when
// the store works in the public schema. In any other schema the channel is
// DefaultChannel + "_" + schema, so that stores in different schemas of one
// database (tests, tenants) do not see each other's alerts.
const DefaultChannel = "watchdog_alerts"

// DefaultSubscriberBuffer is the capacity of each SubscribeAlerts channel.
const DefaultSubscriberBuffer = 16384

// Config tunes a Store. The zero value (or nil) means defaults.
type Config struct {
	// SkipMigrate makes Open leave the schema alone; run Migrate yourself.
	SkipMigrate bool
	// MaxOpenConns bounds the pool Open creates (default 16).
	MaxOpenConns int
	// Channel overrides the LISTEN/NOTIFY channel (see DefaultChannel).
	Channel string
	// ListenDSN is the connection string SubscribeAlerts listens with. Open
	// uses its own dsn; a Store made with New needs it to subscribe.
	ListenDSN string
	// SubscriberBuffer is each subscriber's channel capacity (default 16384).
	SubscriberBuffer int
	// Logger receives listener and migration events (default: discarded).
	Logger *slog.Logger
}

// WithDefaults returns a copy of c (which may be nil) with defaults filled.
func (c *Config) WithDefaults() *Config {
	var out Config
	if c != nil {
		out = *c
	}
	out.MaxOpenConns = cmp.Or(out.MaxOpenConns, 16)
	out.SubscriberBuffer = cmp.Or(out.SubscriberBuffer, DefaultSubscriberBuffer)
	out.Logger = cmp.Or(out.Logger, slog.New(slog.DiscardHandler))
	return &out
}

func (c *Config) validate() error {
	if c.MaxOpenConns < 0 {
		return fmt.Errorf("postgres: Config.MaxOpenConns must be 0 or more, got %d", c.MaxOpenConns)
	}
	if c.SubscriberBuffer < 0 {
		return fmt.Errorf("postgres: Config.SubscriberBuffer must be 0 or more, got %d", c.SubscriberBuffer)
	}
	if len(c.Channel) > 63 {
		return fmt.Errorf("postgres: Config.Channel must be at most 63 bytes, got %d", len(c.Channel))
	}
	return nil
}

// Store is a watchdog.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	db      *sqlx.DB
	ownDB   bool
	cfg     *Config
	secrets []string // strings to scrub from errors (the DSN's password)

	closed atomic.Bool
	done   chan struct{}

	chanMu  sync.Mutex
	channel string

	hub hub
	// origin tells this store's notifications from other stores'.
	origin string
	// canCopy is set when the pool's driver is lib/pq, whose connections
	// take COPY ... FROM STDIN data (see copyIn).
	canCopy bool

	// floors are where the notifiers' next claims of deliveries start.
	floors claimFloors
	// handoffs are the deliveries this store handed off whose outcomes
	// it has not recorded (see handoff.go).
	handoffs sqlstore.Handoffs
}

var _ watchdog.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string), migrates it unless cfg.SkipMigrate, and returns a Store
// owning its pool. Errors never contain the DSN's password.
func Open(ctx context.Context, dsn string, cfg *Config) (*Store, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	secrets := dsnSecrets(dsn)
	dsn = withConnectTimeout(dsn)
	conn, err := newConnector(oneRoundTrip(dsn))
	if err != nil {
		return nil, scrub(fmt.Errorf("postgres: open: %w", err), secrets)
	}
	db := sqlx.NewDb(sql.OpenDB(conn), "postgres")
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, scrub(translate(ctx, "connect", err), secrets)
	}
	if !cfg.SkipMigrate {
		if err := migrate(ctx, db.DB, cfg.Logger); err != nil {
			db.Close()
			return nil, scrub(err, secrets)
		}
	}
	cfg.ListenDSN = cmp.Or(cfg.ListenDSN, dsn)
	s := newStore(db, cfg)
	s.ownDB = true
	s.secrets = append(s.secrets, secrets...)
	return s, nil
}

// oneRoundTrip turns on lib/pq's binary_parameters mode unless dsn sets
// it. Without it, every statement with parameters costs two round trips
// (prepare, then execute); with it, one. The store passes no []byte
// parameters, the only values that mode sends differently.
func oneRoundTrip(dsn string) string {
	return withParam(dsn, "binary_parameters", "yes")
}

// New returns a Store over a pool the caller owns (Close does not close it).
// The schema must be migrated (see Migrate). To use SubscribeAlerts, set
// cfg.ListenDSN: LISTEN needs a dedicated connection outside the pool.
func New(db *sqlx.DB, cfg *Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("postgres: New: db must not be nil")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newStore(db, cfg), nil
}

func newStore(db *sqlx.DB, cfg *Config) *Store {
	s := &Store{db: db, cfg: cfg, done: make(chan struct{}), channel: cfg.Channel, origin: newOrigin()}
	_, s.canCopy = db.Driver().(*pq.Driver)
	s.secrets = dsnSecrets(cfg.ListenDSN)
	s.hub.subs = make(map[*subscriber]struct{})
	return s
}

// newOrigin returns a random id for a store's notifications.
func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// DB returns the store's pool, for callers that need to run their own SQL
// against the same database.
func (s *Store) DB() *sqlx.DB { return s.db }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.db.PingContext(ctx); err != nil {
		return s.fail(ctx, "ping", err)
	}
	return nil
}

// Close stops the alert listener, closes every subscriber's channel and, when
// Open created the pool, closes it. Later calls return watchdog.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.done)
	s.hub.close()
	if s.ownDB {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("postgres: close: %w", err)
		}
	}
	return nil
}

// check refuses work on a closed store or a finished context.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return watchdog.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// fail translates a driver error at the store's boundary and scrubs secrets.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w", op, watchdog.ErrClosed)
	}
	return scrub(translate(ctx, op, err), s.secrets)
}

// translate maps driver errors to the watchdog sentinels, keeping the cause.
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, watchdog.ErrNotFound) || errors.Is(err, watchdog.ErrClosed) ||
		errors.Is(err, watchdog.ErrConflict) || errors.Is(err, watchdog.ErrInvalid) {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		// lib/pq reports a cancelled query as SQLSTATE 57014; keep both.
		return fmt.Errorf("postgres: %s: %w (%w)", op, cerr, err)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("postgres: %s: %w", op, watchdog.ErrNotFound)
	case errors.Is(err, sql.ErrConnDone) || err.Error() == "sql: database is closed":
		return fmt.Errorf("postgres: %s: %w (%w)", op, watchdog.ErrClosed, err)
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "40001", "40P01": // serialization failure, deadlock
			return fmt.Errorf("postgres: %s: %w (%w)", op, watchdog.ErrConflict, err)
		case "53100": // disk full
			return fmt.Errorf("postgres: %s: %w (%w)", op, watchdog.ErrStorageFull, err)
		}
	}
	if unreachable(err) {
		return fmt.Errorf("postgres: %s: %w (%w)", op, watchdog.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unreachable reports an error that says the server cannot be reached or
// cannot serve now, rather than anything about the call: a failed dial
// (refused, no route, a name that does not resolve yet), a connection cut
// or timed out, or a server starting up, shutting down or out of
// connections.
func unreachable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		code := string(pqErr.Code)
		return strings.HasPrefix(code, "08") || // connection exception
			code == "57P01" || code == "57P02" || code == "57P03" || // admin or crash shutdown, starting up
			code == "53300" // too many connections
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// keyedPlans is run at the start of the write transactions. Their
// statements join batches of at most a few thousand keys (unnest of the
// batch's arrays, = ANY of its ids) to tables of any size. PostgreSQL's cost
// model, which prices each index probe as a random page read, prefers a
// sequential scan of the whole table (hashing the batch's keys, or joining
// them by hash) until the table is far larger than the batch: at 20,000
// tickets every pass scanned both tickets and its schedule table whole (a third
// of its time), and a table of 100,000 would cost five times that. The same
// held for = ANY: a 1,000-id batch read every row of tickets, the timeline
// and sla_outcomes while they stayed under a few hundred thousand rows, and
// HTTP ingest ran at 22.6k events/s instead of 28.6k. With hash joins,
// merge joins and sequential scans off for these transactions only, every
// read is a nested loop of index probes, whose cost follows the batch, not
// the table; a statement with no index to use still scans.
//
// Nor do they run parallel plans: the same misjudged sizes (a burst grows
// alerts by thousands of rows between two runs of autovacuum's analyze)
// had the alerts loader gather 500 rows with a parallel worker, 31 ms of
// which 26 went to starting the worker, in every evaluation pass.
const keyedPlans = `SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off; ` +
	`SET LOCAL max_parallel_workers_per_gather = 0`

// claimPlans are keyedPlans for a transaction that claims due tickets: the
// claim must read the due index in order and stop at its limit, and
// claimDue sets afterPlans once it has. When the due instants lived in a
// table of their own, joined to tickets, the planner, misjudging how many
// were due (a burst makes thousands due between two runs of autovacuum's
// analyze), read every due row by bitmap, joined them all and sorted them
// to take the first 1,000: each pass of a burst read and sorted the whole
// backlog (13,000 to 21,000 rows, 45 to 240 ms of a pass), so passes grew
// as they fell behind. The claim of one table by its own index is planned
// well without them (PostgreSQL reads the index's true extremes), but a
// bitmap read and a sort are never the plan wanted here. ClaimDeliveries
// runs its one statement under them too: a notifier's claim sorted every
// pending delivery, for the same reason.
const claimPlans = keyedPlans + `; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off`

// afterPlans undoes claimPlans' additions for the rest of the transaction.
const afterPlans = `SET LOCAL enable_bitmapscan = on; SET LOCAL enable_sort = on`

// beginWrite starts a write transaction planned for keyed batches.
func (s *Store) beginWrite(ctx context.Context) (*sqlx.Tx, error) {
	return s.beginPlanned(ctx, keyedPlans)
}

// beginPlanned starts a write transaction with the planner settings plans.
func (s *Store) beginPlanned(ctx context.Context, plans string) (*sqlx.Tx, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, plans); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// retryable reports a transaction that lost a race and may simply be rerun.
func retryable(err error) bool {
	if errors.Is(err, errRaced) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "40001" || pqErr.Code == "40P01"
	}
	return false
}

var errRaced = errors.New("concurrent writer created the same ticket")

// raced turns a unique violation into errRaced: a concurrent batch created
// one of the tickets (or stored one of the events) this one took for new,
// and a rerun merges with what it wrote.
func raced(err error) error {
	if !errors.Is(err, errRaced) && uniqueViolation(err) {
		return fmt.Errorf("%w: %w", errRaced, err)
	}
	return err
}

// uniqueViolation reports an error of a statement that broke a unique key.
func uniqueViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505"
}

// maxRaceRetries bounds how often a transaction that lost a race (deadlock,
// a ticket created concurrently) is rerun before the error is returned.
const maxRaceRetries = 8

// rerun runs a write transaction (once) again while it loses races
// (retryable), at most maxRaceRetries times and while ctx lasts.
func rerun(ctx context.Context, once func() error) error {
	for attempt := 0; ; attempt++ {
		err := once()
		if err != nil && retryable(err) && attempt < maxRaceRetries && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// dsnSecrets returns the password in dsn, if any, so that errors can be
// scrubbed of it (url.Parse errors, for one, quote the whole URL).
func dsnSecrets(dsn string) []string {
	var out []string
	// Read the URL's user info by hand: url.Parse fails on the very DSNs
	// whose errors need scrubbing (a bad port, say).
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, p, ok := strings.Cut(rest[:at], ":"); ok && p != "" {
				out = append(out, p)
				if dec, err := url.PathUnescape(p); err == nil && dec != p {
					out = append(out, dec)
				}
			}
		}
	}
	// The key=value form, and a password= query parameter of the URL form.
	for _, f := range strings.FieldsFunc(dsn, func(r rune) bool { return r == ' ' || r == '&' || r == '?' }) {
		if v, ok := strings.CutPrefix(f, "password="); ok && v != "" {
			out = append(out, strings.Trim(v, "'"), v)
		}
	}
	return out
}

// scrub replaces secrets in err's message, keeping err in the chain.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, sec := range secrets {
		if sec != "" {
			clean = strings.ReplaceAll(clean, sec, "xxxxx")
		}
	}
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// alertChannel returns the NOTIFY channel, deriving it from the schema the
// connection works in on first use.
func (s *Store) alertChannel(ctx context.Context) (string, error) {
	s.chanMu.Lock()
	defer s.chanMu.Unlock()
	if s.channel != "" {
		return s.channel, nil
	}
	var schema sql.NullString
	if err := s.db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", s.fail(ctx, "current schema", err)
	}
	ch := DefaultChannel
	if schema.Valid && schema.String != "public" {
		ch += "_" + schema.String
	}
	if len(ch) > 63 {
		ch = ch[:63]
	}
	s.channel = ch
	return ch, nil
}
