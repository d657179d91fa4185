package postgres

import (
	"sync"
	"time"
)

// floorRuns is how many claims in a row of one notifier may start from its
// floor; the next one reads the whole pending order again.
const floorRuns = 16

// claimFloors lets a notifier's claims start where its last full claim
// stopped, instead of at the head of deliveries_pending_order_idx.
//
// A claim moves the rows it takes to their lease's end, so their old
// entries stay at the head of the index, dead, until a vacuum removes
// them; every later claim steps over all of them before it finds a row it
// can take. Working off a backlog (the catch-up after an outage: 400,000
// deliveries), each claim then reads more dead entries than the last, and
// claiming 256 rows took twice as long at the end of the backlog as at its
// start.
//
// The floor is the (due instant, id) of the newest row a full claim took:
// every pending row before it was taken or skipped by that claim. A row
// can come due before the floor afterwards only when someone writes it so,
// and this store lowers every floor after each write of a pending row it
// makes (a retry, a hand-back, a rescue, an evaluation's deliveries, a
// re-routing). Rows another process writes, or a claim skipped because
// another transaction held them, are read by the next claim that starts
// from the head: the first claim after one that was not full, and every
// floorRuns-th claim in a backlog.
type claimFloors struct {
	mu sync.Mutex
	// gen counts the writes that lowered the floors: a claim that ran
	// across one does not raise its notifier's floor past the row written.
	gen    uint64
	floors map[string]claimFloor
}

type claimFloor struct {
	at   time.Time
	id   int64
	runs int // claims in a row that started from it
}

// start returns where a claim of notifier n starts: from (at, id) when ok,
// else from the head of the pending order. gen goes back to done.
func (f *claimFloors) start(n string) (fl claimFloor, ok bool, gen uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, ok = f.floors[n]
	if ok && fl.runs >= floorRuns-1 {
		ok = false
	}
	return fl, ok, f.gen
}

// done records the claim of n that start began at gen: full when it took
// its limit, its last row's (at, id), and whether it started from the
// floor.
func (f *claimFloors) done(n string, gen uint64, fromFloor, full bool, at time.Time, id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !full {
		delete(f.floors, n)
		return
	}
	old, had := f.floors[n]
	runs := 0
	if fromFloor {
		runs = old.runs + 1
	}
	if gen != f.gen {
		// A pending row was written meanwhile, and it may be older than
		// the rows this claim took: keep the floor it lowered.
		if had {
			f.floors[n] = claimFloor{at: old.at, id: old.id, runs: runs}
		}
		return
	}
	if f.floors == nil {
		f.floors = map[string]claimFloor{}
	}
	f.floors[n] = claimFloor{at: at, id: id, runs: runs}
}

// lower is called once a pending row due at at is written (committed):
// every floor after it moves back to it.
func (f *claimFloors) lower(at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	for n, fl := range f.floors {
		if at.Before(fl.at) || at.Equal(fl.at) {
			f.floors[n] = claimFloor{at: at, id: 0, runs: fl.runs}
		}
	}
}
