package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
	"github.com/ticket-watchdog/watchdog/store/storetest"
)

// A batch that the server refuses part way, after some of its rows went
// out (in a COPY, or in a statement after the COPYs), leaves nothing of
// itself, and the one connection it failed on serves the next batch. The
// server refuses text with a NUL byte wherever it is.
func TestIngestFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.DSN(t), &postgres.Config{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	due := storetest.At(time.Hour)
	plan := storetest.OpenPlan(&due)
	if _, err := st.Ingest(ctx, []watchdog.Event{storetest.NewEvent("kept", 0)}, plan); err != nil {
		t.Fatal(err)
	}
	// refuse plans a NUL byte into the row of ticket id.
	refuse := func(id string) watchdog.PlanFunc {
		return func(tk *watchdog.Ticket) watchdog.Plan {
			p := plan(tk)
			if tk.ID == id {
				p.Untracked = "refused\x00"
			}
			return p
		}
	}
	fresh := func(n int) []watchdog.Event {
		var evs []watchdog.Event
		for i := range n {
			evs = append(evs, storetest.NewEvent(fmt.Sprintf("new-%04d", i), 0))
		}
		return evs
	}
	kept := storetest.NewEvent("kept", time.Minute)
	kept.Status = "pending"
	badEvent := fresh(3000)
	badEvent[2500].Status = "refused\x00"
	for _, c := range []struct {
		name   string
		events []watchdog.Event
		plan   watchdog.PlanFunc
	}{
		{"an event refused after thousands copied", append(badEvent, kept), plan},
		{"a ticket refused after the events", append(fresh(3000), kept), refuse("new-2999")},
		{"a stored ticket refused after the copies", append(fresh(3000), kept), refuse("kept")},
	} {
		if _, err := st.Ingest(ctx, c.events, c.plan); err == nil {
			t.Fatalf("%s: Ingest succeeded", c.name)
		} else if errors.Is(err, watchdog.ErrConflict) || errors.Is(err, watchdog.ErrUnavailable) {
			t.Errorf("%s: %v; want the server's refusal", c.name, err)
		}
		for _, id := range []string{"new-0000", "new-2999"} {
			if _, err := st.Ticket(ctx, id); !errors.Is(err, watchdog.ErrNotFound) {
				t.Errorf("%s: Ticket(%s) = %v; want ErrNotFound", c.name, id, err)
			}
		}
		tk, err := st.Ticket(ctx, "kept")
		if err != nil || len(tk.Events) != 1 || tk.Status != "open" {
			t.Fatalf("%s: kept = %+v, %v; want its one stored event", c.name, tk, err)
		}
		if at, ok, err := st.NextDue(ctx); err != nil || !ok || !at.Equal(due) {
			t.Errorf("%s: NextDue = %s, %v, %v; want %s", c.name, at, ok, err, due)
		}
	}
	got, err := st.Ingest(ctx, append(fresh(3000), kept), plan)
	if err != nil {
		t.Fatalf("Ingest after the failures: %v", err)
	}
	if len(got) != 3001 || got[3000].Status != "pending" {
		t.Errorf("Ingest after the failures returned %d tickets, the last %+v", len(got), got[len(got)-1])
	}
}

// plainDriver is lib/pq's driver under a type of its own: the driver of a
// pool the store does not know, whose connections it cannot COPY on.
type plainDriver struct{ pq.Driver }

type plainConnector struct{ driver.Connector }

func (plainConnector) Driver() driver.Driver { return plainDriver{} }

// TestConformanceOtherPools runs the conformance suite on stores made with
// New over pools the store did not open: lib/pq's own (COPY, with neither
// the store's connector nor its prepared statements) and one of a driver
// the store does not know (the rows go in statements, no COPY).
func TestConformanceOtherPools(t *testing.T) {
	for name, connector := range map[string]func(dsn string) (driver.Connector, error){
		"lib/pq": func(dsn string) (driver.Connector, error) { return pq.NewConnector(dsn) },
		"other driver": func(dsn string) (driver.Connector, error) {
			c, err := pq.NewConnector(dsn)
			return plainConnector{c}, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, storetest.Harness{
				Open: func(t testing.TB) (watchdog.Store, func(testing.TB) watchdog.Store) {
					dsn := pgtest.DSN(t)
					open(t, dsn) // migrates
					newStore := func(t testing.TB) watchdog.Store {
						c, err := connector(dsn)
						if err != nil {
							t.Fatal(err)
						}
						db := sqlx.NewDb(sql.OpenDB(c), "postgres")
						st, err := postgres.New(db, &postgres.Config{ListenDSN: dsn})
						if err != nil {
							t.Fatal(err)
						}
						t.Cleanup(func() {
							st.Close()
							db.Close()
						})
						return st
					}
					return newStore(t), newStore
				},
				SharedFeed: true,
			})
		})
	}
}
