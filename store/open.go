package store

import (
	"context"
	"fmt"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// Open opens (and migrates) the store a DATABASE_URL names; see ParseURL.
func Open(ctx context.Context, databaseURL string) (watchdog.Store, error) {
	t, err := ParseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	return OpenTarget(ctx, t)
}

// OpenTarget opens (and migrates) a parsed target.
func OpenTarget(ctx context.Context, t Target) (watchdog.Store, error) {
	switch t.Kind {
	case SQLite:
		s, err := sqlite.Open(ctx, t.DSN, nil)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", t, err)
		}
		return s, nil
	case Postgres:
		s, err := postgres.Open(ctx, t.DSN, nil)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", t, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown store kind %q", t.Kind)
}
