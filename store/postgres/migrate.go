package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ticket-watchdog/watchdog/migrations"
)

// Migrate brings the schema the connection works in (its search_path) up to
// date with the embedded migrations. Each migration runs in a transaction;
// rerunning is a no-op. A session advisory lock, keyed by the schema, makes
// concurrent calls from several processes safe: one migrates, the others
// wait and then find nothing to do.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate(ctx, db, nil)
}

func migrate(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return translate(ctx, "migrate: current schema", err)
	}
	if !schema.Valid {
		return fmt.Errorf("postgres: migrate: no schema on the search_path exists")
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID(schema.String)),
		// Poll every second for up to five minutes.
		lock.WithLockTimeout(1, 300),
		lock.WithUnlockTimeout(1, 60),
	)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	fsys, err := fs.Sub(migrations.Postgres, "postgres")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	} else {
		opts = append(opts, goose.WithLogger(goose.NopLogger()))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return translate(ctx, "migrate", err)
	}
	return nil
}

// lockID keys the migration lock by schema, so that stores in different
// schemas of one database migrate independently.
func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("ticket-watchdog migrate " + schema))
	return int64(h.Sum64() >> 1)
}
