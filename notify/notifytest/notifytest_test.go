package notifytest

import (
	"errors"
	"fmt"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }

// opaque has a clean message but wraps err.
type opaque struct{ err error }

func (o opaque) Error() string { return "clean" }
func (o opaque) Unwrap() error { return o.err }

func TestAssertNoSecret(t *testing.T) {
	t.Parallel()
	secret := "T000/B000/XXXX"
	inner := errors.New("Post \"https://hooks.slack.com/services/" + secret + "\": refused")
	tests := []struct {
		name     string
		err      error
		wantFail bool
	}{
		{"nil", nil, false},
		{"clean", errors.New("slack webhook: HTTP 404: no_service"), false},
		{"top level", inner, true},
		{"wrapped", fmt.Errorf("slack: %w", inner), true},
		{"hidden in the chain", opaque{inner}, true},
		{"clean chain", opaque{errors.New("refused")}, false},
		{"joined", errors.Join(errors.New("ok"), fmt.Errorf("x: %w", inner)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{TB: t}
			AssertNoSecret(r, tt.err, secret, "")
			if r.failed != tt.wantFail {
				t.Errorf("failed = %v, want %v", r.failed, tt.wantFail)
			}
		})
	}
}
