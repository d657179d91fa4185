package e2e

import (
	"fmt"
	"os"
	"testing"
)

// TestMain doubles as the crash test's child process: the parent re-executes
// the test binary with childEnv set, and the child runs an ingesting engine
// until it is killed.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := crashChild(); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
