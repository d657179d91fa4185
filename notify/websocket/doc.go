// Package websocket streams alerts to WebSocket clients: the GET /ws/alerts
// endpoint of Ticket Watchdog, built on github.com/coder/websocket.
//
// A Hub is an http.Handler. Each connection may narrow what it receives with
// query filters (ticket_id, tier or customer_tier, priority, state, sla_type;
// comma-separated lists allowed), and receives one JSON text Message per
// matching alert. Every client has a bounded buffer: a client that cannot
// keep up is dropped with close code SlowClientStatus ("client too slow")
// instead of slowing the others; Publish never blocks. Clients are pinged
// every PingInterval and dropped when they stop answering; messages a client
// sends are ignored (one over 4 KiB closes the connection). Origins are
// checked (same-origin, non-browser clients, Config.TrustedHosts and
// Config.AllowedOrigins); every refusal, before the upgrade, is a JSON
// error. Authentication is left to the server's middleware.
//
//	hub := websocket.NewHub(&websocket.Config{AllowedOrigins: []string{"dash.example.com"}})
//	defer hub.Close()
//	alerts, err := wd.Subscribe(ctx)
//	if err != nil { ... }
//	go hub.Run(ctx, alerts)
//	mux.Handle("GET /ws/alerts", auth(hub))
package websocket
