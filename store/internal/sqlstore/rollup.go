package sqlstore

import (
	"cmp"
	"slices"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// CoarseBin is the bin of business seconds b in the outcome roll-up
// (sla_outcome_days): 5-minute bins below an hour, hourly bins below 100
// hours, daily bins above; the migrations compute the same in SQL
// (sla_outcome_bin).
func CoarseBin(b int64) int64 {
	switch {
	case b < 3600:
		return b / 300
	case b < 360000:
		return 12 + (b-3600)/3600
	default:
		return 111 + (b-360000)/86400
	}
}

// CoarseBinRange returns the business seconds [lo, hi) of a CoarseBin.
func CoarseBinRange(bin int64) (lo, hi int64) {
	switch {
	case bin < 12:
		return bin * 300, bin*300 + 300
	case bin < 111:
		lo = 3600 + (bin-12)*3600
		return lo, lo + 3600
	default:
		lo = 360000 + (bin-111)*86400
		return lo, lo + 86400
	}
}

// Span is a range [From, To) of a report's period Period (1-based index
// into its Bounds, as Binned counts them).
type Span struct {
	Period   int
	From, To time.Time
}

// DaySpans splits the range of a report selecting stopped clocks by their
// stop, for stores that keep the roll-up of outcomes by UTC day: the
// period spans (each period's part of [From, To)), the UTC days (days
// since the Unix epoch) that lie wholly inside one of them, to read from
// the roll-up, and the spans left over at the periods' edges, to read from
// the outcome rows.
func DaySpans(q watchdog.SLAReportQuery) (periods []Span, days []int64, raw []Span) {
	from, to, _ := ReportRange(q)
	bounds := q.Bounds()
	for i, b := range bounds {
		lo, hi := b, to
		if i+1 < len(bounds) {
			hi = bounds[i+1]
		}
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		if !lo.Before(hi) {
			continue
		}
		periods = append(periods, Span{Period: i + 1, From: lo, To: hi})
		dlo, dhi := ceilDay(lo), floorDay(hi)
		if dlo >= dhi {
			raw = append(raw, Span{Period: i + 1, From: lo, To: hi})
			continue
		}
		for d := dlo; d < dhi; d++ {
			days = append(days, d)
		}
		if s := dayStart(dlo); lo.Before(s) {
			raw = append(raw, Span{Period: i + 1, From: lo, To: s})
		}
		if s := dayStart(dhi); s.Before(hi) {
			raw = append(raw, Span{Period: i + 1, From: s, To: hi})
		}
	}
	return periods, days, raw
}

const daySeconds = 86400

func floorDay(t time.Time) int64 {
	s := t.Unix()
	d := s / daySeconds
	if s%daySeconds < 0 {
		d--
	}
	return d
}

func ceilDay(t time.Time) int64 {
	d := floorDay(t)
	if dayStart(d).Before(t) {
		d++
	}
	return d
}

func dayStart(d int64) time.Time { return time.Unix(d*daySeconds, 0).UTC() }

// Pick is a bin of business time among the stopped clocks of a period
// that holds a percentile of some group.
type Pick struct {
	Period int
	Bin    int64
}

// DayCell is a cell of the outcome roll-up (sla_outcome_days): the UTC day
// of the stop (days since the Unix epoch), the key columns and the
// CoarseBin of business time.
type DayCell struct {
	Day                                       int64
	Policy, Tier, Priority, SLAType, Calendar string
	Bin                                       int64
}

// DayCounts are a roll-up cell's counts, or a change to them: stopped
// clocks, of which met, and the missed ones' seconds past target.
type DayCounts struct {
	Stopped, Met, Overrun int64
}

// DayDeltas collects the changes that writing outcome rows makes to the
// roll-up, so that a store applies one change per cell and statement
// rather than one per row.
type DayDeltas map[DayCell]DayCounts

// Add counts outcome o into the roll-up with sign +1 (a row written) or
// -1 (a row replaced or deleted). Clocks that have not stopped are not in
// the roll-up.
func (d DayDeltas) Add(o *watchdog.Outcome, sign int64) {
	if o.StoppedAt == nil {
		return
	}
	c := DayCell{Day: floorDay(*o.StoppedAt), Policy: o.Policy, Tier: o.Tier, Priority: o.Priority,
		SLAType: string(o.SLAClock), Calendar: o.Calendar, Bin: CoarseBin(int64(o.Business / time.Second))}
	n := d[c]
	n.Stopped += sign
	if o.Breached {
		n.Overrun += sign * int64(o.Overrun/time.Second)
	} else {
		n.Met += sign
	}
	d[c] = n
}

// DayChange is a change to one roll-up cell.
type DayChange struct {
	DayCell
	DayCounts
}

// Changes returns the changes that are not zero, in the roll-up's key
// order (concurrent writers then take the cells' locks in one order).
func (d DayDeltas) Changes() []DayChange {
	out := make([]DayChange, 0, len(d))
	for c, n := range d {
		if n != (DayCounts{}) {
			out = append(out, DayChange{c, n})
		}
	}
	slices.SortFunc(out, func(a, b DayChange) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Tier, b.Tier),
			cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.SLAType, b.SLAType), cmp.Compare(a.Calendar, b.Calendar),
			cmp.Compare(a.Bin, b.Bin))
	})
	return out
}
