package watchdog

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rickar/cal/v2"
)

// weekdays Monday to Friday, a handy key set for test calendars.
var monFri = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

var everyDay = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}

func hoursOn(days []time.Weekday, ranges ...string) map[time.Weekday][]string {
	h := make(map[time.Weekday][]string, len(days))
	for _, d := range days {
		h[d] = append([]string(nil), ranges...)
	}
	return h
}

func mustCalendar(tb testing.TB, name string, cfg CalendarConfig) *Calendar {
	tb.Helper()
	c, err := NewCalendar(name, cfg)
	if err != nil {
		tb.Fatalf("NewCalendar(%q): %v", name, err)
	}
	return c
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("bad test time %q: %v", s, err)
	}
	return t
}

// testCalendarConfigs are the calendars the table and property tests use.
func testCalendarConfigs() map[string]CalendarConfig {
	return map[string]CalendarConfig{
		"ny-week":  {TimeZone: "America/New_York", Hours: hoursOn(monFri, "09:00-17:00")},
		"ny-split": {TimeZone: "America/New_York", Hours: hoursOn(monFri, "13:00-18:00", "09:00-12:00")},
		"ny-us": {TimeZone: "America/New_York", Hours: hoursOn(monFri, "09:00-17:00"),
			Holidays: []string{"2026-03-10", "2026-03-14"}, Country: "us"},
		"ny-allday":   {TimeZone: "America/New_York", Hours: hoursOn(everyDay, "00:00-24:00")},
		"ny-sunday":   {TimeZone: "America/New_York", Hours: hoursOn([]time.Weekday{time.Sunday}, "00:00-24:00")},
		"ny-night":    {TimeZone: "America/New_York", Hours: hoursOn(everyDay, "01:00-04:00")},
		"ny-gap":      {TimeZone: "America/New_York", Hours: map[time.Weekday][]string{time.Sunday: {"02:00-02:30"}, time.Monday: {"09:00-10:00"}}},
		"ny-lategap":  {TimeZone: "America/New_York", Hours: hoursOn(everyDay, "02:30-03:30")},
		"ny-repeat":   {TimeZone: "America/New_York", Hours: hoursOn(everyDay, "01:00-01:30")},
		"berlin-day":  {TimeZone: "Europe/Berlin", Hours: hoursOn(everyDay, "09:00-17:00")},
		"berlin-all":  {TimeZone: "Europe/Berlin", Hours: hoursOn(everyDay, "00:00-24:00")},
		"berlin-nite": {TimeZone: "Europe/Berlin", Hours: hoursOn(everyDay, "01:00-04:00")},
		"berlin-two":  {TimeZone: "Europe/Berlin", Hours: hoursOn(everyDay, "02:00-03:00")},
		"sydney-week": {TimeZone: "Australia/Sydney", Hours: hoursOn(monFri, "09:00-17:00")},
		"sydney-nsw":  {TimeZone: "Australia/Sydney", Hours: hoursOn(monFri, "09:00-17:00"), Country: "AU-NSW"},
		"sydney-all":  {TimeZone: "Australia/Sydney", Hours: hoursOn(everyDay, "00:00-24:00")},
		"sydney-nite": {TimeZone: "Australia/Sydney", Hours: hoursOn(everyDay, "01:00-04:00")},
		"santiago":    {TimeZone: "America/Santiago", Hours: hoursOn(everyDay, "00:00-24:00")},
		"kolkata":     {TimeZone: "Asia/Kolkata", Hours: hoursOn(monFri, "09:30-13:00", "14:00-18:30"), Country: "GB"},
		"chatham":     {TimeZone: "Pacific/Chatham", Hours: hoursOn([]time.Weekday{time.Sunday, time.Saturday}, "00:00-03:00", "22:00-24:00")},
		"utc-week":    {TimeZone: "UTC", Hours: hoursOn(monFri, "08:00-16:00"), Country: "DE"},
		// Lord Howe moves its clocks by 30 minutes, at 02:00.
		"lordhowe": {TimeZone: "Australia/Lord_Howe", Hours: hoursOn(everyDay, "01:00-02:15", "09:00-17:00"), Holidays: []string{"2026-10-05"}},
	}
}

func testCalendars(tb testing.TB) map[string]*Calendar {
	tb.Helper()
	out := map[string]*Calendar{}
	for name, cfg := range testCalendarConfigs() {
		out[name] = mustCalendar(tb, name, cfg)
	}
	return out
}

