// Package jsonappend appends JSON values exactly as encoding/json's Marshal
// writes them, without reflection: for the server's hot answers and
// messages (the ingest answer, the alert stream), where encoding by
// reflection was a large share of the CPU. A value whose encoding has
// cases these do not copy goes through json.Marshal itself.
package jsonappend

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// String appends s as a JSON string. A string of printable ASCII that
// json.Marshal writes unescaped is copied as it is; any other goes through
// json.Marshal itself, so that its escapes (HTML characters, control
// characters, invalid UTF-8, U+2028 and U+2029) stay exactly its.
func String(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Time appends t as time.Time's MarshalJSON does (RFC 3339 with the
// fraction's trailing zeros dropped), and reports ok false for the instants
// it refuses: a year outside [0, 9999] or a zone offset of a day or more.
// It passes ok through otherwise, so that a run of appends checks once.
func Time(b []byte, t time.Time, ok bool) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), ok
}

// TimePtr appends *t as Time does, or null for nil.
func TimePtr(b []byte, t *time.Time, ok bool) ([]byte, bool) {
	if t == nil {
		return append(b, "null"...), ok
	}
	return Time(b, *t, ok)
}

// Float appends f as json.Marshal writes a float64: the shortest decimal
// that reads back as f, in plain notation from 1e-6 up to 1e21 and through
// json.Marshal (exponent notation) outside it. It reports ok false for NaN
// and the infinities, which json.Marshal refuses.
func Float(b []byte, f float64, ok bool) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		q, _ := json.Marshal(f) // finite, so it encodes
		return append(b, q...), ok
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64), ok
}
