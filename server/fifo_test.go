//go:build unix

package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ticket-watchdog/watchdog/server"
)

// A FIFO put at the SLA file's path is refused as not a regular file, and
// the service still shuts down: reading it used to block the reload, and
// the shutdown waiting for it, until some writer came.
func TestFIFOAtSLAPathDoesNotHang(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sla := filepath.Join(dir, "sla_config.yaml")
	if err := os.WriteFile(sla, []byte(goodSLA), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := runServer(t, server.Config{SLAConfigPath: sla})
	fifo := filepath.Join(dir, "fifo.tmp")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(fifo, sla); err != nil {
		t.Fatal(err)
	}
	eventually(t, "/readyz to report the FIFO", func() bool {
		code, body := get(t, srv.base+"/readyz")
		return code == http.StatusOK && strings.Contains(body, "not a regular file")
	})
	srv.stop() // fails the test unless Run returns
}
