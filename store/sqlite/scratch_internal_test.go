package sqlite

import (
	"context"
	"testing"
)

// openAt opens the store at path for an internal test, closed when it
// ends.
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
