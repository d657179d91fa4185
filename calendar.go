package watchdog

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ar"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/au"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/bg"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/cz"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/gr"
	"github.com/rickar/cal/v2/hr"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/lt"
	"github.com/rickar/cal/v2/lv"
	"github.com/rickar/cal/v2/mw"
	"github.com/rickar/cal/v2/nc"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/nz"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/ro"
	"github.com/rickar/cal/v2/ru"
	"github.com/rickar/cal/v2/se"
	"github.com/rickar/cal/v2/si"
	"github.com/rickar/cal/v2/sk"
	"github.com/rickar/cal/v2/ua"
	"github.com/rickar/cal/v2/us"
	"github.com/rickar/cal/v2/za"
)

// CalendarConfig describes a business-hours calendar as the SLA file does.
type CalendarConfig struct {
	// TimeZone is an IANA zone name such as "America/New_York". Empty means
	// UTC; "Local" is refused because it depends on the machine.
	TimeZone string
	// Hours maps a weekday to its opening ranges, local wall-clock times
	// such as "09:00-17:00" or "00:00-24:00". A day absent or empty is closed.
	// Ranges of a day may be given in any order but must not overlap;
	// touching ranges ("09:00-12:00", "12:00-13:00") are allowed.
	Hours map[time.Weekday][]string
	// Holidays are closed dates, "2006-01-02": closed for the whole local day.
	Holidays []string
	// Country is an ISO 3166 code (such as "US", "GB", "DE") whose public
	// holidays close the calendar, or an ISO 3166-2 subdivision code for the
	// regional lists the holiday library has (such as "AU-NSW", "DE-BY",
	// "CH-ZH"). Case does not matter. See CalendarCountries.
	Country string
}

// Calendar counts business time: the instants inside its opening hours,
// outside its holidays. A nil *Calendar is open around the clock.
//
// Opening hours are local wall-clock times in the calendar's zone, so a
// daylight-saving change moves them in UTC: a 09:00-17:00 day always has
// eight hours, while "00:00-24:00" has 23 or 25 hours on the days the clocks
// change ("24:00" is the next local midnight). A wall time that does not
// exist (inside a spring-forward gap) stands for the instant the clocks jump
// to, and a wall time that happens twice (in a fall-back overlap) stands for
// its first occurrence, so the repeated hour counts only when a range spans
// it whole, as real elapsed time.
//
// A holiday closes its whole local day. Country holidays come from
// github.com/rickar/cal/v2 and close the day on which the holiday is
// observed (for example a US holiday falling on a Saturday closes the
// Friday before), because that is the day offices shut; the actual date
// stays open unless it is observed too.
//
// A Calendar is immutable after NewCalendar apart from an internal cache,
// and safe for concurrent use.
type Calendar struct {
	name string
	loc  *time.Location
	// week holds each weekday's opening ranges, sorted, in seconds after
	// local midnight.
	week [7][]wallRange
	// weekTotal is the business time of seven consecutive days without a
	// holiday or a zone-offset change.
	weekTotal int64
	// explicit holds the configured holiday dates as day numbers.
	explicit []int64
	country  []*cal.Holiday

	mu    sync.Mutex
	years map[int64]*holidayYear

	segMu sync.Mutex
	segs  atomic.Pointer[[]zoneSeg] // sorted, copy on write
}

// wallRange is an opening range in seconds after local midnight, [start, end).
type wallRange struct{ start, end int64 }

// holidayYear lists the closed days of one calendar year as sorted day
// numbers (days since 1970-01-01 in the proleptic Gregorian calendar).
type holidayYear struct {
	first, next int64
	days        []int64
}

// TimeRange is an opening range of a day in local wall-clock time: from
// Start to End after local midnight, End excluded. End may be 24h, the next
// local midnight.
type TimeRange struct {
	Start, End time.Duration
}

