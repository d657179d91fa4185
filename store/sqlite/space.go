package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ticket-watchdog/watchdog"
)

// A full disk.
//
// A write that fails for lack of space (SQLITE_FULL) rolls back whole, and
// the store reports watchdog.ErrStorageFull. From then on it is "full":
// Ping reports it (so /readyz does), and before each write it tries to
// reclaim space (reclaim). That attempt is what recovers the store by itself
// once space is freed, whether a write or a readiness probe comes first:
// the engine's loops retry their writes every second, so the alerts that
// came due meanwhile fire then.

// classify maps an SQLite error to the watchdog sentinel it stands for, or
// nil: a full disk to ErrStorageFull, a failed disk read or write to
// ErrUnavailable. (A file that cannot be opened is not: that is a wrong
// path far more often than a passing fault.)
func classify(err error) error {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_FULL:
		return watchdog.ErrStorageFull
	case sqlite3.SQLITE_IOERR:
		return watchdog.ErrUnavailable
	}
	return nil
}

// noteWrite marks the store full when a write failed for lack of space.
func (s *Store) noteWrite(err error) {
	if errors.Is(err, watchdog.ErrStorageFull) {
		s.full.Store(true)
	}
}

// reclaim makes a full store writable again when the disk has room: it
// folds the write-ahead log into the database file and truncates it, giving
// back the space the log held (it never shrinks by itself), then commits a
// one-page change, which needs fresh space in the emptied log. Only when
// that commit succeeds is the store no longer full; otherwise reclaim
// returns an error matching watchdog.ErrStorageFull. The checkpoint is best
// effort: it needs room for the database file to grow, and a log it could
// not fold may still take the next writes.
func (s *Store) reclaim(ctx context.Context) error {
	s.reclaiming.Lock()
	defer s.reclaiming.Unlock()
	if !s.full.Load() {
		return nil // another call reclaimed it meanwhile
	}
	_, _ = s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	err := s.write(ctx, "reclaim space", func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return err
		}
		// Rewriting the header field with its own value changes nothing
		// but still writes the page.
		_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(v))
		return err
	})
	if err != nil {
		if !errors.Is(err, watchdog.ErrStorageFull) && ctx.Err() == nil {
			return fmt.Errorf("%w: %w", watchdog.ErrStorageFull, err)
		}
		return err
	}
	s.full.Store(false)
	return nil
}
