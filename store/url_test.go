package store_test

import (
	"strings"
	"testing"

	"github.com/ticket-watchdog/watchdog/store"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in   string
		kind store.Kind
		dsn  string
	}{
		{"", store.SQLite, "./watchdog.db"},
		{"sqlite:///relative.db", store.SQLite, "relative.db"},
		{"sqlite:///data/wd.db", store.SQLite, "data/wd.db"},
		{"sqlite:////var/lib/watchdog/wd.db", store.SQLite, "/var/lib/watchdog/wd.db"},
		{"./local.db", store.SQLite, "./local.db"},
		{"/abs/x.db", store.SQLite, "/abs/x.db"},
		{"postgres://u:p@db:5432/wd?sslmode=disable", store.Postgres, "postgres://u:p@db:5432/wd?sslmode=disable"},
		{"postgresql://u@localhost/wd", store.Postgres, "postgres://u@localhost/wd"},
		{"postgresql+psycopg://u:p@postgres:5432/watchdog", store.Postgres, "postgres://u:p@postgres:5432/watchdog"},
		{"postgresql+psycopg2://u:p@postgres/watchdog", store.Postgres, "postgres://u:p@postgres/watchdog"},
	}
	for _, c := range cases {
		got, err := store.ParseURL(c.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.in, err)
			continue
		}
		if got.Kind != c.kind || got.DSN != c.dsn {
			t.Errorf("ParseURL(%q) = %+v, want %s %s", c.in, got, c.kind, c.dsn)
		}
	}
}

func TestParseURLErrorsHideThePassword(t *testing.T) {
	for _, in := range []string{
		"mysql://root:s3cretpw@db/wd",
		"sqlite://relative.db",
		"sqlite:///:memory:",
		"postgres://user:s3cretpw@/wd",
		"redis:s3cretpw@x",
	} {
		_, err := store.ParseURL(in)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("ParseURL(%q) error leaks the password: %v", in, err)
		}
	}
	if got := store.Redact("postgres://u:s3cretpw@db/wd"); strings.Contains(got, "s3cretpw") {
		t.Errorf("Redact kept the password: %s", got)
	}
}