// String formats the range as "HH:MM-HH:MM", the form ParseTimeRange reads.
func (r TimeRange) String() string {
	return formatClock(r.Start) + "-" + formatClock(r.End)
}

func formatClock(d time.Duration) string {
	m := int64(d / time.Minute)
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// ParseTimeRange parses an opening range "HH:MM-HH:MM" (hours may have one
// digit, "24:00" is allowed as the end, spaces around the dash are ignored).
// The start must be before the end.
func ParseTimeRange(s string) (TimeRange, error) {
	r, err := parseTimeRange(s)
	if err != nil {
		return TimeRange{}, fmt.Errorf("time range %q: %w", s, err)
	}
	return r, nil
}

// parseTimeRange returns the bare reason on error so that callers can say
// where the range came from.
func parseTimeRange(s string) (TimeRange, error) {
	i := strings.IndexByte(s, '-')
	if i < 0 {
		return TimeRange{}, errors.New(`want "HH:MM-HH:MM"`)
	}
	start, err := parseClock(strings.TrimSpace(s[:i]))
	if err != nil {
		return TimeRange{}, fmt.Errorf("start: %w", err)
	}
	end, err := parseClock(strings.TrimSpace(s[i+1:]))
	if err != nil {
		return TimeRange{}, fmt.Errorf("end: %w", err)
	}
	switch {
	case start == 24*time.Hour:
		return TimeRange{}, errors.New("start 24:00 is not a time of day (use 00:00)")
	case end == start:
		return TimeRange{}, errors.New("empty range: end equals start")
	case end < start:
		return TimeRange{}, errors.New("end before start")
	}
	return TimeRange{Start: start, End: end}, nil
}

// parseClock parses "H:MM" or "HH:MM", 00:00 to 24:00.
func parseClock(s string) (time.Duration, error) {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon > 2 || len(s) != colon+3 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h, ok1 := digits(s[:colon])
	m, ok2 := digits(s[colon+1:])
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time between 00:00 and 24:00", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// countryHolidays maps ISO 3166 codes to the holiday library's lists.
var countryHolidays = map[string][]*cal.Holiday{
	"AR": ar.Holidays, "AT": at.Holidays, "BE": be.Holidays, "BG": bg.Holidays,
	"BR": br.Holidays, "CA": ca.Holidays, "CH": ch.Holidays, "CZ": cz.Holidays,
	"DE": de.Holidays, "DK": dk.Holidays, "ES": es.Holidays, "FR": fr.Holidays,
	"GB": gb.Holidays, "GR": gr.Holidays, "HR": hr.Holidays, "IE": ie.Holidays,
	"IT": it.Holidays, "JP": jp.Holidays, "LT": lt.Holidays, "LV": lv.Holidays,
	"MW": mw.Holidays, "NC": nc.Holidays, "NL": nl.Holidays, "NO": no.Holidays,
	"NZ": nz.Holidays, "PL": pl.Holidays, "RO": ro.Holidays, "RU": ru.Holidays,
	"SE": se.Holidays, "SI": si.Holidays, "SK": sk.Holidays, "UA": ua.Holidays,
	"US": us.Holidays, "ZA": za.Holidays,

	// Australia has no national list, only its states and territories.
	"AU-ACT": au.HolidaysACT, "AU-NSW": au.HolidaysNSW, "AU-NT": au.HolidaysNT,
	"AU-QLD": au.HolidaysQLD, "AU-SA": au.HolidaysSA, "AU-TAS": au.HolidaysTAS,
	"AU-VIC": au.HolidaysVIC, "AU-WA": au.HolidaysWA,

	"DE-BW": de.HolidaysBW, "DE-BY": de.HolidaysBY, "DE-BE": de.HolidaysBE,
	"DE-BB": de.HolidaysBB, "DE-HB": de.HolidaysHB, "DE-HH": de.HolidaysHH,
	"DE-HE": de.HolidaysHE, "DE-MV": de.HolidaysMV, "DE-NI": de.HolidaysNI,
	"DE-NW": de.HolidaysNW, "DE-RP": de.HolidaysRP, "DE-SL": de.HolidaysSL,
	"DE-SN": de.HolidaysSN, "DE-ST": de.HolidaysST, "DE-SH": de.HolidaysSH,
	"DE-TH": de.HolidaysTH,

	"CH-ZH": ch.HolidaysZH, "CH-BE": ch.HolidaysBE, "CH-LU": ch.HolidaysLU,
	"CH-UR": ch.HolidaysUR, "CH-SZ": ch.HolidaysSZ, "CH-OW": ch.HolidaysOW,
	"CH-NW": ch.HolidaysNW, "CH-GL": ch.HolidaysGL, "CH-ZG": ch.HolidaysZG,
	"CH-FR": ch.HolidaysFR, "CH-SO": ch.HolidaysSO, "CH-BS": ch.HolidaysBS,
	"CH-BL": ch.HolidaysBL, "CH-SH": ch.HolidaysSH, "CH-AR": ch.HolidaysAR,
	"CH-AI": ch.HolidaysAI, "CH-SG": ch.HolidaysSG, "CH-GR": ch.HolidaysGR,
	"CH-AG": ch.HolidaysAG, "CH-TG": ch.HolidaysTG, "CH-VD": ch.HolidaysVD,
	"CH-TI": ch.HolidaysTI, "CH-VS": ch.HolidaysVS, "CH-NE": ch.HolidaysNE,
	"CH-GE": ch.HolidaysGE, "CH-JU": ch.HolidaysJU,
}

// CalendarCountries lists the codes CalendarConfig.Country accepts, sorted.
func CalendarCountries() []string {
	codes := make([]string, 0, len(countryHolidays))
	for code := range countryHolidays {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return codes
}

// NewCalendar builds a calendar from its configuration. Errors name the
// calendar and the offending item, such as
// `hours.tue[1] "13:00-12:00": end before start`. A calendar with no opening
// hours on any weekday is refused.
func NewCalendar(name string, cfg CalendarConfig) (*Calendar, error) {
	fail := func(format string, args ...any) (*Calendar, error) {
		return nil, fmt.Errorf("calendar %q: "+format, append([]any{name}, args...)...)
	}
	if strings.EqualFold(cfg.TimeZone, "local") {
		return fail("timezone %q: the machine's zone is not allowed; name an IANA zone", cfg.TimeZone)
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return fail("timezone %q: %w", cfg.TimeZone, err)
	}
	c := &Calendar{name: name, loc: loc}

	for day, ranges := range cfg.Hours {
		if day < time.Sunday || day > time.Saturday {
			return fail("hours: weekday %d out of range", int(day))
		}
		type indexed struct {
			r   TimeRange
			src string
			i   int
		}
		parsed := make([]indexed, 0, len(ranges))
		for i, s := range ranges {
			r, err := parseTimeRange(s)
			if err != nil {
				return fail("hours.%s[%d] %q: %w", weekdayKeys[day], i, s, err)
			}
			parsed = append(parsed, indexed{r, s, i})
		}
		sort.SliceStable(parsed, func(a, b int) bool { return parsed[a].r.Start < parsed[b].r.Start })
		for j := 1; j < len(parsed); j++ {
			prev, cur := parsed[j-1], parsed[j]
			if cur.r.Start < prev.r.End {
				// Name the later-listed range as the culprit.
				a, b := prev, cur
				if a.i > b.i {
					a, b = b, a
				}
				return fail("hours.%s[%d] %q: overlaps hours.%s[%d] %q",
					weekdayKeys[day], b.i, b.src, weekdayKeys[day], a.i, a.src)
			}
		}
		for _, p := range parsed {
			wr := wallRange{int64(p.r.Start / time.Second), int64(p.r.End / time.Second)}
			c.week[day] = append(c.week[day], wr)
			c.weekTotal += (wr.end - wr.start) * int64(time.Second)
		}
	}
	if c.weekTotal == 0 {
		return fail("hours: no opening hours on any weekday")
	}

	for i, s := range cfg.Holidays {
		d, err := time.Parse("2006-01-02", strings.TrimSpace(s))
		if err != nil {
			return fail("holidays[%d] %q: not a date YYYY-MM-DD", i, s)
		}
		c.explicit = append(c.explicit, daysFromCivil(int64(d.Year()), int(d.Month()), d.Day()))
	}
	slices.Sort(c.explicit)
	c.explicit = slices.Compact(c.explicit)

	if code := strings.ToUpper(strings.TrimSpace(cfg.Country)); code != "" {
		list, ok := countryHolidays[code]
		if !ok {
			hint := ""
			if code == "AU" {
				hint = "; Australia's holidays are per state, such as AU-NSW"
			}
			return fail("country %q: unknown code%s (known: %s)", cfg.Country, hint, strings.Join(CalendarCountries(), ", "))
		}
		c.country = list
	}
	return c, nil
}

// Name is the calendar's name in the SLA file; "24x7" for the nil calendar.
func (c *Calendar) Name() string {
	if c == nil {
		return "24x7"
	}
	return c.name
}

// Location is the calendar's time zone; UTC for the nil calendar.
func (c *Calendar) Location() *time.Location {
	if c == nil {
		return time.UTC
	}
	return c.loc
}

const (
	secondsPerDay = 86400
	// searchDays bounds the search for open time: after about ten years
	// without any, Add and NextOpen give up.
	searchDays = 3660
	// minSupported and maxSupported bound the instants (Unix seconds, about
	// ±36 billion years) the arithmetic handles; beyond them the calendar
	// behaves as open around the clock so that nothing overflows.
	minSupported = -(1 << 60)
	maxSupported = 1 << 60
	// zoneMargin is more than any difference between two UTC offsets, so
	// that an instant this far past a zone transition has a unique wall time.
	zoneMargin = 2 * secondsPerDay
)

func supported(sec int64) bool { return sec >= minSupported && sec <= maxSupported }

// Add returns the earliest instant t such that the business time in
// [start, t) equals d: a target that ends exactly at closing time is due at
// the closing instant, and a start outside opening hours counts from the
// next opening. Add(start, 0) is start, and so is Add with a negative d.
// The result is in start's location.
//
// If the calendar has no open time at all for about ten years from some
// point of the search (every open day a holiday), Add gives up and returns
// the local midnight where it stopped; then Between(start, result) < d.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if c == nil {
		return start.Add(d)
	}
	if d <= 0 {
		return start
	}
	ss, sn := start.Unix(), int64(start.Nanosecond())
	if !supported(ss) {
		return start.Add(d)
	}
	k := cursor{c: c}
	first := k.dayOf(ss)
	r := int64(d)
	lastOpen := first
	var buf [8]wallRange
	for dn := first; ; {
		if r > c.weekTotal && dn > first && k.plainWeek(dn) {
			r -= c.weekTotal
			dn += 7
			lastOpen = dn
			continue
		}
		for _, iv := range k.day(dn, buf[:0]) {
			if iv.end <= ss {
				continue
			}
			var l int64
			var base time.Time
			if iv.start <= ss {
				l = (iv.end-ss)*int64(time.Second) - sn
				base = start
			} else {
				l = (iv.end - iv.start) * int64(time.Second)
				base = time.Unix(iv.start, 0)
			}
			if r <= l {
				return base.Add(time.Duration(r)).In(start.Location())
			}
			r -= l
			lastOpen = dn
		}
		dn++
		if dn-lastOpen > searchDays || dn > maxSupported/secondsPerDay {
			return time.Unix(k.resolve(dn*secondsPerDay), 0).In(start.Location())
		}
	}
}

// Between returns the business time in [a, b); 0 when b is not after a.
// It saturates at the largest time.Duration.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if c == nil {
		return b.Sub(a)
	}
	as, an := a.Unix(), int64(a.Nanosecond())
	bs, bn := b.Unix(), int64(b.Nanosecond())
	if !supported(as) || !supported(bs) {
		return b.Sub(a)
	}
	k := cursor{c: c}
	first := k.dayOf(as)
	var total int64
	add := func(n int64) {
		if total > math.MaxInt64-n {
			total = math.MaxInt64
		} else {
			total += n
		}
	}
	var buf [8]wallRange
	for dn := first; ; {
		// Stop at the first local day that starts at or after b.
		if m := k.resolve(dn * secondsPerDay); m > bs || (m == bs && bn == 0) {
			break
		}
		if dn > first && (dn+7)*secondsPerDay-k.seg.off <= bs && k.plainWeek(dn) {
			add(c.weekTotal)
			dn += 7
			continue
		}
		for _, iv := range k.day(dn, buf[:0]) {
			// Overlap of [iv.start, iv.end) and [a, b), as (seconds, nanoseconds).
			ls, ln := iv.start, int64(0)
			if ls < as || (ls == as && an > 0) {
				ls, ln = as, an
			}
			hs, hn := iv.end, int64(0)
			if hs > bs || (hs == bs && bn < hn) {
				hs, hn = bs, bn
			}
			if n := (hs-ls)*int64(time.Second) + hn - ln; n > 0 {
				add(n)
			}
		}
		dn++
	}
	return time.Duration(total)
}

