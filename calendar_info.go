package watchdog

import "time"

// Hours returns the calendar's opening ranges by weekday (index
// time.Sunday to time.Saturday), each day's in order; a closed day has
// none. The nil calendar is open from 00:00 to 24:00 every day.
func (c *Calendar) Hours() [7][]TimeRange {
	var out [7][]TimeRange
	for day := range out {
		if c == nil {
			out[day] = []TimeRange{{Start: 0, End: 24 * time.Hour}}
			continue
		}
		for _, r := range c.week[day] {
			out[day] = append(out[day], TimeRange{Start: time.Duration(r.start) * time.Second, End: time.Duration(r.end) * time.Second})
		}
	}
	return out
}

// NextHolidays returns up to n closed days (configured holidays and the
// country's observed public holidays) on or after the local date of from,
// looking no further than two years ahead, in date order: each the local
// midnight of its day in the calendar's zone. The nil calendar has none.
func (c *Calendar) NextHolidays(from time.Time, n int) []time.Time {
	if c == nil || n <= 0 || c.explicit == nil && c.country == nil || !supported(from.Unix()) {
		return nil
	}
	k := cursor{c: c}
	first := k.dayOf(from.Unix())
	var out []time.Time
	for dn := first; dn < first+2*366 && len(out) < n; dn++ {
		if k.holiday(dn) {
			y, m, d := civilFromDays(dn)
			out = append(out, time.Date(int(y), time.Month(m), d, 0, 0, 0, 0, c.loc))
		}
	}
	return out
}
