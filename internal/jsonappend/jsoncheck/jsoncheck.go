// Package jsoncheck generates values for the tests that hold the
// jsonappend encoders (and the answers and messages built with them) to
// encoding/json's bytes.
package jsoncheck

import (
	"math/rand/v2"
	"time"
)

// StrangeStrings are strings json.Marshal escapes or alters: HTML
// characters, quotes, control characters, invalid UTF-8, the line and
// paragraph separators, and plain text around them.
var StrangeStrings = []string{
	"", "plain", "T-1", " spaced out ", "<b>&amp;</b>", `quote " and \ backslash`, "tab\tnew\nline\rreturn",
	"\b\f\x00\x01\x1f\x7f", "日本語チケット", "emoji 🚨", "\xff\xfe", "bad \xc3( utf8", "\u2028\u2029", "a\u2028b",
	"€", "\ufffd", "}{][,:",
}

// String returns one of StrangeStrings two times in three, else up to 11
// random bytes.
func String(r *rand.Rand) string {
	if r.IntN(3) > 0 {
		return StrangeStrings[r.IntN(len(StrangeStrings))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

// Time returns an instant within about 300 years of 1970, to the
// nanosecond, the second or the microsecond, in UTC or at a zone offset of
// up to a day either way (json.Marshal refuses a whole day).
func Time(r *rand.Rand) time.Time {
	t := time.Unix(r.Int64N(2e10)-1e10, r.Int64N(1e9)).UTC()
	switch r.IntN(4) {
	case 0:
		t = t.Truncate(time.Second)
	case 1:
		t = t.In(time.FixedZone("", (r.IntN(48)-24)*1800))
	case 2:
		t = t.Truncate(time.Microsecond)
	}
	return t
}
