package postgres

import (
	"encoding/json"
	"testing"

	"github.com/ticket-watchdog/watchdog"
)

func TestOneRoundTrip(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/db?binary_parameters=yes&sslmode=disable"},
		{"postgresql://h/db", "postgresql://h/db?binary_parameters=yes"},
		{"host=h dbname=db sslmode=disable", "host=h dbname=db sslmode=disable binary_parameters=yes"},
		{"", "binary_parameters=yes"},
		// The caller's choice stands.
		{"postgres://h/db?binary_parameters=no", "postgres://h/db?binary_parameters=no"},
		{"host=h binary_parameters=no", "host=h binary_parameters=no"},
	} {
		if got := oneRoundTrip(c.in); got != c.want {
			t.Errorf("oneRoundTrip(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNoticePayloadsFitAndCarryEveryID(t *testing.T) {
	alerts := make([]watchdog.Alert, 5000)
	for i := range alerts {
		alerts[i].ID = int64(1_000_000_000_000 + i)
	}
	payloads := noticePayloads("0123456789abcdef", alerts)
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for 5000 ids of 13 digits; want them split", len(payloads))
	}
	var ids []int64
	for _, p := range payloads {
		if len(p) > maxPayload {
			t.Errorf("payload of %d bytes, over %d", len(p), maxPayload)
		}
		var n notice
		if err := json.Unmarshal([]byte(p), &n); err != nil {
			t.Fatalf("payload %q: %v", p[:40], err)
		}
		if n.Origin != "0123456789abcdef" {
			t.Errorf("origin %q", n.Origin)
		}
		ids = append(ids, n.IDs...)
	}
	if len(ids) != len(alerts) {
		t.Fatalf("%d ids in the payloads, want %d", len(ids), len(alerts))
	}
	for i, id := range ids {
		if id != alerts[i].ID {
			t.Fatalf("id %d is %d, want %d", i, id, alerts[i].ID)
		}
	}
	if got := noticePayloads("x", nil); len(got) != 0 {
		t.Errorf("payloads for no alerts: %q", got)
	}
}
