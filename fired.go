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
	once   map[StageKey]bool
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
			if f.once == nil {
				f.once = make(map[StageKey]bool, 8)
			}
			f.once[a.Key()] = true
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
		return f.once[StageKey{SLAClock: clock, Stage: stage}]
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