func TestParseTimeRange(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in         string
		start, end time.Duration
		canon      string
	}{
		{"09:00-17:00", 9 * time.Hour, 17 * time.Hour, "09:00-17:00"},
		{"00:00-24:00", 0, 24 * time.Hour, "00:00-24:00"},
		{"9:30-12:05", 9*time.Hour + 30*time.Minute, 12*time.Hour + 5*time.Minute, "09:30-12:05"},
		{" 13:00 - 18:00 ", 13 * time.Hour, 18 * time.Hour, "13:00-18:00"},
		{"23:59-24:00", 23*time.Hour + 59*time.Minute, 24 * time.Hour, "23:59-24:00"},
		{"00:00-00:01", 0, time.Minute, "00:00-00:01"},
	}
	for _, tc := range valid {
		r, err := ParseTimeRange(tc.in)
		if err != nil {
			t.Errorf("ParseTimeRange(%q): %v", tc.in, err)
			continue
		}
		if r.Start != tc.start || r.End != tc.end {
			t.Errorf("ParseTimeRange(%q) = %v..%v, want %v..%v", tc.in, r.Start, r.End, tc.start, tc.end)
		}
		if got := r.String(); got != tc.canon {
			t.Errorf("ParseTimeRange(%q).String() = %q, want %q", tc.in, got, tc.canon)
		}
	}
	invalid := []struct{ in, want string }{
		{"", `time range "": want "HH:MM-HH:MM"`},
		{"0900-1700", `time range "0900-1700": start: "0900" is not HH:MM`},
		{"13:00-12:00", `time range "13:00-12:00": end before start`},
		{"12:00-12:00", `time range "12:00-12:00": empty range: end equals start`},
		{"24:00-24:00", `time range "24:00-24:00": start 24:00 is not a time of day (use 00:00)`},
		{"09:00-24:01", `time range "09:00-24:01": end: "24:01" is not a time between 00:00 and 24:00`},
		{"09:60-10:00", `time range "09:60-10:00": start: "09:60" is not a time between 00:00 and 24:00`},
		{"25:00-26:00", `time range "25:00-26:00": start: "25:00" is not a time between 00:00 and 24:00`},
		{"09:00-", `time range "09:00-": end: "" is not HH:MM`},
		{"-09:00-10:00", `time range "-09:00-10:00": start: "" is not HH:MM`},
		{"09:00-10:00-11:00", `time range "09:00-10:00-11:00": end: "10:00-11:00" is not HH:MM`},
		{"+9:00-10:00", `time range "+9:00-10:00": start: "+9:00" is not HH:MM`},
		{"09:0a-10:00", `time range "09:0a-10:00": start: "09:0a" is not HH:MM`},
		{"123:00-124:00", `time range "123:00-124:00": start: "123:00" is not HH:MM`},
	}
	for _, tc := range invalid {
		_, err := ParseTimeRange(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseTimeRange(%q) error = %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestNewCalendarErrors(t *testing.T) {
	t.Parallel()
	week := hoursOn(monFri, "09:00-17:00")
	tests := []struct {
		name string
		cfg  CalendarConfig
		want string // the whole message
	}{
		{"bad zone", CalendarConfig{TimeZone: "Mars/Olympus_Mons", Hours: week},
			`calendar "c": timezone "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons`},
		{"local zone", CalendarConfig{TimeZone: "Local", Hours: week},
			`calendar "c": timezone "Local": the machine's zone is not allowed; name an IANA zone`},
		{"end before start", CalendarConfig{Hours: map[time.Weekday][]string{time.Tuesday: {"09:00-12:00", "13:00-12:00"}}},
			`calendar "c": hours.tue[1] "13:00-12:00": end before start`},
		{"garbage range", CalendarConfig{Hours: map[time.Weekday][]string{time.Sunday: {"nine to five"}}},
			`calendar "c": hours.sun[0] "nine to five": want "HH:MM-HH:MM"`},
		{"overlap", CalendarConfig{Hours: map[time.Weekday][]string{time.Wednesday: {"13:00-18:00", "09:00-13:30"}}},
			`calendar "c": hours.wed[1] "09:00-13:30": overlaps hours.wed[0] "13:00-18:00"`},
		{"contained", CalendarConfig{Hours: map[time.Weekday][]string{time.Friday: {"08:00-18:00", "09:00-10:00"}}},
			`calendar "c": hours.fri[1] "09:00-10:00": overlaps hours.fri[0] "08:00-18:00"`},
		{"weekday out of range", CalendarConfig{Hours: map[time.Weekday][]string{7: {"09:00-10:00"}}},
			`calendar "c": hours: weekday 7 out of range`},
		{"never open", CalendarConfig{TimeZone: "UTC", Hours: map[time.Weekday][]string{time.Monday: {}}},
			`calendar "c": hours: no opening hours on any weekday`},
		{"no hours", CalendarConfig{TimeZone: "UTC"},
			`calendar "c": hours: no opening hours on any weekday`},
		{"bad holiday", CalendarConfig{Hours: week, Holidays: []string{"2026-12-25", "2026-02-30"}},
			`calendar "c": holidays[1] "2026-02-30": not a date YYYY-MM-DD`},
		{"unknown country", CalendarConfig{Hours: week, Country: "XX"},
			`calendar "c": country "XX": unknown code (known: ` + strings.Join(CalendarCountries(), ", ") + `)`},
		{"australia", CalendarConfig{Hours: week, Country: "au"},
			`calendar "c": country "au": unknown code; Australia's holidays are per state, such as AU-NSW (known: ` + strings.Join(CalendarCountries(), ", ") + `)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewCalendar("c", tc.cfg)
			if err == nil {
				t.Fatalf("NewCalendar = %v, want error %s", c, tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestNewCalendarAccepts(t *testing.T) {
	t.Parallel()
	c, err := NewCalendar("ok", CalendarConfig{
		TimeZone: "Europe/Paris",
		Hours: map[time.Weekday][]string{
			time.Monday:   {"12:00-13:00", "09:00-12:00"}, // touching ranges are fine
			time.Saturday: {},
		},
		Holidays: []string{"2026-05-01", "2026-05-01"},
		Country:  " fr ",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "ok" || c.Location().String() != "Europe/Paris" {
		t.Fatalf("Name/Location = %q/%v", c.Name(), c.Location())
	}
	// Empty zone is UTC.
	u := mustCalendar(t, "u", CalendarConfig{Hours: hoursOn(monFri, "09:00-17:00")})
	if u.Location() != time.UTC {
		t.Fatalf("empty zone gave %v", u.Location())
	}
	if len(CalendarCountries()) < 30 || CalendarCountries()[0] != "AR" {
		t.Fatalf("CalendarCountries() = %v", CalendarCountries())
	}
	for _, code := range CalendarCountries() {
		if _, err := NewCalendar(code, CalendarConfig{Hours: hoursOn(monFri, "09:00-17:00"), Country: code}); err != nil {
			t.Errorf("country %s: %v", code, err)
		}
	}
}

func TestCalendarNil(t *testing.T) {
	t.Parallel()
	var c *Calendar
	s := mustTime(t, "2026-03-08T01:30:00.5-05:00")
	if c.Name() != "24x7" || c.Location() != time.UTC {
		t.Fatalf("nil Name/Location = %q/%v", c.Name(), c.Location())
	}
	if got := c.Add(s, 90*time.Minute); !got.Equal(mustTime(t, "2026-03-08T04:00:00.5-04:00")) {
		t.Fatalf("nil Add = %v", got)
	}
	if got := c.Between(s, s.Add(time.Hour)); got != time.Hour {
		t.Fatalf("nil Between = %v", got)
	}
	if got := c.Between(s, s.Add(-time.Hour)); got != 0 {
		t.Fatalf("nil Between backwards = %v", got)
	}
	if !c.IsOpen(s) || !c.NextOpen(s).Equal(s) {
		t.Fatal("nil calendar should always be open")
	}
}

func TestCalendarBetween(t *testing.T) {
	t.Parallel()
	cals := testCalendars(t)
	tests := []struct {
		cal  string
		a, b string
		want time.Duration
	}{
		{"ny-week", "2026-03-09T00:00:00-04:00", "2026-03-16T00:00:00-04:00", 40 * time.Hour},
		{"ny-week", "2026-03-09T12:00:00-04:00", "2026-03-09T11:00:00-04:00", 0},
		{"ny-week", "2026-03-09T12:00:00-04:00", "2026-03-09T12:00:00-04:00", 0},
		{"ny-week", "2026-03-09T16:59:59.999999999-04:00", "2026-03-10T09:00:00.000000001-04:00", 2},
		{"ny-week", "2026-03-07T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 0},
		{"ny-week", "2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00", 261 * 8 * time.Hour},
		{"ny-us", "2026-03-09T00:00:00-04:00", "2026-03-16T00:00:00-04:00", 32 * time.Hour},
		// 261 weekdays in 2026, 11 US holidays all observed on weekdays
		// (July 4 on Friday the 3rd), one explicit weekday holiday.
		{"ny-us", "2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00", (261 - 11 - 1) * 8 * time.Hour},
		{"ny-split", "2026-06-02T09:00:00-04:00", "2026-06-02T18:00:00-04:00", 8 * time.Hour},
		{"ny-split", "2026-06-02T11:30:00-04:00", "2026-06-02T13:30:00-04:00", time.Hour},
		{"ny-split", "2026-06-02T12:10:00-04:00", "2026-06-02T12:50:00-04:00", 0},
		{"ny-allday", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23 * time.Hour},
		{"ny-allday", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25 * time.Hour},
		{"ny-night", "2026-03-08T00:00:00-05:00", "2026-03-08T12:00:00-04:00", 2 * time.Hour},
		{"ny-night", "2026-11-01T00:00:00-04:00", "2026-11-01T12:00:00-05:00", 4 * time.Hour},
		{"ny-night", "2026-11-01T01:59:00-04:00", "2026-11-01T01:01:00-05:00", 2 * time.Minute},
		{"ny-night", "2026-11-01T01:01:00-05:00", "2026-11-01T03:59:00-05:00", 178 * time.Minute},
		{"ny-gap", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 0},
		{"ny-lategap", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 30 * time.Minute},
		{"ny-repeat", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 30 * time.Minute},
		{"berlin-day", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 8 * time.Hour},
		{"berlin-day", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 8 * time.Hour},
		{"berlin-all", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23 * time.Hour},
		{"berlin-all", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25 * time.Hour},
		{"berlin-all", "2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00", 365 * 24 * time.Hour},
		{"berlin-nite", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 2 * time.Hour},
		{"berlin-nite", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 4 * time.Hour},
		{"berlin-two", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 0},
		{"berlin-two", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 2 * time.Hour},
		{"sydney-all", "2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:00", 25 * time.Hour},
		{"sydney-all", "2026-10-04T00:00:00+10:00", "2026-10-05T00:00:00+11:00", 23 * time.Hour},
		{"sydney-nite", "2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:00", 4 * time.Hour},
		{"sydney-nite", "2026-10-04T00:00:00+10:00", "2026-10-05T00:00:00+11:00", 2 * time.Hour},
		{"sydney-week", "2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:00", 0},
		{"santiago", "2026-04-04T00:00:00-03:00", "2026-04-05T00:00:00-04:00", 25 * time.Hour},
		{"santiago", "2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", 24 * time.Hour},
		{"santiago", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00", 23 * time.Hour},
		{"chatham", "2026-06-06T00:00:00+12:45", "2026-06-08T00:00:00+12:45", 10 * time.Hour},
		// Lord Howe, 01:00-02:15 and 09:00-17:00: on 2026-04-05 02:00 (+11)
		// becomes 01:30 (+10:30), so 01:00-02:15 lasts 1h45; on 2026-10-04
		// 02:00 (+10:30) becomes 02:30 (+11), so 02:15 is the jump, 1h after 01:00.
		{"lordhowe", "2026-04-05T00:00:00+11:00", "2026-04-06T00:00:00+10:30", 9*time.Hour + 45*time.Minute},
		{"lordhowe", "2026-10-04T00:00:00+10:30", "2026-10-05T00:00:00+11:00", 9 * time.Hour},
		{"lordhowe", "2026-10-05T00:00:00+11:00", "2026-10-06T00:00:00+11:00", 0},
	}
	for _, tc := range tests {
		c := cals[tc.cal]
		if got := c.Between(mustTime(t, tc.a), mustTime(t, tc.b)); got != tc.want {
			t.Errorf("%s: Between(%s, %s) = %v, want %v", tc.cal, tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCalendarIsOpenNextOpen(t *testing.T) {
	t.Parallel()
	cals := testCalendars(t)
	tests := []struct {
		cal, at  string
		open     bool
		nextOpen string
	}{
		{"ny-week", "2026-03-09T09:00:00-04:00", true, "2026-03-09T09:00:00-04:00"},
		{"ny-week", "2026-03-09T08:59:59.999999999-04:00", false, "2026-03-09T09:00:00-04:00"},
		{"ny-week", "2026-03-09T16:59:59.999999999-04:00", true, "2026-03-09T16:59:59.999999999-04:00"},
		{"ny-week", "2026-03-09T17:00:00-04:00", false, "2026-03-10T09:00:00-04:00"},
		{"ny-week", "2026-03-06T17:00:00-05:00", false, "2026-03-09T09:00:00-04:00"},
		{"ny-split", "2026-06-02T12:00:00-04:00", false, "2026-06-02T13:00:00-04:00"},
		{"ny-split", "2026-06-02T11:59:59-04:00", true, "2026-06-02T11:59:59-04:00"},
		{"ny-us", "2026-07-03T12:00:00-04:00", false, "2026-07-06T09:00:00-04:00"},
		{"ny-us", "2026-12-31T17:00:00-05:00", false, "2027-01-04T09:00:00-05:00"}, // New Year 2027 is a Friday
		{"ny-repeat", "2026-11-01T01:15:00-04:00", true, "2026-11-01T01:15:00-04:00"},
		{"ny-repeat", "2026-11-01T01:15:00-05:00", false, "2026-11-02T01:00:00-05:00"},
		{"ny-lategap", "2026-03-08T01:59:59-05:00", false, "2026-03-08T03:00:00-04:00"},
		{"ny-lategap", "2026-03-08T03:29:59-04:00", true, "2026-03-08T03:29:59-04:00"},
		{"santiago", "2026-09-06T00:30:00-04:00", true, "2026-09-06T00:30:00-04:00"}, // 04:30Z is Sunday 01:30 -03
	}
	for _, tc := range tests {
		c := cals[tc.cal]
		at := mustTime(t, tc.at)
		if got := c.IsOpen(at); got != tc.open {
			t.Errorf("%s: IsOpen(%s) = %v, want %v", tc.cal, tc.at, got, tc.open)
		}
		if got := c.NextOpen(at); !got.Equal(mustTime(t, tc.nextOpen)) {
			t.Errorf("%s: NextOpen(%s) = %s, want %s", tc.cal, tc.at, got.Format(time.RFC3339Nano), tc.nextOpen)
		}
	}
}

// TestCalendarGivesUp covers a calendar whose only open day is a holiday for
// more than ten years: Add stops instead of looping, and says so by
// returning an instant with less business time than asked.
func TestCalendarGivesUp(t *testing.T) {
	t.Parallel()
	saturdays := func(from time.Time, n int) []string {
		var out []string
		for i := range n {
			out = append(out, from.AddDate(0, 0, 7*i).Format("2006-01-02"))
		}
		return out
	}
	first := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC) // a Saturday
	start := mustTime(t, "2026-01-01T00:00:00Z")

	blocked := mustCalendar(t, "blocked", CalendarConfig{TimeZone: "UTC",
		Hours: map[time.Weekday][]string{time.Saturday: {"10:00-11:00"}}, Holidays: saturdays(first, 600)})
	got := blocked.Add(start, time.Hour)
	if got.Before(start.AddDate(10, 0, 0)) || got.After(start.AddDate(12, 0, 0)) {
		t.Fatalf("Add gave up at %v, want about ten years on", got)
	}
	if b := blocked.Between(start, got); b != 0 {
		t.Fatalf("Between(start, give-up) = %v, want 0", b)
	}
	if next := blocked.NextOpen(start); next.Before(start.AddDate(10, 0, 0)) || blocked.IsOpen(next) {
		t.Fatalf("NextOpen gave up at %v (open %v)", next, blocked.IsOpen(next))
	}

	// Nine years of holidays are not enough to give up.
	late := mustCalendar(t, "late", CalendarConfig{TimeZone: "UTC",
		Hours: map[time.Weekday][]string{time.Saturday: {"10:00-11:00"}}, Holidays: saturdays(first, 9*52)})
	want := first.AddDate(0, 0, 7*9*52).Add(10*time.Hour + 30*time.Minute)
	if got := late.Add(start, 30*time.Minute); !got.Equal(want) {
		t.Fatalf("Add after nine closed years = %v, want %v", got, want)
	}
}

func TestCalendarExtremeTimes(t *testing.T) {
	t.Parallel()
	c := testCalendars(t)["ny-us"]
	for _, s := range []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1850, 6, 1, 12, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 16, 0, 0, 0, time.UTC),
		time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(1<<62, 0),
		time.Unix(-1<<62, 0),
	} {
		got := c.Add(s, 3*time.Hour)
		if got.Before(s) {
			t.Errorf("Add(%v) = %v went back", s, got)
		}
		if b := c.Between(s, got); b != 3*time.Hour {
			t.Errorf("Between(%v, Add(%v, 3h)) = %v", s, s, b)
		}
		_ = c.IsOpen(s)
		_ = c.NextOpen(s)
	}
	// A huge span saturates rather than overflowing.
	all := testCalendars(t)["ny-allday"]
	if got := all.Between(time.Unix(-1<<62, 0), time.Unix(1<<62, 0)); got != time.Duration(1<<63-1) {
		t.Errorf("huge Between = %v", got)
	}
	if got := all.Between(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(400, 1, 1, 0, 0, 0, 0, time.UTC)); got != time.Duration(1<<63-1) {
		t.Errorf("400-year Between = %v, want saturated", got)
	}
}

// refCalendar is a slow, obviously correct calendar used to check Calendar:
// it walks local dates with the time package, finds each wall time's
// instant by scanning, and asks the holiday library's own IsHoliday.
type refCalendar struct {
	loc      *time.Location
	hours    map[time.Weekday][]TimeRange
	explicit map[string]bool
	country  *cal.Calendar
}

func newRefCalendar(tb testing.TB, cfg CalendarConfig) *refCalendar {
	tb.Helper()
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		tb.Fatal(err)
	}
	r := &refCalendar{loc: loc, hours: map[time.Weekday][]TimeRange{}, explicit: map[string]bool{}}
	for day, ranges := range cfg.Hours {
		for _, s := range ranges {
			tr, err := ParseTimeRange(s)
			if err != nil {
				tb.Fatal(err)
			}
			r.hours[day] = append(r.hours[day], tr)
		}
		slices.SortFunc(r.hours[day], func(a, b TimeRange) int { return cmp.Compare(a.Start, b.Start) })
	}
	for _, h := range cfg.Holidays {
		r.explicit[h] = true
	}
	if cfg.Country != "" {
		r.country = &cal.Calendar{}
		r.country.AddHoliday(countryHolidays[strings.ToUpper(cfg.Country)]...)
	}
	return r
}

// wall is the local wall clock of u, written as a UTC time.
func (r *refCalendar) wall(u time.Time) time.Time {
	l := u.In(r.loc)
	y, m, d := l.Date()
	hh, mm, ss := l.Clock()
	return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
}

// instant returns the earliest instant whose wall clock reads at or after
// the wall time w (given as UTC).
func (r *refCalendar) instant(w time.Time) time.Time {
	const step = time.Hour
	offset := func(u time.Time) int { _, off := u.In(r.loc).Zone(); return off }
	// Walk in steps from before any zone could read w. Within a step without
	// an offset change the wall clock runs with real time; a step with one
	// is split at the change, found by bisection, into two such pieces.
	prev := w.Add(-16 * time.Hour) // no zone is 16h from UTC
	for u := prev.Add(step); ; prev, u = u, u.Add(step) {
		if offset(prev) == offset(u) {
			if wu := r.wall(u); !wu.Before(w) {
				return u.Add(-wu.Sub(w))
			}
			continue
		}
		lo, hi := prev, u // offset(lo) != offset(hi); find the first second with offset(hi)
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
			if offset(mid) == offset(prev) {
				lo = mid
			} else {
				hi = mid
			}
		}
		change := hi
		if last := change.Add(-time.Second); !r.wall(last).Before(w) {
			return last.Add(-r.wall(last).Sub(w)) // reached before the change
		}
		if wc := r.wall(change); !wc.Before(w) {
			return change // w is in the gap the clocks jump over
		}
		if wu := r.wall(u); !wu.Before(w) {
			return u.Add(-wu.Sub(w))
		}
	}
}

type refInterval struct{ start, end time.Time }

// intervals lists the open intervals of the local date y-m-d.
func (r *refCalendar) intervals(y int, m time.Month, d int) []refInterval {
	date := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	if r.explicit[date.Format("2006-01-02")] {
		return nil
	}
	if r.country != nil {
		if _, observed, _ := r.country.IsHoliday(date); observed {
			return nil
		}
	}
	var out []refInterval
	midnight := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for _, tr := range r.hours[date.Weekday()] {
		s, e := r.instant(midnight.Add(tr.Start)), r.instant(midnight.Add(tr.End))
		if e.After(s) {
			out = append(out, refInterval{s, e})
		}
	}
	return out
}

// walk calls fn with the open intervals from the local day before t's on,
// until fn returns false or maxDays days have passed.
func (r *refCalendar) walk(t time.Time, maxDays int, fn func(refInterval) bool) {
	y, m, d := t.In(r.loc).Date()
	for i := -1; i < maxDays; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC)
		for _, iv := range r.intervals(day.Date()) {
			if !fn(iv) {
				return
			}
		}
	}
}

func (r *refCalendar) between(a, b time.Time) time.Duration {
	var total time.Duration
	if !b.After(a) {
		return 0
	}
	r.walk(a, 1<<30, func(iv refInterval) bool {
		if !iv.start.Before(b) {
			return false
		}
		lo, hi := iv.start, iv.end
		if lo.Before(a) {
			lo = a
		}
		if hi.After(b) {
			hi = b
		}
		if hi.After(lo) {
			total += hi.Sub(lo)
		}
		return true
	})
	return total
}

func (r *refCalendar) add(s time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return s
	}
	var due time.Time
	r.walk(s, 20*366, func(iv refInterval) bool {
		if !iv.end.After(s) {
			return true
		}
		lo := iv.start
		if lo.Before(s) {
			lo = s
		}
		if l := iv.end.Sub(lo); d > l {
			d -= l
			return true
		}
		due = lo.Add(d)
		return false
	})
	return due
}

// randomInstant picks an instant in 2020..2030 or 2038..2045, often on an
// hour, half hour or minute boundary, sometimes one nanosecond off it.
func randomInstant(rng *rand.Rand) time.Time {
	base, span := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 11*365*24*time.Hour
	if rng.IntN(4) == 0 {
		// Past the zone files' listed transitions.
		base, span = time.Date(2038, 1, 1, 0, 0, 0, 0, time.UTC), 8*365*24*time.Hour
	}
	t := base.Add(time.Duration(rng.Int64N(int64(span))))
	switch rng.IntN(6) {
	case 0:
		t = t.Truncate(time.Hour)
	case 1:
		t = t.Truncate(30 * time.Minute)
	case 2:
		t = t.Truncate(time.Minute).Add(time.Duration(rng.IntN(3)-1) * time.Nanosecond)
	}
	return t
}

func randomDuration(rng *rand.Rand) time.Duration {
	switch rng.IntN(5) {
	case 0:
		return time.Duration(rng.IntN(3)) * time.Nanosecond
	case 1:
		return time.Duration(rng.IntN(48)) * 30 * time.Minute
	case 2:
		return time.Duration(rng.Int64N(int64(300 * time.Hour)))
	default:
		return time.Duration(rng.IntN(60*60)) * time.Minute
	}
}

// TestCalendarMatchesReference compares Add, Between, IsOpen and NextOpen
// with the slow reference on random inputs across zones and calendars, and
// checks the algebraic properties that tie Add and Between together.
func TestCalendarMatchesReference(t *testing.T) {
	t.Parallel()
	iterations := 120
	if testing.Short() {
		iterations = 25
	}
	for name, cfg := range testCalendarConfigs() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, uint64(len(name))))
			c := mustCalendar(t, name, cfg)
			ref := newRefCalendar(t, cfg)
			for range iterations {
				s := randomInstant(rng).In([]*time.Location{time.UTC, c.Location()}[rng.IntN(2)])
				// At most eight weeks of open time, so that the sparse
				// calendars do not make the reference walk for years.
				d := randomDuration(rng) % time.Duration(8*c.weekTotal+1)

				got, want := c.Add(s, d), ref.add(s, d)
				if !got.Equal(want) {
					t.Fatalf("Add(%s, %v) = %s, reference %s", s.Format(time.RFC3339Nano), d, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
				}
				if b := c.Between(s, got); b != d {
					t.Fatalf("Between(%s, Add(s, %v)=%s) = %v", s.Format(time.RFC3339Nano), d, got.Format(time.RFC3339Nano), b)
				}
				if d2 := d + randomDuration(rng); c.Add(s, d2).Before(got) {
					t.Fatalf("Add(%s, %v) before Add(s, %v): not monotonic", s, d2, d)
				}

				u := s.Add(randomDuration(rng) % time.Duration(8*c.weekTotal+1))
				bt, bref := c.Between(s, u), ref.between(s, u)
				if bt != bref {
					t.Fatalf("Between(%s, %s) = %v, reference %v", s.Format(time.RFC3339Nano), u.Format(time.RFC3339Nano), bt, bref)
				}
				// Add(s, Between(s, u)) is the earliest instant with that much business time.
				back := c.Add(s, bt)
				if back.After(u) || c.Between(s, back) != bt {
					t.Fatalf("Add(%s, Between(s, %s)=%v) = %s", s, u, bt, back)
				}
				if back.After(s) && c.Between(s, back.Add(-time.Nanosecond)) >= bt {
					t.Fatalf("Add(%s, %v) = %s is not the earliest", s, bt, back)
				}
				// Additivity.
				v := u.Add(randomDuration(rng))
				if c.Between(s, u)+c.Between(u, v) != c.Between(s, v) {
					t.Fatalf("Between not additive over %s, %s, %s", s, u, v)
				}

				open := c.IsOpen(s)
				if want := ref.between(s, s.Add(time.Nanosecond)) == time.Nanosecond; open != want {
					t.Fatalf("IsOpen(%s) = %v, reference %v", s.Format(time.RFC3339Nano), open, want)
				}
				next := c.NextOpen(s)
				if next.Before(s) || !c.IsOpen(next) || c.Between(s, next) != 0 || (open && !next.Equal(s)) {
					t.Fatalf("NextOpen(%s) = %s (open %v)", s.Format(time.RFC3339Nano), next.Format(time.RFC3339Nano), open)
				}
				if want := ref.add(s, time.Nanosecond).Add(-time.Nanosecond); !next.Equal(want) {
					t.Fatalf("NextOpen(%s) = %s, reference %s", s.Format(time.RFC3339Nano), next.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
				}
			}
		})
	}
}

// TestCalendarDSTDays checks every day of several years in several zones
// against the reference: the business time of each local day. 2039-2040
// lie past the zone files' listed transitions, where the time package
// derives them from a rule (and 2040 is a leap year).
func TestCalendarDSTDays(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("walks every day of four years")
	}
	for _, name := range []string{"ny-night", "berlin-two", "sydney-all", "santiago", "chatham", "ny-us", "ny-repeat"} {
		cfg := testCalendarConfigs()[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, ref := mustCalendar(t, name, cfg), newRefCalendar(t, cfg)
			for _, year := range []int{2026, 2039} {
				for i := range 2 * 366 {
					a := ref.instant(time.Date(year, 1, 1+i, 0, 0, 0, 0, time.UTC))
					b := ref.instant(time.Date(year, 1, 2+i, 0, 0, 0, 0, time.UTC))
					if got, want := c.Between(a, b), ref.between(a, b); got != want {
						t.Fatalf("day %s: Between = %v, reference %v", time.Date(year, 1, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), got, want)
					}
					if got, want := c.Add(a, time.Hour), ref.add(a, time.Hour); !got.Equal(want) {
						t.Fatalf("day %s: Add(midnight, 1h) = %v, reference %v", time.Date(year, 1, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), got, want)
					}
				}
			}
		})
	}
}

func TestCalendarConcurrent(t *testing.T) {
	t.Parallel()
	c := testCalendars(t)["ny-us"]
	start := mustTime(t, "2026-01-01T00:00:00-05:00")
	want := c.Add(start, 1000*time.Hour)
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 50 {
				s := start.AddDate(g*3+i, 0, 0) // many years: exercises the holiday cache
				if b := c.Between(s, c.Add(s, 1000*time.Hour)); b != 1000*time.Hour {
					done <- fmt.Errorf("goroutine %d: Between = %v", g, b)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Add(start, 1000*time.Hour); !got.Equal(want) {
		t.Fatalf("Add changed after concurrent use: %v != %v", got, want)
	}
}
