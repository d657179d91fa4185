package sqlstore

import (
	"math"
	"slices"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// BinSeconds is the width, in business seconds, of the bins a Binned
// report counts stopped clocks in.
const BinSeconds = 60

// Binned computes a report in two passes over the outcomes, neither of
// which sorts them all, for stores that aggregate in SQL: the first counts
// each group's clocks and its stopped clocks per bin of business time
// (AddCounts); the bins tell which bin holds each percentile's rank
// (NeededBins), and the second pass reads only the stopped clocks in those
// bins (AddValue), among which the percentile is picked exactly.
type Binned struct {
	bounds []time.Time
	groups map[groupKey]*binnedGroup
	binOf  func(business int64) int64
}

type binnedGroup struct {
	row  watchdog.SLAReportRow
	bins map[int64]int // stopped clocks per bin
	// need maps a bin to the ranks (1-based, within the bin) to pick there.
	need   map[int64][]int
	values map[int64][]int64 // business seconds read from the needed bins
	picks  [2]struct {
		bin  int64
		rank int
	}
	// picked are percentiles set by SetPicked, which take precedence.
	picked [2]*int64
}

// NewBinned starts a report whose period index p (1-based, 0: none) is
// the period starting at bounds[p-1].
func NewBinned(bounds []time.Time) *Binned {
	return &Binned{bounds: bounds, groups: map[groupKey]*binnedGroup{}, binOf: func(b int64) int64 { return b / BinSeconds }}
}

// NewCoarseBinned is NewBinned with the bins of the outcome roll-up
// (CoarseBin).
func NewCoarseBinned(bounds []time.Time) *Binned {
	return &Binned{bounds: bounds, groups: map[groupKey]*binnedGroup{}, binOf: CoarseBin}
}

func (b *Binned) group(policy, tier, priority, slaType, calendar string, period int) *binnedGroup {
	k := groupKey{policy: policy, tier: tier, priority: priority, slaType: slaType, calendar: calendar, period: period}
	g := b.groups[k]
	if g == nil {
		g = &binnedGroup{row: watchdog.SLAReportRow{Policy: policy, Tier: tier, Priority: priority, SLAType: slaType, Calendar: calendar},
			bins: map[int64]int{}}
		if period >= 1 && period <= len(b.bounds) {
			p := b.bounds[period-1]
			g.row.Period = &p
		}
		b.groups[k] = g
	}
	return g
}

// AddCounts adds one first-pass row: a group's clocks in one bin.
func (b *Binned) AddCounts(policy, tier, priority, slaType, calendar string, period int, bin int64, stopped, met, open, openBreached int, pastTarget int64) {
	g := b.group(policy, tier, priority, slaType, calendar, period)
	g.row.Stopped += stopped
	g.row.Met += met
	g.row.Open += open
	g.row.OpenBreached += openBreached
	g.row.PastTargetSeconds += pastTarget
	if stopped > 0 {
		g.bins[bin] += stopped
	}
}

// NeededBins returns the bins the second pass must read (in any group).
func (b *Binned) NeededBins() []int64 {
	var out []int64
	for _, p := range b.NeededPicks() {
		out = append(out, p.Bin)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NeededPicks returns the bins the second pass must read, with the period
// each is needed in (in any group), sorted.
func (b *Binned) NeededPicks() []Pick {
	var out []Pick
	for k, g := range b.groups {
		n := g.row.Stopped
		if n == 0 {
			continue
		}
		bins := make([]int64, 0, len(g.bins))
		for bin := range g.bins {
			bins = append(bins, bin)
		}
		slices.Sort(bins)
		g.need, g.values = map[int64][]int{}, map[int64][]int64{}
		for i, p := range []float64{0.5, 0.9} {
			rank := min(max(int(math.Ceil(p*float64(n))), 1), n)
			seen := 0
			for _, bin := range bins {
				if seen+g.bins[bin] >= rank {
					g.picks[i].bin, g.picks[i].rank = bin, rank-seen
					g.need[bin] = append(g.need[bin], rank-seen)
					out = append(out, Pick{Period: k.period, Bin: bin})
					break
				}
				seen += g.bins[bin]
			}
		}
	}
	slices.SortFunc(out, func(a, b Pick) int {
		if a.Period != b.Period {
			return a.Period - b.Period
		}
		return int(a.Bin - b.Bin)
	})
	return slices.Compact(out)
}

// AddValue adds one second-pass row: a stopped clock's business seconds.
func (b *Binned) AddValue(policy, tier, priority, slaType, calendar string, period int, business int64) {
	g := b.groups[groupKey{policy: policy, tier: tier, priority: priority, slaType: slaType, calendar: calendar, period: period}]
	if g == nil || g.need == nil {
		return
	}
	bin := b.binOf(business)
	if _, ok := g.need[bin]; ok {
		g.values[bin] = append(g.values[bin], business)
	}
}

// Rows returns the report's rows, in no particular order.
func (b *Binned) Rows() []watchdog.SLAReportRow {
	out := make([]watchdog.SLAReportRow, 0, len(b.groups))
	for _, g := range b.groups {
		if g.row.Stopped+g.row.Open == 0 {
			continue
		}
		if g.row.Stopped > 0 {
			var pcts [2]int64
			for i, pick := range g.picks {
				if g.picked[i] != nil {
					pcts[i] = *g.picked[i]
					continue
				}
				vs := g.values[pick.bin]
				slices.Sort(vs)
				if pick.rank >= 1 && pick.rank <= len(vs) {
					pcts[i] = vs[pick.rank-1]
				}
			}
			g.row.P50Seconds, g.row.P90Seconds = &pcts[0], &pcts[1]
		}
		g.row.Finish()
		out = append(out, g.row)
	}
	return out
}

// Ranked is a percentile of one group for a store to pick itself: the
// Rank-th smallest (1-based) business time among the group's stopped
// clocks of the period in bin Bin.
type Ranked struct {
	Policy, Tier, Priority, SLAType, Calendar string
	Period                                    int
	Bin                                       int64
	Rank                                      int
	key                                       groupKey
	which                                     int
}

// RankedPicks locates each group's percentiles (as NeededPicks) and lists
// them, for a store that picks them (SetPicked) rather than return the
// needed bins' values (AddValue).
func (b *Binned) RankedPicks() []Ranked {
	b.NeededPicks()
	var out []Ranked
	for k, g := range b.groups {
		if g.row.Stopped == 0 {
			continue
		}
		for i, p := range g.picks {
			out = append(out, Ranked{Policy: k.policy, Tier: k.tier, Priority: k.priority, SLAType: k.slaType, Calendar: k.calendar,
				Period: k.period, Bin: p.bin, Rank: p.rank, key: k, which: i})
		}
	}
	return out
}

// SetPicked sets the percentile r asked for to business seconds v.
func (b *Binned) SetPicked(r Ranked, v int64) {
	if g := b.groups[r.key]; g != nil {
		g.picked[r.which] = &v
	}
}
