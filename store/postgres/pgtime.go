package postgres

import (
	"fmt"
	"time"

	"github.com/lib/pq"
)

// A ticket row has up to eight timestamps, and reading a claim of 1,000
// due tickets decoded them all: lib/pq parses each timestamptz it receives
// (with strconv, and a mutex-guarded cache of fixed zones for its offset)
// before database/sql sees it, about a tenth of watchdogd's CPU in a burst
// of due tickets. The ticket reads select their timestamps as text instead
// (ticketCols), which PostgreSQL formats exactly as it formats a
// timestamptz for the wire, and pgTime reads the common form of that text
// directly into a UTC time.

// pgTime is a nullable timestamptz selected as text.
type pgTime struct {
	T     time.Time // UTC
	Valid bool
}

// Scan implements sql.Scanner.
func (p *pgTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*p = pgTime{}
		return nil
	case string:
		t, err := parseTimestamptz(v)
		*p = pgTime{T: t, Valid: err == nil}
		return err
	case []byte:
		t, err := parseTimestamptz(string(v))
		*p = pgTime{T: t, Valid: err == nil}
		return err
	case time.Time:
		*p = pgTime{T: v.UTC(), Valid: true}
		return nil
	}
	return fmt.Errorf("postgres: cannot read %T as a timestamp", v)
}

// ptr returns the time, or nil when NULL.
func (p pgTime) ptr() *time.Time {
	if !p.Valid {
		return nil
	}
	t := p.T
	return &t
}

// parseTimestamptz parses a timestamptz as PostgreSQL writes it with
// DateStyle ISO (lib/pq's connections always use it): "2026-12-07
// 11:30:04.123456+00", the fraction of 1 to 6 digits and absent when zero,
// the session time zone's offset as ±HH, ±HH:MM or ±HH:MM:SS. Anything
// else (a year past 9999, BC, infinity) goes to lib/pq's parser.
func parseTimestamptz(s string) (time.Time, error) {
	if t, ok := parseISOTimestamptz(s); ok {
		return t, nil
	}
	t, err := pq.ParseTimestamp(nil, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: reading timestamp %q: %w", s, err)
	}
	return t.UTC(), nil
}

// parseISOTimestamptz is parseTimestamptz's common form; ok is false for
// any other.
func parseISOTimestamptz(s string) (t time.Time, ok bool) {
	if len(s) < len("2006-01-02 15:04:05+00") || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && n <= 6 && rest[n] >= '0' && rest[n] <= '9' {
			nsec = nsec*10 + int(rest[n]-'0')
			n++
		}
		if n == 1 {
			return time.Time{}, false
		}
		for range 10 - n {
			nsec *= 10
		}
		rest = rest[n:]
	}
	// The offset: ±HH, then :MM and :SS when not zero.
	if len(rest) != 3 && len(rest) != 6 && len(rest) != 9 || rest[0] != '+' && rest[0] != '-' {
		return time.Time{}, false
	}
	off, okh := digits(rest[1:3])
	if !okh {
		return time.Time{}, false
	}
	off *= 3600
	for i := 3; i < len(rest); i += 3 {
		v, okv := digits(rest[i+1 : i+3])
		if rest[i] != ':' || !okv || v > 59 {
			return time.Time{}, false
		}
		if i == 3 {
			off += v * 60
		} else {
			off += v
		}
	}
	if rest[0] == '-' {
		off = -off
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // not a date (February 30): lib/pq decides
	}
	return t.Add(-time.Duration(off) * time.Second), true
}

// digits parses s, decimal digits only.
func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