// IsOpen reports whether t is inside the calendar's opening hours. The nil
// calendar is always open.
func (c *Calendar) IsOpen(t time.Time) bool {
	if c == nil {
		return true
	}
	ts := t.Unix()
	if !supported(ts) {
		return true
	}
	k := cursor{c: c}
	dn := k.dayOf(ts)
	var buf [8]wallRange
	// The next day is checked too: after a fall-back across midnight, an
	// instant can carry the earlier date yet follow the next day's midnight.
	for _, day := range [2]int64{dn, dn + 1} {
		for _, iv := range k.day(day, buf[:0]) {
			if iv.start <= ts && ts < iv.end {
				return true
			}
		}
	}
	return false
}

// NextOpen returns the earliest instant at or after t at which the calendar
// is open, in t's location; t itself for the nil calendar. Like Add, it gives
// up after about ten years without open time and then returns the local
// midnight where it stopped.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	if c == nil {
		return t
	}
	ts := t.Unix()
	if !supported(ts) {
		return t
	}
	k := cursor{c: c}
	first := k.dayOf(ts)
	var buf [8]wallRange
	for dn := first; ; dn++ {
		for _, iv := range k.day(dn, buf[:0]) {
			if iv.end <= ts {
				continue
			}
			if iv.start <= ts {
				return t
			}
			return time.Unix(iv.start, 0).In(t.Location())
		}
		if dn-first > searchDays {
			return time.Unix(k.resolve((dn+1)*secondsPerDay), 0).In(t.Location())
		}
	}
}

