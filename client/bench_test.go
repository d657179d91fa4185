package client_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ticket-watchdog/watchdog/client"
)

// BenchmarkIngestEncoded is the client's cost per request over a plain
// net/http POST, against a server that answers at once: the load harness
// posts its pre-encoded batches through IngestEncoded.
func BenchmarkIngestEncoded(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "[]\n")
	}))
	defer srv.Close()
	body := bytes.Repeat([]byte(" "), 64<<10)
	b.Run("client", func(b *testing.B) {
		c, err := client.New(srv.URL, &client.Config{HTTPClient: srv.Client(), MaxRetries: -1})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := c.IngestEncoded(context.Background(), body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		hc := srv.Client()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/tickets", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
