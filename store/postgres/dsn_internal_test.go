package postgres

import "testing"

func TestOneRoundTrip(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/db?binary_parameters=yes&sslmode=disable"},
		{"postgresql://h/db", "postgresql://h/db?binary_parameters=yes"},
		{"host=h dbname=db sslmode=disable", "host=h dbname=db sslmode=disable binary_parameters=yes"},
		{"", "binary_parameters=yes"},
		// The caller's choice stands.
		{"postgres://h/db?binary_parameters=no", "postgres://h/db?binary_parameters=no"},
		{"host=h binary_parameters=no", "host=h binary_parameters=no"},
	} {
		if got := oneRoundTrip(c.in); got != c.want {
			t.Errorf("oneRoundTrip(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