// cursor walks a calendar day by day, remembering the zone segment and the
// holiday year it is in so that most days cost no lookup. It is not shared
// between goroutines.
type cursor struct {
	c     *Calendar
	seg   zoneSeg
	valid bool
	year  *holidayYear
}

// dayOf returns the local day number of the instant sec.
func (k *cursor) dayOf(sec int64) int64 {
	if !k.valid || sec < k.seg.start || sec >= k.seg.end {
		k.seg, k.valid = k.c.segment(sec), true
	}
	return floorDiv(sec+k.seg.off, secondsPerDay)
}

// resolve turns a local wall time (seconds since 1970-01-01 00:00 wall
// clock) into an instant: the earliest instant whose wall time is at or
// after w. That is the unique instant for an ordinary wall time, the first
// occurrence for a repeated one, and the instant the clocks jump to for one
// inside a gap.
func (k *cursor) resolve(w int64) int64 {
	if k.valid {
		if u := w - k.seg.off; u >= k.seg.safe && u < k.seg.end {
			return u
		}
	}
	// Walk the segments that could hold the answer, oldest first: the first
	// whose wall times reach past w holds it, or starts just after the gap
	// w falls in.
	t := w - zoneMargin
	for range 64 {
		seg := k.c.segment(t)
		k.seg, k.valid = seg, true
		if seg.start != math.MinInt64 && w < seg.start+seg.off {
			return seg.start
		}
		if seg.end == math.MaxInt64 || w < seg.end+seg.off {
			return w - seg.off
		}
		t = seg.end
	}
	return w - k.seg.off // unreachable with real zone data
}

