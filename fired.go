package watchdog

import (
	"math"
	"slices"
	"sort"
)

// firedIndex answers which stages a ticket's recorded alerts have fired:
// for the response and resolution clocks by (clock, stage); for a cycle
// clock, a stage counts as fired for a cycle when an alert of that stage
// has its key (the start of the cycle it fired for) inside the cycle's
// span [start, stop), or [start, ∞) while it runs. So a late message that
// moves a cycle's start or renumbers the cycles neither re-fires a stage
// nor loses one.
type firedIndex struct {
	// once holds the stages fired outside any cycle (key cycle 0): a
	// handful per ticket, so a slice searched in order costs less than a
	// map per ticket, and a pass builds an index for every ticket it claims.
	once   []clockStage
	cycles map[clockStage][]int64 // sorted keys, unix microseconds
}

type clockStage struct {
	clock SLAClock
	stage string
}

func newFiredIndex(alerts []Alert) firedIndex {
	var f firedIndex
	for _, a := range alerts {
		if a.CycleStartedAt == nil || !a.SLAClock.Cyclic() {
			// has asks for cycle 0 only: a stage fired in a later cycle of
			// a clock without cycle spans never answers it.
			if k := a.Key(); k.Cycle == 0 && !slices.Contains(f.once, clockStage{k.SLAClock, k.Stage}) {
				f.once = append(f.once, clockStage{k.SLAClock, k.Stage})
			}
			continue
		}
		if f.cycles == nil {
			f.cycles = make(map[clockStage][]int64, 8)
		}
		k := clockStage{a.SLAClock, a.Stage}
		if f.cycles[k] == nil {
			f.cycles[k] = make([]int64, 0, len(alerts)/2)
		}
		f.cycles[k] = append(f.cycles[k], a.CycleStartedAt.UnixMicro())
	}
	for _, keys := range f.cycles {
		slices.Sort(keys)
	}
	return f
}

// has reports whether stage of clock has fired for cycle c (nil for the
// response and resolution clocks).
func (f firedIndex) has(clock SLAClock, stage string, c *cycle) bool {
	if c == nil {
		return slices.Contains(f.once, clockStage{clock, stage})
	}
	return inCycle(f.cycles[clockStage{clock, stage}], c)
}

// inCycle reports whether one of keys (sorted) lies in c's span.
func inCycle(keys []int64, c *cycle) bool {
	if len(keys) == 0 {
		return false
	}
	lo, hi := c.start.UnixMicro(), int64(math.MaxInt64)
	if !c.stop.IsZero() {
		hi = c.stop.UnixMicro()
	}
	i := sort.Search(len(keys), func(i int) bool { return keys[i] >= lo })
	return i < len(keys) && keys[i] < hi
}
