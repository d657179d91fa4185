package store_test

import (
	"strings"
	"testing"

	"github.com/ticket-watchdog/watchdog/store"
)

// libpq's key=value form selects PostgreSQL, as lib/pq accepts it; it was
// taken for an SQLite file named after the whole string, password and all.
func TestParseURLKeywordForm(t *testing.T) {
	for _, in := range []string{
		"host=db port=5432 user=wd password=s3cretpw dbname=watchdog sslmode=disable",
		"  dbname = watchdog host=/var/run/postgresql ",
		"user=wd password='s3cret pw with \\' quote' host=db",
		"service=watchdog",
	} {
		got, err := store.ParseURL(in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", in, err)
			continue
		}
		if got.Kind != store.Postgres || got.DSN != strings.TrimSpace(in) {
			t.Errorf("ParseURL(%q) = %+v, want PostgreSQL with the string as its DSN", in, got)
		}
		if s := got.String(); strings.Contains(s, "s3cret") {
			t.Errorf("Target.String() of %q leaks the password: %s", in, s)
		}
	}
	if got := store.Redact("host=db password='s3cret pw' user=wd"); got != "host=db password=xxxxx user=wd" {
		t.Errorf("Redact = %q", got)
	}
}

// A key=value string that is not a usable connection string is refused,
// never opened as an SQLite file, and the error quotes none of it.
func TestParseURLKeywordFormErrors(t *testing.T) {
	for _, in := range []string{
		"password=s3cretpw",                     // names no server or database
		"host=db password='s3cretpw",            // unterminated quote
		"host=db password=s3cret pw",            // unquoted space: "pw" has no "="
		"password=s3cretpw://x host=db dbname=", // a "://" inside a value
		"data=s3cretpw.db",                      // a file name with "=": write ./data=…
	} {
		got, err := store.ParseURL(in)
		if err == nil && got.Kind == store.SQLite {
			t.Errorf("ParseURL(%q) = SQLite file %q", in, got.DSN)
			continue
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseURL(%q) error leaks the value: %v", in, err)
		}
	}
	if got, err := store.ParseURL("./data=1.db"); err != nil || got.Kind != store.SQLite {
		t.Errorf(`ParseURL("./data=1.db") = %+v, %v; want the SQLite file`, got, err)
	}
}
