package sqlstore

import (
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
