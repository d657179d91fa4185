package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/metrics"
)

// Metrics observe the engine (watchdog.Config.Observer), the API
// (ObserveRequest) and the store (SetOpenTickets), and serve /metrics.
func Example() {
	m, err := metrics.New(prometheus.NewRegistry(), nil)
	if err != nil {
		log.Fatal(err)
	}
	var obs watchdog.Observer = m // what watchdog.Config.Observer takes
	obs.EventsIngested(3, 2)
	obs.DeliveryFinished("slack", watchdog.DeliveryPending, 120*time.Millisecond)
	m.SetOpenTickets(func(context.Context) (map[string]int, error) {
		return map[string]int{"ok": 41, "breach": 1}, nil
	})

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "watchdog_events_ingested_total") ||
			strings.HasPrefix(line, "watchdog_deliveries_total") ||
			strings.HasPrefix(line, "watchdog_open_tickets{") {
			fmt.Println(line)
		}
	}
	// Output:
	// watchdog_deliveries_total{notifier="slack",outcome="retry"} 1
	// watchdog_events_ingested_total 3
	// watchdog_open_tickets{state="alert"} 0
	// watchdog_open_tickets{state="breach"} 1
	// watchdog_open_tickets{state="ok"} 41
	// watchdog_open_tickets{state="untracked"} 0
}
