package watchdog

import (
	"testing"
	"time"
)

const oneNS = time.Nanosecond

// calendarAddCase is a due instant computed by hand (not by Add): from
// start, d of the calendar's open time ends at want, for the reason why.
type calendarAddCase struct {
	cal   string
	start string
	d     time.Duration
	want  string
	why   string
}

// calendarAddCases are TestCalendarAdd's cases, over testCalendars.
var calendarAddCases = []calendarAddCase{
	// Mon–Fri 09:00–17:00 New York; 2026-03-08 is the spring-forward Sunday.
	{"ny-week", "2026-03-06T16:00:00-05:00", 2 * time.Hour, "2026-03-09T10:00:00-04:00", "1h Friday EST, 1h Monday EDT"},
	{"ny-week", "2026-03-09T09:00:00-04:00", 8 * time.Hour, "2026-03-09T17:00:00-04:00", "ends exactly at closing: due at closing"},
	{"ny-week", "2026-03-09T09:00:00-04:00", 0, "2026-03-09T09:00:00-04:00", "zero target"},
	{"ny-week", "2026-03-09T17:00:00-04:00", 0, "2026-03-09T17:00:00-04:00", "zero target at closing stays"},
	{"ny-week", "2026-03-09T17:00:00-04:00", oneNS, "2026-03-10T09:00:00.000000001-04:00", "start at closing counts from next opening"},
	{"ny-week", "2026-03-09T16:59:59.999999999-04:00", oneNS, "2026-03-09T17:00:00-04:00", "last nanosecond of the day"},
	{"ny-week", "2026-03-09T16:59:59.999999999-04:00", 2 * oneNS, "2026-03-10T09:00:00.000000001-04:00", "one ns today, one tomorrow"},
	{"ny-week", "2026-03-09T17:00:00.000000001-04:00", time.Hour, "2026-03-10T10:00:00-04:00", "one ns after closing"},
	{"ny-week", "2026-03-10T09:00:00.000000001-04:00", 8 * time.Hour, "2026-03-11T09:00:00.000000001-04:00", "one ns after opening"},
	{"ny-week", "2026-03-10T08:59:59.999999999-04:00", time.Hour, "2026-03-10T10:00:00-04:00", "one ns before opening"},
	{"ny-week", "2026-03-10T00:00:00-04:00", 30 * time.Minute, "2026-03-10T09:30:00-04:00", "local midnight"},
	{"ny-week", "2026-03-07T10:00:00-05:00", time.Hour, "2026-03-09T10:00:00-04:00", "Saturday start"},
	{"ny-week", "2026-03-08T02:30:00-04:00", time.Hour, "2026-03-09T10:00:00-04:00", "Sunday, inside the DST change"},
	{"ny-week", "2026-03-02T09:00:00-05:00", 160 * time.Hour, "2026-03-27T17:00:00-04:00", "four weeks of 40h across DST"},
	{"ny-week", "2026-10-26T09:00:00-04:00", 40 * time.Hour, "2026-10-30T17:00:00-04:00", "a week ends Friday closing"},
	{"ny-week", "2026-10-26T09:00:00-04:00", 41 * time.Hour, "2026-11-02T10:00:00-05:00", "over the fall-back weekend"},
	{"ny-week", "2026-03-09T13:00:00Z", time.Hour, "2026-03-09T14:00:00Z", "start given in UTC: 09:00 EDT"},
	{"ny-week", "2026-03-09T12:59:00Z", 2 * time.Minute, "2026-03-09T13:02:00Z", "start 08:59 EDT given in UTC"},
	{"ny-week", "2026-03-06T21:59:00Z", 2 * time.Minute, "2026-03-09T13:01:00Z", "16:59 EST Friday to Monday 09:01 EDT"},

	// Split days 09:00–12:00 and 13:00–18:00 (8h a day), Tuesday 2026-06-02.
	{"ny-split", "2026-06-02T12:30:00-04:00", time.Hour, "2026-06-02T14:00:00-04:00", "start inside lunch"},
	{"ny-split", "2026-06-02T12:00:00-04:00", time.Hour, "2026-06-02T14:00:00-04:00", "start exactly at 12:00"},
	{"ny-split", "2026-06-02T12:00:00-04:00", 0, "2026-06-02T12:00:00-04:00", "zero at 12:00"},
	{"ny-split", "2026-06-02T13:00:00-04:00", 5 * time.Hour, "2026-06-02T18:00:00-04:00", "start at 13:00, ends at closing"},
	{"ny-split", "2026-06-02T13:00:00-04:00", 5*time.Hour + oneNS, "2026-06-03T09:00:00.000000001-04:00", "one ns past closing"},
	{"ny-split", "2026-06-02T09:00:00-04:00", 3 * time.Hour, "2026-06-02T12:00:00-04:00", "ends exactly at 12:00: due 12:00, not 13:00"},
	{"ny-split", "2026-06-02T11:00:00-04:00", time.Hour, "2026-06-02T12:00:00-04:00", "ends exactly at 12:00"},
	{"ny-split", "2026-06-02T11:00:00-04:00", time.Hour + oneNS, "2026-06-02T13:00:00.000000001-04:00", "one ns after lunch"},
	{"ny-split", "2026-06-02T11:59:59.999999999-04:00", 2 * oneNS, "2026-06-02T13:00:00.000000001-04:00", "straddles lunch by ns"},
	{"ny-split", "2026-06-05T17:30:00-04:00", time.Hour, "2026-06-08T09:30:00-04:00", "Friday 30 min, Monday 30 min"},
	{"ny-split", "2026-06-01T00:00:00-04:00", 16 * time.Hour, "2026-06-02T18:00:00-04:00", "two whole split days"},

	// Holidays: US country list plus explicit 2026-03-10 (Tue) and 2026-03-14 (Sat).
	{"ny-us", "2026-03-09T16:00:00-04:00", 2 * time.Hour, "2026-03-11T10:00:00-04:00", "explicit holiday Tuesday skipped"},
	{"ny-us", "2026-03-13T16:00:00-04:00", 2 * time.Hour, "2026-03-16T10:00:00-04:00", "explicit Saturday holiday changes nothing"},
	{"ny-us", "2026-07-02T16:00:00-04:00", 2 * time.Hour, "2026-07-06T10:00:00-04:00", "July 4 is a Saturday: observed Friday July 3 closed"},
	{"ny-us", "2026-07-03T10:00:00-04:00", time.Hour, "2026-07-06T10:00:00-04:00", "start on a holiday"},
	{"ny-us", "2026-12-24T16:00:00-05:00", 2 * time.Hour, "2026-12-28T10:00:00-05:00", "Christmas Friday closed"},
	{"ny-us", "2026-11-25T16:00:00-05:00", 2 * time.Hour, "2026-11-27T10:00:00-05:00", "Thanksgiving closed, the Friday after open"},
	{"ny-us", "2026-01-16T16:00:00-05:00", 2 * time.Hour, "2026-01-20T10:00:00-05:00", "MLK day Monday 2026-01-19"},
	{"ny-us", "2021-12-30T16:00:00-05:00", 2 * time.Hour, "2022-01-03T10:00:00-05:00", "New Year 2022 (Sat) observed Fri 2021-12-31"},
	{"ny-us", "2026-06-18T16:30:00-04:00", time.Hour, "2026-06-22T09:30:00-04:00", "Juneteenth Friday"},

	// Whole-day calendars and DST: 23h and 25h days.
	{"ny-sunday", "2026-03-07T12:00:00-05:00", 23 * time.Hour, "2026-03-09T00:00:00-04:00", "spring-forward Sunday has 23h"},
	{"ny-sunday", "2026-03-07T12:00:00-05:00", 23*time.Hour + oneNS, "2026-03-15T00:00:00.000000001-04:00", "next Sunday"},
	{"ny-sunday", "2026-03-07T12:00:00-05:00", 3 * time.Hour, "2026-03-08T04:00:00-04:00", "01:59:59 EST is followed by 03:00 EDT"},
	{"ny-sunday", "2026-10-31T12:00:00-04:00", 25 * time.Hour, "2026-11-02T00:00:00-05:00", "fall-back Sunday has 25h"},
	{"ny-sunday", "2026-10-31T12:00:00-04:00", 90 * time.Minute, "2026-11-01T01:30:00-04:00", "first 01:30"},
	{"ny-sunday", "2026-10-31T12:00:00-04:00", 150 * time.Minute, "2026-11-01T01:30:00-05:00", "second 01:30"},
	{"ny-allday", "2026-11-01T01:30:00-05:00", time.Hour, "2026-11-01T02:30:00-05:00", "all-day: plain elapsed time"},

	// A range spanning the transition hour has its real length.
	{"ny-night", "2026-03-08T00:00:00-05:00", 90 * time.Minute, "2026-03-08T03:30:00-04:00", "01:00 EST + 1h30 = 03:30 EDT"},
	{"ny-night", "2026-03-08T00:00:00-05:00", 2*time.Hour + oneNS, "2026-03-09T01:00:00.000000001-04:00", "spring-forward night is 2h"},
	{"ny-night", "2026-11-01T00:00:00-04:00", 3 * time.Hour, "2026-11-01T03:00:00-05:00", "01:00 EDT + 3h = 03:00 EST"},
	{"ny-night", "2026-11-01T00:00:00-04:00", 4 * time.Hour, "2026-11-01T04:00:00-05:00", "fall-back night is 4h"},
	{"ny-night", "2026-11-01T01:30:00-05:00", time.Hour, "2026-11-01T02:30:00-05:00", "start in the repeated hour (second pass)"},
	{"ny-gap", "2026-03-08T00:00:00-05:00", 10 * time.Minute, "2026-03-09T09:10:00-04:00", "02:00-02:30 does not exist that Sunday"},
	{"ny-gap", "2026-03-14T00:00:00-05:00", 10 * time.Minute, "2026-03-15T02:10:00-04:00", "it does the next Sunday"},
	{"ny-lategap", "2026-03-08T00:00:00-05:00", 10 * time.Minute, "2026-03-08T03:10:00-04:00", "02:30 (gap) counts from 03:00 EDT"},
	{"ny-lategap", "2026-03-08T00:00:00-05:00", 30*time.Minute + oneNS, "2026-03-09T02:30:00.000000001-04:00", "that day has only 30 min"},
	{"ny-repeat", "2026-11-01T00:00:00-04:00", 30 * time.Minute, "2026-11-01T01:30:00-04:00", "first pass of 01:00-01:30"},
	{"ny-repeat", "2026-11-01T00:00:00-04:00", 31 * time.Minute, "2026-11-02T01:01:00-05:00", "the second pass is not open"},

	// Berlin: 2026-03-29 spring forward 02:00→03:00, 2026-10-25 fall back 03:00→02:00.
	{"berlin-day", "2026-03-28T16:00:00+01:00", 2 * time.Hour, "2026-03-29T10:00:00+02:00", "9-17 is 8h on the 23h day"},
	{"berlin-day", "2026-10-24T16:00:00+02:00", 9 * time.Hour, "2026-10-25T17:00:00+01:00", "9-17 is 8h on the 25h day"},
	{"berlin-all", "2026-03-29T00:00:00+01:00", 23 * time.Hour, "2026-03-30T00:00:00+02:00", "23h day"},
	{"berlin-all", "2026-10-25T00:00:00+02:00", 25 * time.Hour, "2026-10-26T00:00:00+01:00", "25h day"},
	{"berlin-nite", "2026-03-29T00:00:00+01:00", 2 * time.Hour, "2026-03-29T04:00:00+02:00", "01:00 CET to 04:00 CEST is 2h"},
	{"berlin-nite", "2026-10-25T00:00:00+02:00", 4 * time.Hour, "2026-10-25T04:00:00+01:00", "01:00 CEST to 04:00 CET is 4h"},
	{"berlin-nite", "2026-10-25T00:00:00+02:00", 90 * time.Minute, "2026-10-25T02:30:00+02:00", "first 02:30"},
	{"berlin-nite", "2026-10-25T00:00:00+02:00", 150 * time.Minute, "2026-10-25T02:30:00+01:00", "second 02:30"},
	{"berlin-two", "2026-03-28T12:00:00+01:00", oneNS, "2026-03-30T02:00:00.000000001+02:00", "02:00-03:00 vanishes on the 23h day"},
	{"berlin-two", "2026-10-25T00:00:00+02:00", 2 * time.Hour, "2026-10-25T03:00:00+01:00", "02:00 CEST to 03:00 CET is 2h"},

	// Sydney: 2026-04-05 fall back 03:00→02:00, 2026-10-04 spring forward 02:00→03:00.
	{"sydney-week", "2026-04-03T16:00:00+11:00", 2 * time.Hour, "2026-04-06T10:00:00+10:00", "Friday AEDT to Monday AEST"},
	{"sydney-week", "2026-10-02T16:00:00+10:00", 2 * time.Hour, "2026-10-05T10:00:00+11:00", "Friday AEST to Monday AEDT"},
	{"sydney-nsw", "2026-04-02T16:00:00+11:00", 2 * time.Hour, "2026-04-07T10:00:00+10:00", "Good Friday and Easter Monday closed in NSW"},
	{"sydney-nsw", "2026-01-23T16:00:00+11:00", 2 * time.Hour, "2026-01-27T10:00:00+11:00", "Australia Day Monday 2026-01-26"},
	{"sydney-all", "2026-04-05T00:00:00+11:00", 25 * time.Hour, "2026-04-06T00:00:00+10:00", "25h day"},
	{"sydney-all", "2026-10-04T00:00:00+10:00", 23 * time.Hour, "2026-10-05T00:00:00+11:00", "23h day"},
	{"sydney-nite", "2026-04-05T00:00:00+11:00", 4 * time.Hour, "2026-04-05T04:00:00+10:00", "01:00 AEDT to 04:00 AEST is 4h"},
	{"sydney-nite", "2026-10-04T00:00:00+10:00", 2 * time.Hour, "2026-10-04T04:00:00+11:00", "01:00 AEST to 04:00 AEDT is 2h"},
	{"sydney-nite", "2026-10-04T00:00:00+10:00", 2*time.Hour + oneNS, "2026-10-05T01:00:00.000000001+11:00", "and no more"},

	// Santiago moves its clocks at midnight: 2026-04-05 00:00 → 04-04 23:00,
	// 2026-09-06 00:00 → 01:00 (the Sunday starts at 01:00).
	{"santiago", "2026-04-04T00:00:00-03:00", 25 * time.Hour, "2026-04-05T00:00:00-04:00", "Saturday has 25h"},
	{"santiago", "2026-09-06T01:00:00-03:00", 23 * time.Hour, "2026-09-07T00:00:00-03:00", "Sunday has 23h"},

	// India (no DST, +05:30) with a split day; GB holidays do not matter
	// on 2026-06-02.
	{"kolkata", "2026-06-02T12:00:00+05:30", 2 * time.Hour, "2026-06-02T15:00:00+05:30", "1h to lunch, 1h after"},
	{"kolkata", "2026-06-02T18:00:00+05:30", time.Hour, "2026-06-03T10:00:00+05:30", "30 min then 30 min from 09:30"},
	{"kolkata", "2026-12-24T18:00:00+05:30", time.Hour, "2026-12-29T10:00:00+05:30", "GB Christmas (Fri) and Boxing Day (Sat, observed Mon 28th) closed"},

	// Chatham (+12:45/+13:45): weekend nights only.
	{"chatham", "2026-06-06T02:00:00+12:45", 2 * time.Hour, "2026-06-06T23:00:00+12:45", "1h before 03:00, 1h after 22:00 Saturday"},
	{"chatham", "2026-06-06T23:00:00+12:45", 4 * time.Hour, "2026-06-07T03:00:00+12:45", "Sat 22-24 and Sun 00-03 are contiguous"},

	// UTC, German holidays: Good Friday 2026-04-03, Easter Monday 2026-04-06.
	{"utc-week", "2026-04-02T15:00:00Z", 2 * time.Hour, "2026-04-07T09:00:00Z", "Easter closed"},
	{"utc-week", "2026-04-30T15:00:00Z", 2 * time.Hour, "2026-05-04T09:00:00Z", "Labour Day Friday 2026-05-01"},
}

// TestCalendarAdd checks the due instants of calendarAddCases, and that
// Between measures each range back to its duration.
func TestCalendarAdd(t *testing.T) {
	t.Parallel()
	cals := testCalendars(t)
	for _, tc := range calendarAddCases {
		c := cals[tc.cal]
		start, want := mustTime(t, tc.start), mustTime(t, tc.want)
		got := c.Add(start, tc.d)
		if !got.Equal(want) {
			t.Errorf("%s: Add(%s, %v) = %s, want %s (%s)", tc.cal, tc.start, tc.d, got.Format(time.RFC3339Nano), tc.want, tc.why)
			continue
		}
		if got.Location() != start.Location() {
			t.Errorf("%s: Add(%s) is in %v, want the start's location", tc.cal, tc.start, got.Location())
		}
		if b := c.Between(start, want); b != tc.d {
			t.Errorf("%s: Between(%s, %s) = %v, want %v (%s)", tc.cal, tc.start, tc.want, b, tc.d, tc.why)
		}
	}
}
