package pgcluster_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog/internal/pgcluster"
)

func TestClusterStopsFreezesAndComesBack(t *testing.T) {
	c := pgcluster.Start(t)
	// connect_timeout bounds the handshake, which a frozen server never answers.
	db, err := sql.Open("postgres", c.URL("postgres")+"&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ping := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return db.PingContext(ctx)
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("fresh cluster: %v", err)
	}
	c.Freeze(t)
	db.SetMaxIdleConns(0) // a new connection must reach the frozen server
	if err := ping(300 * time.Millisecond); err == nil {
		t.Fatal("a frozen cluster answered")
	}
	c.Thaw(t)
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("thawed cluster: %v", err)
	}
	c.Stop(t, "immediate")
	if err := ping(2 * time.Second); err == nil {
		t.Fatal("a stopped cluster answered")
	}
	c.StartAgain(t)
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("restarted cluster: %v", err)
	}
}
