package websocket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	watchdog "github.com/ticket-watchdog/watchdog"
	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
)

// A dashboard subscribes to gold-tier breaches and decodes each message.
func ExampleHub() {
	hub := wshub.NewHub(&wshub.Config{AllowedOrigins: []string{"dash.example.com"}})
	defer hub.Close()
	srv := httptest.NewServer(hub)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/alerts?tier=gold&state=breach"
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.CloseNow()
	for hub.Clients() == 0 {
		time.Sleep(time.Millisecond) // the hub registers the client just after the upgrade
	}

	fired := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	hub.Publish(watchdog.Alert{TicketID: "T-1", SLAClock: watchdog.Response, Stage: "alert", State: "alert", CustomerTier: "gold", FiredAt: fired})
	hub.Publish(watchdog.Alert{ID: 7, TicketID: "T-1", SLAClock: watchdog.Response, Stage: "breach", State: "breach",
		CustomerTier: "gold", Priority: "high", EscalationLevel: 2, FiredAt: fired.Add(5 * time.Minute),
		Target: 30 * time.Minute, Elapsed: 30 * time.Minute, Message: "Response SLA breached: 30m target reached"})

	_, p, err := conn.Read(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	var m wshub.Message
	if err := json.Unmarshal(p, &m); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.TicketID, m.SLAType, m.State, m.EscalationLevel, m.Timestamp.Format(time.RFC3339))
	fmt.Println(m.Details.Message)
	fmt.Println(m.Details.ElapsedMinutes, m.Details.TargetMinutes, m.Details.PercentUsed)
	// Output:
	// T-1 response breach 2 2026-03-02T09:35:00Z
	// Response SLA breached: 30m target reached
	// 30 30 1
}
