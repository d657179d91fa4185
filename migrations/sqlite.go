package migrations

import "embed"

// SQLite holds the SQLite schema migrations as goose SQL files under the
// directory "sqlite" (use fs.Sub to root it there). Package store/sqlite
// applies them with its Migrate function.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
