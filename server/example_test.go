package server_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/ticket-watchdog/watchdog/server"
)

// The whole service in a program of your own: watchdogd without its
// environment parsing. Run returns after SIGINT, once requests and
// deliveries in flight have finished.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	srv, err := server.New(ctx, &server.Config{
		DatabaseURL:     os.Getenv("DATABASE_URL"),
		SlackWebhookURL: os.Getenv("SLACK_WEBHOOK_URL"),
		ListenAddr:      "127.0.0.1:8000",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Run(ctx); err != nil {
		log.Print(err)
	}
}
