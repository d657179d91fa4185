package query

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		want  url.Values
		param string // the parameter named by the error; "" for none
	}{
		{"", url.Values{}, ""},
		{"tier=gold&priority=high&tier=silver", url.Values{"tier": {"gold", "silver"}, "priority": {"high"}}, ""},
		{"a+b=c%20d&&flag", url.Values{"a b": {"c d"}, "flag": {""}}, ""},
		{"tier=%zz", nil, "tier"},
		{"tier=gold&priority=%4", nil, "priority"},
		{"ti%zzer=gold", nil, "ti%zzer"},
		{"tier=gold;priority=high", nil, "tier"},
	} {
		got, err := Parse(tc.raw)
		var qe *Error
		switch {
		case tc.param == "" && err != nil:
			t.Errorf("Parse(%q): %v", tc.raw, err)
		case tc.param == "" && !reflect.DeepEqual(got, tc.want):
			t.Errorf("Parse(%q) = %v, want %v", tc.raw, got, tc.want)
		case tc.param != "" && (!errors.As(err, &qe) || qe.Param != tc.param):
			t.Errorf("Parse(%q) error %v, want one naming %q", tc.raw, err, tc.param)
		}
	}
}
