// Package migrations holds the database schemas of the stores as numbered
// goose SQL migrations (github.com/pressly/goose/v3), embedded in the binary
// so that a store can bring its database up to date when it opens it.
//
// Each dialect has its own directory and embed.FS: Postgres (postgres/*.sql)
// and SQLite (sqlite/*.sql). Files are named NNNNN_name.sql and hold a
// "-- +goose Up" and a "-- +goose Down" section; goose runs each file in a
// transaction and records applied versions in its goose_db_version table, so
// running the migrations again is a no-op. The stores apply them through
// goose's Provider:
//
//	fsys, _ := fs.Sub(migrations.SQLite, "sqlite")
//	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
//	if err != nil { ... }
//	_, err = p.Up(ctx)
//
// Use the Migrate function of package store/sqlite or store/postgres rather
// than calling goose directly.
package migrations
