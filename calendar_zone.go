package watchdog

import (
	"math"
	"sort"
	"time"
)

// zoneSeg is a maximal stretch of time with one UTC offset, [start, end)
// in Unix seconds; math.MinInt64 and math.MaxInt64 stand for unbounded ends.
type zoneSeg struct {
	start, end int64
	// safe is the first instant of the segment whose wall time no earlier
	// segment reaches, so that wall time minus off is its first occurrence.
	safe int64
	off  int64
}

// maxCachedSegments bounds the per-calendar cache of zone segments (about
// two per year in a zone with daylight saving time).
const maxCachedSegments = 4096

// segment returns the zone segment holding the instant sec, from the cache
// when it can.
func (c *Calendar) segment(sec int64) zoneSeg {
	if p := c.segs.Load(); p != nil {
		segs := *p
		i := sort.Search(len(segs), func(i int) bool { return segs[i].end > sec })
		if i < len(segs) && segs[i].start <= sec {
			return segs[i]
		}
	}
	seg := computeSegment(c.loc, sec)
	c.segMu.Lock()
	defer c.segMu.Unlock()
	var old []zoneSeg
	if p := c.segs.Load(); p != nil {
		old = *p
	}
	if len(old) < maxCachedSegments {
		i := sort.Search(len(old), func(i int) bool { return old[i].start >= seg.start })
		if i == len(old) || old[i].start != seg.start {
			segs := make([]zoneSeg, 0, len(old)+1)
			segs = append(append(append(segs, old[:i]...), seg), old[i:]...)
			c.segs.Store(&segs)
		}
	}
	return seg
}

func offsetAt(loc *time.Location, sec int64) int64 {
	_, off := time.Unix(sec, 0).In(loc).Zone()
	return int64(off)
}

// computeSegment finds the segment holding sec. time.Time.ZoneBounds gives
// the stretch the time package knows, but past the zone's last listed
// transition it also reports year boundaries where nothing changes (and, on
// the last day of a leap year, an end before the instant itself), so bounds
// are only hints: a segment ends where the offset really changes.
func computeSegment(loc *time.Location, sec int64) zoneSeg {
	off := offsetAt(loc, sec)
	seg := zoneSeg{start: segmentStart(loc, sec, off), end: segmentEnd(loc, sec, off), off: off}
	seg.safe = seg.start
	if seg.start == math.MinInt64 {
		return seg
	}
	prevOff := offsetAt(loc, seg.start-1)
	prevStart := segmentStart(loc, seg.start-1, prevOff)
	switch {
	case prevStart == math.MinInt64 || seg.start-prevStart >= zoneMargin:
		// A long previous segment: only it can reach the same wall times.
		if prevOff > off {
			seg.safe = seg.start + (prevOff - off)
		}
	default:
		// Transitions close together: leave the first two days to the
		// general search.
		seg.safe = seg.start + zoneMargin
	}
	if seg.safe > seg.end {
		seg.safe = seg.end
	}
	return seg
}

// segmentEnd returns the first instant after x whose offset is not off,
// given that x has offset off.
func segmentEnd(loc *time.Location, x, off int64) int64 {
	for range 64 {
		_, e := time.Unix(x, 0).In(loc).ZoneBounds()
		if e.IsZero() {
			return math.MaxInt64
		}
		end := e.Unix()
		if end <= x {
			end = (floorDiv(x, secondsPerDay) + 1) * secondsPerDay
		}
		if offsetAt(loc, end) != off {
			return end
		}
		x = end
	}
	return x // a boundary where nothing changes is harmless
}

// segmentStart returns the first instant of the stretch of offset off that
// holds x.
func segmentStart(loc *time.Location, x, off int64) int64 {
	for range 64 {
		s, _ := time.Unix(x, 0).In(loc).ZoneBounds()
		if s.IsZero() {
			return math.MinInt64
		}
		start := s.Unix()
		if start > x {
			start = floorDiv(x, secondsPerDay) * secondsPerDay
		}
		if offsetAt(loc, start-1) != off {
			return start
		}
		x = start - 1
	}
	return x
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (H. Hinnant's algorithm).
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
