package websocket_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	watchdog "github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/bench"
	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
)

// BenchmarkPublish measures alerts delivered end to end, over loopback, to
// N clients that all receive every alert. The publisher keeps at most two
// batches in flight so that no client falls a buffer behind and is dropped.
// It reports alerts/s (published), msgs/s (delivered: alerts × clients) and
// the process's CPU time per alert.
func BenchmarkPublish(b *testing.B) {
	const batch = 64
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			hub, srv := startHub(b, &wshub.Config{BufferSize: 4 * batch})

			// batches[k] is done when every client has read batch k.
			var mu sync.Mutex
			batches := map[int64]*sync.WaitGroup{}
			batchDone := func(k int64) *sync.WaitGroup {
				mu.Lock()
				defer mu.Unlock()
				wg, ok := batches[k]
				if !ok {
					wg = &sync.WaitGroup{}
					wg.Add(n)
					batches[k] = wg
				}
				return wg
			}
			var readers sync.WaitGroup
			for i := range n {
				conn := dial(b, hub, srv, "", nil, i+1)
				readers.Go(func() {
					for {
						_, p, err := conn.Read(context.Background())
						if err != nil {
							return
						}
						// The alert id is in the message; decoding it all
						// would measure encoding/json, not the hub.
						id := alertID(p)
						if id%batch == 0 {
							batchDone(id / batch).Done()
						}
					}
				})
			}

			a := alert(0, "T-1", "gold", "high", watchdog.Response, "alert")
			b.ReportAllocs()
			b.ResetTimer()
			// The hub and its clients share this process: its CPU time per
			// alert is what streaming costs both ends together, and hardly
			// depends on what else the machine runs.
			cpu0 := bench.ProcessCPU()
			var id int64
			for id = 1; id <= int64(b.N); id++ {
				a.ID = id
				hub.Publish(a)
				if id%batch == 0 && id/batch > 1 {
					batchDone(id/batch - 1).Wait()
				}
			}
			// Round up to a whole batch so that the wait covers every alert.
			for ; (id-1)%batch != 0; id++ {
				a.ID = id
				hub.Publish(a)
			}
			batchDone((id - 1) / batch).Wait()
			b.StopTimer()
			b.ReportMetric(float64((bench.ProcessCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/alert")
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "alerts/s")
			b.ReportMetric(float64(b.N*n)/sec, "msgs/s")
			if got := hub.Clients(); got != n {
				b.Fatalf("%d of %d clients left: some were dropped", got, n)
			}
			_ = hub.Close()
			readers.Wait()
		})
	}
}

// alertID finds "alert_id":N at the end of an encoded Message.
func alertID(p []byte) int64 {
	const key = `"alert_id":`
	i := len(p) - 1
	for i > 0 && p[i] != ':' {
		i--
	}
	if i < len(key)-1 || string(p[i-len(key)+1:i+1]) != key {
		return -1
	}
	var id int64
	for _, c := range p[i+1:] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

// BenchmarkPublishFilteredOut measures the publisher's cost alone: 100
// connected clients whose filters reject every alert, so Publish only
// matches and encodes nothing.
func BenchmarkPublishFilteredOut(b *testing.B) {
	const n = 100
	hub, srv := startHub(b, nil)
	for i := range n {
		dial(b, hub, srv, fmt.Sprintf("ticket_id=T-%d&tier=gold", i), nil, i+1)
	}
	a := alert(1, "T-none", "gold", "high", watchdog.Response, "alert")
	b.ReportAllocs()
	for b.Loop() {
		hub.Publish(a)
	}
	if got := hub.Clients(); got != n {
		b.Fatalf("%d of %d clients left", got, n)
	}
}
