package slack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDeliverWebhook measures one webhook post through the notifier
// (message building, slack-go, HTTP over loopback) against a server that
// reads the body and answers "ok", with as many senders in parallel as the
// engine's default DeliveryConcurrency:
//
//	go test -run '^$' -bench DeliverWebhook -benchmem ./notify/slack/
func BenchmarkDeliverWebhook(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	n, err := NewWebhook(srv.URL+webhookPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	a := testAlert()
	b.SetParallelism(benchPar)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := n.Deliver(b.Context(), a); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

var benchPar = 32
