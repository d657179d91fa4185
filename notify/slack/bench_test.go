package slack

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ticket-watchdog/watchdog"
)

// BenchmarkDeliverWebhook measures one webhook post through the notifier
// (message building, slack-go, HTTP over loopback) against a server that
// reads the body and answers "ok", with as many senders in parallel as the
// engine's default DeliveryConcurrency:
//
//	go test -run '^$' -bench DeliverWebhook -benchmem ./notify/slack/
func BenchmarkDeliverWebhook(b *testing.B) {
	n := benchNotifier(b)
	a := testAlert()
	benchParallel(b, func() error {
		_, err := n.Deliver(b.Context(), a)
		return err
	})
}

// BenchmarkDeliverWebhookBatch is BenchmarkDeliverWebhook with a message
// of DefaultMaxAlertsPerMessage alerts, as the engine sends a backlog.
func BenchmarkDeliverWebhookBatch(b *testing.B) {
	n := benchNotifier(b)
	alerts := make([]watchdog.Alert, DefaultMaxAlertsPerMessage)
	for i := range alerts {
		alerts[i] = testAlert()
		alerts[i].TicketID = fmt.Sprintf("T-%d", i)
	}
	benchParallel(b, func() error {
		_, err := n.DeliverBatch(b.Context(), alerts)
		return err
	})
}

// benchNotifier is a webhook Notifier posting to a local server that
// reads the body and answers "ok".
func benchNotifier(b *testing.B) *Notifier {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	n, err := NewWebhook(srv.URL+webhookPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// benchParallel runs send benchPar at a time until the benchmark ends.
func benchParallel(b *testing.B, send func() error) {
	b.SetParallelism(benchPar)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

var benchPar = 32
