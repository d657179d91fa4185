package watchdogtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// exampleTB stands in for a test's t in the examples, which get none: it
// panics on failure and runs the cleanups when done. It implements only
// the methods the package calls; the embedded nil TB panics on the others.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func newExampleTB() *exampleTB { return &exampleTB{} }

func (*exampleTB) Helper()                           {}
func (*exampleTB) Log(...any)                        {}
func (*exampleTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (*exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (*exampleTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (tb *exampleTB) Cleanup(f func())               { tb.cleanups = append(tb.cleanups, f) }

// done runs the cleanups, last registered first, as a test's end does.
func (tb *exampleTB) done() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
}

// openSQLite opens a SQLite store in a new temporary directory, closed and
// removed at cleanup.
func openSQLite(tb testing.TB) *sqlite.Store {
	tb.Helper()
	dir, err := os.MkdirTemp("", "watchdogtest-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "wd.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
