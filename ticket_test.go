package watchdog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

const seedEvent = `{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}`

func TestDecodeEventsSeedShapes(t *testing.T) {
	for _, body := range []string{seedEvent, "[" + seedEvent + "]", " \n[" + seedEvent + "," + strings.Replace(seedEvent, `"id":"1"`, `"id":"2"`, 1) + "]"} {
		evs, err := watchdog.DecodeEventsBytes([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		ev := evs[0]
		want := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
		if ev.ID != "1" || ev.Priority != "high" || ev.CustomerTier != "gold" || ev.Status != "open" || !ev.CreatedAt.Equal(want) || !ev.UpdatedAt.Equal(want) || ev.FirstResponseAt != nil {
			t.Fatalf("decoded %+v", ev)
		}
	}
}

func TestDecodeEventsOptionalAndExtraFields(t *testing.T) {
	body := `{"id":"7","priority":"low","customer_tier":"silver","status":"open","created_at":"2025-06-18T12:00:00.1234567+02:00","updated_at":"2025-06-18T12:30:00+02:00","first_response_at":"2025-06-18T12:10:00+02:00","subject":"ignored","tags":["x"]}`
	evs, err := watchdog.DecodeEventsBytes([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev := evs[0]
	if ev.CreatedAt.Location() != time.UTC || ev.CreatedAt.Nanosecond() != 123456000 || ev.CreatedAt.Hour() != 10 {
		t.Fatalf("created_at %v: want UTC, truncated to the microsecond", ev.CreatedAt)
	}
	if ev.FirstResponseAt == nil || !ev.FirstResponseAt.Equal(time.Date(2025, 6, 18, 10, 10, 0, 0, time.UTC)) {
		t.Fatalf("first_response_at %v", ev.FirstResponseAt)
	}
}

func TestDecodeEventsErrorsNameItemAndField(t *testing.T) {
	long := strings.Repeat("x", 256)
	cases := []struct {
		name, body string
		item       int
		field      string
		msg        string
	}{
		{"missing id", `[{"priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open","customer_tier":"gold"}]`, 0, "id", "required"},
		{"empty id", strings.Replace("["+seedEvent+"]", `"id":"1"`, `"id":""`, 1), 0, "id", "empty"},
		{"blank id", strings.Replace("["+seedEvent+"]", `"id":"1"`, `"id":"   "`, 1), 0, "id", "empty"},
		{"long id", strings.Replace("["+seedEvent+"]", `"id":"1"`, `"id":"`+long+`"`, 1), 0, "id", "256 bytes"},
		{"numeric id", strings.Replace("["+seedEvent+"]", `"id":"1"`, `"id":1`, 1), 0, "id", "must be a string, got a number"},
		{"bad time", strings.Replace("["+seedEvent+"]", `"created_at":"2025-06-18T12:00:00Z"`, `"created_at":"yesterday"`, 1), 0, "created_at", "RFC 3339"},
		{"zone-less time", strings.Replace("["+seedEvent+"]", `"created_at":"2025-06-18T12:00:00Z"`, `"created_at":"2025-06-18T12:00:00"`, 1), 0, "created_at", "RFC 3339"},
		{"updated before created", strings.Replace("["+seedEvent+"]", `"updated_at":"2025-06-18T12:00:00Z"`, `"updated_at":"2025-06-18T11:00:00Z"`, 1), 0, "updated_at", "before created_at"},
		{"status object", strings.Replace("["+seedEvent+"]", `"status":"open"`, `"status":{"a":1}`, 1), 0, "status", "got an object"},
		{"second item", "[" + seedEvent + "," + strings.Replace(seedEvent, `"priority":"high"`, `"priority":null`, 1) + "]", 1, "priority", "required"},
		{"item not object", `[` + seedEvent + `, 42]`, 1, "", "expected a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := watchdog.DecodeEventsBytes([]byte(c.body))
			var ve *watchdog.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, watchdog.ErrInvalid) {
				t.Fatalf("err %v, want a *ValidationError", err)
			}
			for _, fe := range ve.Errors {
				if fe.Item == c.item && fe.Field == c.field && strings.Contains(fe.Message, c.msg) {
					return
				}
			}
			t.Fatalf("no error for item %d field %q containing %q in %v", c.item, c.field, c.msg, ve.Errors)
		})
	}
}

func TestDecodeEventsDocumentErrors(t *testing.T) {
	for _, body := range []string{"", "   ", "[]", "null", "42", `"x"`, "{", `[{"id":"1"`, "{}{}", "[1,2"} {
		_, err := watchdog.DecodeEventsBytes([]byte(body))
		if !errors.Is(err, watchdog.ErrInvalid) {
			t.Errorf("%q: err %v, want ErrInvalid", body, err)
		}
	}
}

func TestValidateBatchNormalises(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	evs := []watchdog.Event{{ID: "a", Priority: "high", CustomerTier: "gold", Status: "open",
		CreatedAt: time.Date(2026, 1, 1, 10, 0, 0, 999, loc), UpdatedAt: time.Date(2026, 1, 1, 10, 0, 0, 1999, loc)}}
	if err := watchdog.ValidateBatch(evs); err != nil {
		t.Fatal(err)
	}
	if evs[0].CreatedAt.Location() != time.UTC || evs[0].UpdatedAt.Nanosecond() != 1000 {
		t.Fatalf("not normalised: %v %v", evs[0].CreatedAt, evs[0].UpdatedAt)
	}
	bad := []watchdog.Event{{ID: "", Priority: "high"}}
	var ve *watchdog.ValidationError
	if err := watchdog.ValidateBatch(bad); !errors.As(err, &ve) || len(ve.Errors) < 4 {
		t.Fatalf("want several field errors, got %v", err)
	}
}

func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte(seedEvent))
	f.Add([]byte("[" + seedEvent + "]"))
	f.Add([]byte(`[{"id":1},{"id":"x","created_at":"2025-13-01T00:00:00Z"}]`))
	f.Add([]byte(`{"id":"é","first_response_at":"2025-06-18T12:00:00.999999999-11:59"}`))
	f.Add([]byte(`[[[[[]]]]]`))
	f.Add([]byte(`{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","status":"open",` +
		`"customer_tier":"gold","attributes":{"group":"billing"},"tags":["vip"],"messages":[{"at":"2025-06-18T12:01:00Z","author":"agent"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := watchdog.DecodeEventsBytes(data)
		if err != nil {
			if !errors.Is(err, watchdog.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		if len(evs) == 0 {
			t.Fatal("no error and no events")
		}
		for _, ev := range evs {
			if err := ev.Validate(); err != nil {
				t.Fatalf("decoded event fails Validate: %v", err)
			}
			if ev.UpdatedAt.Before(ev.CreatedAt) || len(ev.ID) > watchdog.MaxIDBytes {
				t.Fatalf("invalid event accepted: %+v", ev)
			}
		}
	})
}
