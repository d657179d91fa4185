// Package diskfull gives tests a filesystem they can fill: a small tmpfs
// mounted on a temporary directory. Mounting needs root, which CI has; a
// test run without it skips, loudly, unless CI is set.
package diskfull

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size (as mount's size option: "8m") on a new
// directory and returns it; it is unmounted when the test ends.
func Mount(tb testing.TB, size string) string {
	tb.Helper()
	dir := tb.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := "diskfull: cannot mount a small filesystem (needs root and mount): " + err.Error() + ": " + string(out)
		if os.Getenv("CI") != "" {
			tb.Fatal(msg + " (CI is set, so this test may not skip)")
		}
		tb.Skip("SKIPPING: " + msg)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			tb.Errorf("diskfull: umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes the file path until its filesystem has no room left. Remove
// the file to free the space.
func Fill(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				tb.Fatal(err)
			}
			return
		}
	}
}
