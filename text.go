package watchdog

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// textProblem says why s cannot be a ticket id, status, tier or priority,
// or returns "" when it can. Every store must keep these exactly and
// alike: PostgreSQL's text refuses NUL bytes and invalid UTF-8 while
// SQLite stores them, and replacing invalid bytes with U+FFFD would make
// distinct ids collide. The message never quotes s.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8 text"
	case strings.IndexByte(s, 0) >= 0:
		return "must not contain NUL characters"
	}
	return ""
}

// plainJSONString returns the value of the JSON string literal raw when it
// holds no escape, the common case: the bytes between its quotes, as they
// are (textProblem then refuses bytes that are not UTF-8, as it refuses
// what encoding/json would have turned into U+FFFD). raw must be valid
// JSON; plain is false for any other value or a string with escapes.
func plainJSONString(raw []byte) (s string, plain bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

// lossyJSONString reports whether the JSON string literal raw holds what
// encoding/json silently decodes to U+FFFD: bytes that are not UTF-8, or a
// \u escape of a lone UTF-16 surrogate. raw must be valid JSON.
func lossyJSONString(raw []byte) bool {
	if !utf8.Valid(raw) {
		return true
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex4(raw[i+1:])
		if !ok {
			return true
		}
		i += 4
		if !utf16.IsSurrogate(r) {
			continue
		}
		// A high surrogate must be followed by an escaped low one.
		if r >= 0xDC00 || i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
			return true
		}
		lo, ok := hex4(raw[i+3:])
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return true
		}
		i += 6
	}
	return false
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
