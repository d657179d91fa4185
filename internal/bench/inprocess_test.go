package bench

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartInProcessServesTheHarnessPolicy(t *testing.T) {
	ctx := context.Background()
	srv, stop, err := StartInProcess(ctx, filepath.Join(t.TempDir(), "inprocess.db"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"policy":"file"`) {
		t.Errorf("GET /readyz: %d %s; want 200 with the harness's SLA file in force", resp.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}