// plainWeek reports whether the seven local days from dn have no holiday and
// no offset change, so that their business time is c.weekTotal. It leaves
// the cursor's segment on the one holding the week.
func (k *cursor) plainWeek(dn int64) bool {
	w := dn * secondsPerDay
	k.resolve(w)
	u := w - k.seg.off
	if u < k.seg.safe || u+7*secondsPerDay >= k.seg.end {
		return false
	}
	if k.c.explicit == nil && k.c.country == nil {
		return true
	}
	y := k.yearOf(dn)
	if dn+7 > y.next {
		return false
	}
	i, _ := slices.BinarySearch(y.days, dn)
	return i == len(y.days) || y.days[i] >= dn+7
}

// day appends the opening intervals of local day dn, in Unix seconds, to buf.
func (k *cursor) day(dn int64, buf []wallRange) []wallRange {
	ranges := k.c.week[floorMod(dn+4, 7)] // 1970-01-01 was a Thursday
	if len(ranges) == 0 || k.holiday(dn) {
		return buf
	}
	base := dn * secondsPerDay
	for _, r := range ranges {
		s, e := k.resolve(base+r.start), k.resolve(base+r.end)
		if e > s {
			buf = append(buf, wallRange{s, e})
		}
	}
	return buf
}

func (k *cursor) holiday(dn int64) bool {
	if k.c.explicit == nil && k.c.country == nil {
		return false
	}
	_, found := slices.BinarySearch(k.yearOf(dn).days, dn)
	return found
}

