package watchdog

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzParseTimeRange: the range parser never panics, accepts only ranges
// within a day with start before end, and its String form parses back to
// the same range.
func FuzzParseTimeRange(f *testing.F) {
	for _, s := range []string{"09:00-17:00", "00:00-24:00", "9:30-12:05", " 13:00 - 18:00 ",
		"13:00-12:00", "24:00-24:00", "", "-", "::-::", "09:00-17:00-18:00", "99:99-00:00", "1:1-2:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseTimeRange(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("error %q does not quote the input", err)
			}
			return
		}
		if r.Start < 0 || r.End > 24*time.Hour || r.Start >= r.End || r.Start%time.Minute != 0 || r.End%time.Minute != 0 {
			t.Fatalf("ParseTimeRange(%q) = %+v: not a range within a day", s, r)
		}
		canon := r.String()
		back, err := ParseTimeRange(canon)
		if err != nil || back != r {
			t.Fatalf("ParseTimeRange(%q).String() = %q parses to %+v, %v", s, canon, back, err)
		}
		if back.String() != canon {
			t.Fatalf("String not stable: %q then %q", canon, back.String())
		}
	})
}

var fuzzZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago",
	"Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe", "America/St_Johns", "Europe/London"}

var fuzzCountries = []string{"", "US", "GB", "DE", "AU-NSW", "JP"}

// FuzzCalendarAddBetween builds a calendar from the fuzzed bytes and checks
// that Add never panics, never goes back, and that Between(s, Add(s, d)) is d.
func FuzzCalendarAddBetween(f *testing.F) {
	f.Add(int64(1772812800), uint32(0), int64(2*time.Hour), uint8(1), uint8(0b0111110), uint16(540), uint16(1020), uint16(0), uint16(0), int16(0), uint8(1))
	f.Add(int64(1772928000), uint32(1), int64(90*time.Minute), uint8(1), uint8(0b1111111), uint16(60), uint16(240), uint16(0), uint16(0), int16(5), uint8(0))
	f.Add(int64(1774742400), uint32(999999999), int64(25*time.Hour), uint8(2), uint8(1), uint16(0), uint16(1440), uint16(0), uint16(0), int16(0), uint8(3))
	f.Add(int64(1775311200), uint32(5), int64(time.Nanosecond), uint8(3), uint8(0b0100001), uint16(540), uint16(720), uint16(780), uint16(1080), int16(-3), uint8(4))
	f.Fuzz(func(t *testing.T, sec int64, nsec uint32, d int64, zone, days uint8, s1, e1, s2, e2 uint16, hol int16, country uint8) {
		hours := map[time.Weekday][]string{}
		clock := func(m uint16) string { m %= 1441; return fmt.Sprintf("%02d:%02d", m/60, m%60) }
		for wd := range 7 {
			if days&(1<<wd) != 0 {
				hours[time.Weekday(wd)] = []string{clock(s1) + "-" + clock(e1), clock(s2) + "-" + clock(e2)}
			}
		}
		// Starts between 1990 and 2060; targets up to about two years.
		start := time.Unix(1<<29+floorMod(sec, 70*365*86400), int64(nsec%1_000_000_000))
		var holidays []string
		if hol != 0 {
			// A run of holidays around the start.
			for i := range int(hol%20+20) % 20 {
				holidays = append(holidays, start.AddDate(0, 0, i-int(hol%7)).Format("2006-01-02"))
			}
		}
		cfg := CalendarConfig{
			TimeZone: fuzzZones[int(zone)%len(fuzzZones)],
			Hours:    hours,
			Holidays: holidays,
			Country:  fuzzCountries[int(country)%len(fuzzCountries)],
		}
		c, err := NewCalendar("fuzz", cfg)
		if err != nil {
			return // overlapping, reversed or no hours
		}
		dur := time.Duration(floorMod(d, int64(2*365*24*time.Hour)))
		due := c.Add(start, dur)
		if due.Before(start) {
			t.Fatalf("Add(%v, %v) = %v is before the start", start, dur, due)
		}
		if got := c.Between(start, due); got != dur {
			if got < dur && due.Sub(start) > 10*365*24*time.Hour {
				return // gave up: ten years without open time
			}
			t.Fatalf("%+v: Between(%v, Add(s, %v) = %v) = %v", cfg, start, dur, due, got)
		}
		if dur > 0 {
			if less := c.Add(start, dur-1); !less.Before(due) {
				t.Fatalf("Add(s, %v) = %v not before Add(s, %v) = %v", dur-1, less, dur, due)
			}
		}
	})
}
