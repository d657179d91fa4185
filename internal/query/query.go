// Package query parses URL query strings strictly: where url.ParseQuery
// (and so Request.URL.Query) drops a malformed pair and goes on, Parse
// names the parameter at fault, so that a handler answers 400 instead of
// silently ignoring a filter the client meant to set.
package query

import (
	"net/url"
	"strconv"
	"strings"
)

// Error is a malformed query parameter.
type Error struct {
	// Param is the parameter's name, as far as it could be read.
	Param string
	// Message says what is wrong, without quoting the value.
	Message string
}

func (e *Error) Error() string { return "query parameter " + strconv.Quote(e.Param) + ": " + e.Message }

// Parse reads a raw query string (without the "?") as url.ParseQuery does,
// but fails on the first malformed pair: a bad %-escape or a ";"
// separator, which Go no longer accepts.
func Parse(raw string) (url.Values, error) {
	v := url.Values{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, &Error{Param: shorten(k), Message: "the name has a malformed %-escape (send % as %25)"}
		}
		if strings.Contains(pair, ";") {
			return nil, &Error{Param: shorten(key), Message: `contains ";": separate parameters with "&" (send ";" as %3B)`}
		}
		value, err := url.QueryUnescape(val)
		if err != nil {
			return nil, &Error{Param: shorten(key), Message: "the value has a malformed %-escape (send % as %25)"}
		}
		v[key] = append(v[key], value)
	}
	return v, nil
}

// shorten keeps a parameter name short enough to echo in an error.
func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
