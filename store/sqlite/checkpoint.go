package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often, while writes are committed, the
// checkpointer copies the write-ahead log's new pages into the database
// file.
const checkpointEvery = 200 * time.Millisecond

// checkpointer copies committed pages from the write-ahead log into the
// database file from a connection of its own (PRAGMA wal_checkpoint in
// PASSIVE mode, which neither waits for nor blocks the writer or readers),
// shortly after writes. The writer's own automatic checkpoint, which runs
// inside its commit and so holds up every write queued behind it (a tenth
// of the writer's time in a bulk import), then finds the pages already
// copied: it only syncs and lets the next write restart the log.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// wrote tells the checkpointer that a write was committed.
func (c *checkpointer) wrote() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointEvery):
		}
		// Best effort: a checkpoint that fails (no room for the database
		// file to grow, the store closing) leaves the pages in the log,
		// where readers find them and the writer's checkpoint copies them.
		_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