func (k *cursor) yearOf(dn int64) *holidayYear {
	if y := k.year; y != nil && dn >= y.first && dn < y.next {
		return y
	}
	year, _, _ := civilFromDays(dn)
	k.year = k.c.holidayYear(year)
	return k.year
}

// maxCachedYears bounds the holiday cache; past it the cache starts over.
const maxCachedYears = 1024

// holidayYear returns the closed days of a year, computing them once.
func (c *Calendar) holidayYear(year int64) *holidayYear {
	c.mu.Lock()
	defer c.mu.Unlock()
	if y, ok := c.years[year]; ok {
		return y
	}
	y := &holidayYear{first: daysFromCivil(year, 1, 1), next: daysFromCivil(year+1, 1, 1)}
	lo, _ := slices.BinarySearch(c.explicit, y.first)
	hi, _ := slices.BinarySearch(c.explicit, y.next)
	y.days = append(y.days, c.explicit[lo:hi]...)
	// The holiday library works on years 1..9999 of time.Time; an observed
	// date may fall in the year before or after its holiday's year.
	if len(c.country) > 0 && year >= 1 && year <= 9999 {
		for _, hy := range [3]int64{year - 1, year, year + 1} {
			for _, h := range c.country {
				_, observed := h.Calc(int(hy))
				if observed.IsZero() {
					continue
				}
				oy, om, od := observed.Date()
				if dn := daysFromCivil(int64(oy), int(om), od); dn >= y.first && dn < y.next {
					y.days = append(y.days, dn)
				}
			}
		}
	}
	slices.Sort(y.days)
	y.days = slices.Compact(y.days)
	if c.years == nil || len(c.years) >= maxCachedYears {
		c.years = make(map[int64]*holidayYear)
	}
	c.years[year] = y
	return y
}
