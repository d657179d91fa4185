package httphost

import "testing"

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM:8000": "example.com",
		"[::1]:8000":       "::1",
		"[::1]":            "::1",
		"localhost.":       "localhost",
		"127.0.0.1":        "127.0.0.1",
		"":                 "",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}
