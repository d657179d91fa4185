package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/diskfull"
)

// ingestN ingests n new open tickets named after batch.
func ingestN(ctx context.Context, st watchdog.Store, batch string, n int) error {
	now := time.Now().UTC().Truncate(time.Second)
	evs := make([]watchdog.Event, n)
	for i := range evs {
		evs[i] = watchdog.Event{ID: fmt.Sprintf("%s-%04d", batch, i), Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: now, UpdatedAt: now}
	}
	_, err := st.Ingest(ctx, evs, func(*watchdog.Ticket) watchdog.Plan { return watchdog.Plan{State: watchdog.TicketOK, Open: true} })
	return err
}

// On a full disk a write fails with watchdog.ErrStorageFull (which is
// also ErrUnavailable), Ping reports it while reads still work, and the
// store recovers by itself once space is freed.
func TestFullDisk(t *testing.T) {
	dir := diskfull.Mount(t, "4m")
	st := open(t, filepath.Join(dir, "watchdog.db"), nil)
	ctx := context.Background()
	if err := ingestN(ctx, st, "before", 10); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	diskfull.Fill(t, filler)
	err := ingestN(ctx, st, "full", 500)
	if !errors.Is(err, watchdog.ErrStorageFull) || !errors.Is(err, watchdog.ErrUnavailable) {
		t.Fatalf("Ingest on a full disk: %v; want watchdog.ErrStorageFull, also matching ErrUnavailable", err)
	}
	if err := st.Ping(ctx); !errors.Is(err, watchdog.ErrStorageFull) {
		t.Errorf("Ping on a full disk after a failed write: %v; want watchdog.ErrStorageFull", err)
	}
	if _, err := st.Ticket(ctx, "before-0001"); err != nil {
		t.Errorf("reading on a full disk: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping once space is freed: %v", err)
	}
	if err := ingestN(ctx, st, "after", 500); err != nil {
		t.Errorf("Ingest once space is freed: %v", err)
	}
}
