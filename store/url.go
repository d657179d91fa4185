// Package store opens the store a database URL names: the embedded SQLite
// store (the default) or the PostgreSQL store. Both the server and a
// backend embedding the library use it to read DATABASE_URL the same way.
package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Kind names a store implementation.
type Kind string

// Store kinds.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// DefaultSQLitePath is the SQLite file used when DATABASE_URL is empty.
const DefaultSQLitePath = "./watchdog.db"

// Target is a parsed database URL.
type Target struct {
	Kind Kind
	// DSN is the lib/pq connection URL for Postgres, or the file path for
	// SQLite.
	DSN string
}

// String describes the target without its password.
func (t Target) String() string {
	if t.Kind == SQLite {
		return "sqlite:" + t.DSN
	}
	return "postgres:" + Redact(t.DSN)
}

// ParseURL reads a DATABASE_URL:
//
//	""                                  the SQLite file ./watchdog.db
//	postgres://… or postgresql://…      PostgreSQL
//	postgresql+psycopg://… (any +driver, as SQLAlchemy writes it)  PostgreSQL
//	sqlite:///relative.db               SQLite, path relative to the working directory
//	sqlite:////absolute/path.db         SQLite, absolute path
//	a plain file path                   SQLite
//
// Errors never include the URL's password.
func ParseURL(raw string) (Target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Target{Kind: SQLite, DSN: DefaultSQLitePath}, nil
	}
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	if !hasScheme {
		if strings.Contains(raw, ":") && !strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, ".") {
			return Target{}, errors.New("database URL: unsupported form: use postgres://…, sqlite:///file.db or a file path")
		}
		return Target{Kind: SQLite, DSN: raw}, nil
	}
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	switch base {
	case "postgres", "postgresql":
		u, err := url.Parse("postgres://" + rest)
		if err != nil {
			return Target{}, errors.New("database URL: malformed postgres URL (check for unescaped characters in the password)")
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return Target{}, errors.New("database URL: postgres URL has no host")
		}
		return Target{Kind: Postgres, DSN: u.String()}, nil
	case "sqlite", "sqlite3":
		// SQLAlchemy: sqlite:///relative.db and sqlite:////absolute.db;
		// rest is what follows "://", so it starts with the path's "/".
		path, _, _ := strings.Cut(rest, "?")
		if !strings.HasPrefix(path, "/") {
			return Target{}, errors.New("database URL: sqlite URLs name a file: use sqlite:///relative.db or sqlite:////absolute/path.db")
		}
		path = path[1:]
		if path == "" || path == ":memory:" {
			return Target{}, errors.New("database URL: an in-memory SQLite database would lose every ticket on restart; name a file such as sqlite:///watchdog.db")
		}
		return Target{Kind: SQLite, DSN: path}, nil
	default:
		return Target{}, fmt.Errorf("database URL: unsupported scheme %q: use postgres://… or sqlite:///file.db", scheme)
	}
}

// Redact hides the password of a URL for logs and errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(raw, "@") {
			return "(unparseable URL)"
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
