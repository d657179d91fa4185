// Package notifytest helps test watchdog.Notifier implementations.
package notifytest

import (
	"fmt"
	"strings"
	"testing"
)

// AssertNoSecret fails tb if any secret appears in the message of err or of
// any error it wraps, however formatted. Notifiers wrap network errors whose
// messages quote request URLs, so a webhook URL or token can leak into logs
// through an error several layers down; call this on every error a test
// provokes. Empty secrets are ignored.
func AssertNoSecret(tb testing.TB, err error, secrets ...string) {
	tb.Helper()
	if err == nil {
		return
	}
	for _, e := range tree(err) {
		for _, form := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
			for _, s := range secrets {
				if s != "" && strings.Contains(form, s) {
					tb.Errorf("error leaks a secret: %q contains %q", form, s)
				}
			}
		}
	}
}

// tree lists err and every error it wraps, depth first.
func tree(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, tree(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, tree(e)...)
		}
	}
	return out
}
