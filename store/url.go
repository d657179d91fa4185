// Package store opens the store a database URL names: the embedded SQLite
// store (the default) or the PostgreSQL store. Both the server and a
// backend embedding the library use it to read DATABASE_URL the same way.
package store

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
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

// String describes the target without its password, for logs.
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
//	host=… port=… user=… dbname=…       PostgreSQL (libpq's key=value form)
//	a plain file path                   SQLite
//
// A string that starts like key=value is a PostgreSQL connection string or
// an error, never an SQLite file name: name an SQLite file whose name holds
// "=" as ./name or sqlite:///name. Errors never include a password or any
// part of a connection string.
func ParseURL(raw string) (Target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Target{Kind: SQLite, DSN: DefaultSQLitePath}, nil
	}
	if keywordForm.MatchString(raw) {
		return parseKeywordDSN(raw)
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
		if !schemeForm.MatchString(scheme) {
			scheme = "…" // not a scheme: may be part of a secret
		}
		return Target{}, fmt.Errorf("database URL: unsupported scheme %q: use postgres://… or sqlite:///file.db", scheme)
	}
}

var (
	// keywordForm is the start of a libpq key=value connection string.
	keywordForm = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\s*=`)
	schemeForm  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)
)

// connectionKeywords are the keywords of which a key=value string must
// name one to be taken for a PostgreSQL connection string.
var connectionKeywords = []string{"host", "hostaddr", "port", "dbname", "user", "service"}

// secretKeywords are the keywords whose values Redact hides.
var secretKeywords = []string{"password", "sslpassword"}

// parseKeywordDSN checks a libpq key=value connection string as lib/pq
// reads it, so that lib/pq never reports (and quotes) a syntax error.
func parseKeywordDSN(raw string) (Target, error) {
	pairs, err := splitKeywordDSN(raw)
	if err != nil {
		return Target{}, fmt.Errorf("database URL: malformed key=value connection string: %w (quote values with spaces as key='a b')", err)
	}
	for _, p := range pairs {
		if slices.Contains(connectionKeywords, p[0]) {
			return Target{Kind: Postgres, DSN: raw}, nil
		}
	}
	return Target{}, errors.New("database URL: a key=value connection string must name a host, hostaddr, port, dbname, user or service " +
		"(an SQLite file whose name holds \"=\" is written ./name or sqlite:///name)")
}

// splitKeywordDSN splits a key=value connection string into its pairs,
// with lib/pq's rules: values are single-quoted when they hold spaces, and
// a backslash escapes the next character. Its errors quote nothing.
func splitKeywordDSN(raw string) ([][2]string, error) {
	var pairs [][2]string
	s := []rune(raw)
	i := 0
	skipSpace := func() {
		for i < len(s) && unicode.IsSpace(s[i]) {
			i++
		}
	}
	for skipSpace(); i < len(s); skipSpace() {
		start := i
		for i < len(s) && s[i] != '=' && !unicode.IsSpace(s[i]) {
			i++
		}
		key := string(s[start:i])
		skipSpace()
		if key == "" || i >= len(s) || s[i] != '=' {
			return nil, fmt.Errorf("pair %d has no \"=\"", len(pairs)+1)
		}
		i++
		skipSpace()
		var val strings.Builder
		quoted := i < len(s) && s[i] == '\''
		if quoted {
			i++
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				val.WriteRune(s[i])
				continue
			}
			if quoted && c == '\'' || !quoted && unicode.IsSpace(c) {
				break
			}
			val.WriteRune(c)
		}
		if quoted {
			if i >= len(s) {
				return nil, fmt.Errorf("the value of %s has no closing quote", key)
			}
			i++ // the closing quote
		}
		pairs = append(pairs, [2]string{key, val.String()})
	}
	return pairs, nil
}

// quoteKeywordValue writes a value back in key=value form.
func quoteKeywordValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r\v\f'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Redact hides the password of a URL or key=value connection string for
// logs and errors.
func Redact(raw string) string {
	if keywordForm.MatchString(strings.TrimSpace(raw)) {
		pairs, err := splitKeywordDSN(raw)
		if err != nil {
			return "(malformed connection string)"
		}
		out := make([]string, len(pairs))
		for i, p := range pairs {
			if slices.Contains(secretKeywords, p[0]) {
				p[1] = "xxxxx"
			}
			out[i] = p[0] + "=" + quoteKeywordValue(p[1])
		}
		return strings.Join(out, " ")
	}
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
