package notify

import (
	"net/http"
	"testing"
	"time"
)

func TestHTTPStatusRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		want bool
	}{
		{200, false}, {204, false}, {301, false},
		{400, false}, {401, false}, {403, false}, {404, false}, {405, false},
		{408, true}, {409, false}, {410, false}, {413, false}, {422, false},
		{425, true}, {429, true}, {499, false},
		{500, true}, {501, true}, {502, true}, {503, true}, {504, true}, {599, true},
		{600, false}, {0, false}, {-1, false},
	}
	for _, tt := range tests {
		if got := HTTPStatusRetryable(tt.code); got != tt.want {
			t.Errorf("HTTPStatusRetryable(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header []string // values; nil means no header
		want   time.Duration
		wantOK bool
	}{
		{"missing", nil, 0, false},
		{"empty", []string{""}, 0, false},
		{"seconds", []string{"120"}, 2 * time.Minute, true},
		{"zero", []string{"0"}, 0, true},
		{"spaces", []string{" 7 "}, 7 * time.Second, true},
		{"negative", []string{"-5"}, 0, false},
		{"plus sign", []string{"+5"}, 0, false},
		{"fraction", []string{"1.5"}, 0, false},
		{"trailing junk", []string{"5s"}, 0, false},
		{"overflow", []string{"99999999999999999999"}, 0, false},
		{"too long for a duration", []string{"9223372037"}, 0, false},
		{"largest", []string{"9223372036"}, 9223372036 * time.Second, true},
		{"http date", []string{"Sun, 01 Mar 2026 12:01:30 GMT"}, 90 * time.Second, true},
		{"rfc 850 date", []string{"Sunday, 01-Mar-26 12:00:10 GMT"}, 10 * time.Second, true},
		{"asctime date", []string{"Sun Mar  1 12:00:05 2026"}, 5 * time.Second, true},
		{"date in the past", []string{"Sun, 01 Mar 2026 11:00:00 GMT"}, 0, true},
		{"garbage", []string{"soon"}, 0, false},
		{"first of several", []string{"3", "100"}, 3 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Retry-After", v)
			}
			got, ok := RetryAfter(h, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%q) = (%v, %v), want (%v, %v)", tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
