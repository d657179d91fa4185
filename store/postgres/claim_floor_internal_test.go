package postgres

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// TestClaimStartsAtTheFloor: once claims have worked through part of a
// backlog, the next claim starts where they stopped. Read from the head of
// the pending order, it steps over the entries the earlier claims left
// dead there (the rows moved to their lease's end), reading pages for
// every one of them; from the floor it reads a few.
func TestClaimStartsAtTheFloor(t *testing.T) {
	ctx, st := context.Background(), openScratch(t)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	insertPending(t, st, 0, 6000, now.Add(-time.Minute))
	for range 5 {
		got, err := st.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "slack", Holder: "h", Now: now, Limit: 1000, Until: now.Add(time.Hour)})
		if err != nil || len(got) != 1000 {
			t.Fatalf("claim of 1000 took %d: %v", len(got), err)
		}
	}
	fl, ok, _ := st.floors.start("slack")
	if !ok {
		t.Fatal("no floor after five full claims")
	}
	fromFloor := claimBlocks(t, st, claimDeliveriesSQL(true), "slack", now, 100, now.Add(time.Hour), "h", fl.at, fl.id)
	fromHead := claimBlocks(t, st, claimDeliveriesSQL(false), "slack", now, 100, now.Add(time.Hour), "h")
	t.Logf("index and table blocks read to claim 100 after 5,000 were claimed: %d from the floor, %d from the head", fromFloor, fromHead)
	if fromFloor*4 > fromHead {
		t.Errorf("a claim from the floor read %d blocks, from the head %d: want a quarter at most", fromFloor, fromHead)
	}
}

// claimBlocks runs claim under claimPlans with EXPLAIN (ANALYZE, BUFFERS),
// in a transaction it rolls back, and returns the blocks its scan of the
// pending deliveries read (hit or not), the heap fetches included.
func claimBlocks(t *testing.T, st *Store, claim string, args ...any) int {
	t.Helper()
	out := explainClaim(t, st, "ANALYZE, BUFFERS, FORMAT JSON", claim, args...)
	type node struct {
		Type  string `json:"Node Type"`
		Index string `json:"Index Name"`
		Hit   int    `json:"Shared Hit Blocks"`
		Read  int    `json:"Shared Read Blocks"`
		Plans []node `json:"Plans"`
	}
	var plans []struct {
		Plan node `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", out, err)
	}
	blocks, found := 0, false
	var walk func(n node)
	walk = func(n node) {
		if n.Index == "deliveries_pending_order_idx" {
			blocks, found = blocks+n.Hit+n.Read, true
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	if !found {
		t.Fatalf("the claim does not read deliveries_pending_order_idx:\n%s", out)
	}
	return blocks
}

// TestClaimFloorAndAnotherWriter: a pending row another process writes
// due before a notifier's floor is not lost: the claims from the floor
// skip it, but one claim in floorRuns starts from the head again, and so
// does the rest of a claim from the floor that comes up short.
func TestClaimFloorAndAnotherWriter(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	st, other := openDSN(t, dsn), openDSN(t, dsn)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	insertPending(t, st, 0, 40, now.Add(-time.Minute))
	claimOne := func(s *Store, limit int) []watchdog.Delivery {
		t.Helper()
		got, err := s.ClaimDeliveries(ctx, watchdog.DeliveryClaim{Notifier: "slack", Holder: "h", Now: now, Limit: limit, Until: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := claimOne(st, 5)
	if len(first) != 5 {
		t.Fatalf("claimed %d, want 5", len(first))
	}
	if _, ok, _ := st.floors.start("slack"); !ok {
		t.Fatal("no floor after a full claim: the claims below would not start from one")
	}
	// The other process hands one back due before everything pending.
	back := first[0]
	if err := other.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{{ID: back.ID, Attempt: back.Attempts,
		Status: watchdog.DeliveryPending, RetryAt: now.Add(-2 * time.Minute), Finished: now, Unsent: true}}); err != nil {
		t.Fatal(err)
	}
	claims := 0
	for {
		got := claimOne(st, 1)
		claims++
		if len(got) == 1 && got[0].ID == back.ID {
			break
		}
		if claims == floorRuns {
			t.Fatalf("%d claims of one did not take the delivery handed back by another process", claims)
		}
	}
	t.Logf("the delivery handed back by another process came with claim %d of at most %d", claims, floorRuns)

	// Once more, and this time the backlog runs out: the claim from the
	// floor is short, and its rest comes from the head.
	rest := claimOne(st, 1)
	if err := other.FinishDeliveries(ctx, []watchdog.DeliveryOutcome{{ID: rest[0].ID, Attempt: rest[0].Attempts,
		Status: watchdog.DeliveryPending, RetryAt: now.Add(-2 * time.Minute), Finished: now, Unsent: true}}); err != nil {
		t.Fatal(err)
	}
	left := claimOne(st, 100)
	if len(left) == 0 || left[0].ID != rest[0].ID {
		t.Fatalf("the last claim took %d deliveries, first %v; want the one handed back first", len(left), left)
	}
	if got := claimOne(st, 100); len(got) != 0 {
		t.Errorf("claimed %d more, want none", len(got))
	}
}

func openDSN(t *testing.T, dsn string) *Store {
	t.Helper()
	st, err := Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
