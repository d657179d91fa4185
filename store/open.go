package store

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

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
			return nil, withoutSecrets(fmt.Errorf("opening %s: %w", t, err), t.DSN)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown store kind %q", t.Kind)
}

// withoutSecrets hides the passwords of dsn wherever err's message quotes
// them, whatever layer put them there, keeping err in the chain.
func withoutSecrets(err error, dsn string) error {
	var secrets []string
	if pairs, perr := splitKeywordDSN(dsn); perr == nil && keywordForm.MatchString(dsn) {
		for _, p := range pairs {
			if slices.Contains(secretKeywords, p[0]) && p[1] != "" {
				secrets = append(secrets, p[1])
			}
		}
	} else if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
	}
	msg := err.Error()
	for _, sec := range secrets {
		msg = strings.ReplaceAll(msg, sec, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error whose message had secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
