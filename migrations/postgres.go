package migrations

import "embed"

// Postgres holds the PostgreSQL schema migrations as goose SQL files under
// the directory "postgres" (use fs.Sub to root it there). Package
// store/postgres applies them with its Migrate function.
//
//go:embed postgres/*.sql
var Postgres embed.FS
