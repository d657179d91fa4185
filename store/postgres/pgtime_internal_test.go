package postgres

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog/store/internal/sqlstore"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// TestParseTimestamptz: the fast path reads what lib/pq's parser reads, and
// leaves to it what it does not know.
func TestParseTimestamptz(t *testing.T) {
	for _, s := range []string{
		"2026-12-07 11:30:04+00",
		"2026-12-07 11:30:04.5+00",
		"2026-12-07 11:30:04.123456+00",
		"2026-12-07 11:30:04.000001+00",
		"2026-12-07 11:30:04.12+05:30",
		"2026-12-07 01:30:04-03:30",
		"1900-01-01 00:00:00+00:19:32",
		"1850-06-01 12:00:00-04:56:02",
		"2024-02-29 23:59:59.999999-12",
		"0001-01-01 00:00:00+00",
		"9999-12-31 23:59:59.999999+14",
		// lib/pq's: a year of five digits, BC.
		"10000-01-01 00:00:00+00",
		"0044-03-15 12:00:00+00 BC",
	} {
		want, err := pq.ParseTimestamp(nil, s)
		if err != nil {
			t.Fatalf("lib/pq cannot parse %q: %v", s, err)
		}
		got, err := parseTimestamptz(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTimestamptz(%q) = %v, %v; want %v in UTC", s, got, err, want.UTC())
		}
	}
	for _, s := range []string{"", "infinity", "2026-12-07", "2026-12-07 11:30:04", "2026-12-07 11:30:04.+00",
		"2026-13-07 11:30:04+00", "2026-12-07 11:30:04+0", "2026-12-07T11:30:04+00", "2026-12-07 11:30:04+00:6x"} {
		if _, ok := parseISOTimestamptz(s); ok {
			t.Errorf("parseISOTimestamptz(%q) took it", s)
		}
	}
}

// TestTimestampTextRoundTrip: times written to PostgreSQL and read back as
// text through pgTime equal what lib/pq decodes from the timestamptz, in
// session time zones with offsets of hours, half hours and (for dates
// before standard time) seconds.
func TestTimestampTextRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("postgres", oneRoundTrip(pgtest.DSN(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	r := rand.New(rand.NewPCG(1, 2))
	var times timeArray
	for range 500 {
		// 1850 to 2100, to the microsecond, some on whole seconds.
		us := r.Int64N(int64(250*365*24*time.Hour/time.Microsecond)) - int64(120*365*24*time.Hour/time.Microsecond)
		if r.IntN(4) == 0 {
			us -= us % 1_000_000
		}
		v := time.UnixMicro(us).UTC()
		times = append(times, &v)
	}
	for _, zone := range []string{"UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam", "Pacific/Chatham"} {
		if _, err := db.ExecContext(ctx, "SET TIME ZONE '"+zone+"'"); err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, `SELECT v::text, v FROM unnest($1::timestamptz[]) AS v`, times)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var (
				got  pgTime
				want time.Time
			)
			if err := rows.Scan(&got, &want); err != nil {
				t.Fatal(err)
			}
			if !got.Valid || !got.T.Equal(want) || !got.T.Equal(*times[n]) || got.T.Location() != time.UTC {
				t.Errorf("%s: read %v (%v), lib/pq %v, written %v", zone, got.T, got.Valid, want, times[n])
			}
			n++
		}
		if err := rows.Err(); err != nil || n != len(times) {
			t.Fatalf("%s: %d rows, %v", zone, n, err)
		}
	}
}

// TestOutcomeColsAsText: outcomeCols selects sqlstore.OutcomeCols, in its
// order, the timestamps as text.
func TestOutcomeColsAsText(t *testing.T) {
	plain := regexp.MustCompile(`(\w+)::text AS \w+`).ReplaceAllString(outcomeCols, "$1")
	if plain != sqlstore.OutcomeCols {
		t.Errorf("outcomeCols without its casts:\n%s\nwant\n%s", plain, sqlstore.OutcomeCols)
	}
}
