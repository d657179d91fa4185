package watchdog_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ticket-watchdog/watchdog"
)

// withExtras is the seed's event with more fields spliced in.
func withExtras(extra string) string {
	return "[" + strings.TrimSuffix(seedEvent, "}") + "," + extra + "}]"
}

func TestDecodeEventExtras(t *testing.T) {
	evs, err := watchdog.DecodeEventsBytes([]byte(withExtras(`"attributes":{"group":"billing","channel":"email"},"tags":["vip"],` +
		`"messages":[{"at":"2025-06-18T12:10:00.0000009Z","author":"customer"},{"at":"2025-06-18T14:20:00+02:00","author":"agent"}]`)))
	if err != nil {
		t.Fatal(err)
	}
	want := watchdog.Event{Attributes: map[string]string{"group": "billing", "channel": "email"}, Tags: []string{"vip"},
		Messages: []watchdog.Message{{At: time.Date(2025, 6, 18, 12, 10, 0, 0, time.UTC), Author: "customer"},
			{At: time.Date(2025, 6, 18, 12, 20, 0, 0, time.UTC), Author: "agent"}}}
	got := evs[0]
	if diff := cmp.Diff(want, watchdog.Event{Attributes: got.Attributes, Tags: got.Tags, Messages: got.Messages}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Empty values are kept apart from absent ones: they clear.
	evs, err = watchdog.DecodeEventsBytes([]byte(withExtras(`"attributes":{},"tags":[],"messages":null`)))
	if err != nil || evs[0].Attributes == nil || evs[0].Tags == nil || evs[0].Messages != nil {
		t.Errorf("empty extras: %+v, %v", evs, err)
	}
	evs, err = watchdog.DecodeEventsBytes([]byte("[" + seedEvent + "]"))
	if err != nil || evs[0].Attributes != nil || evs[0].Tags != nil {
		t.Errorf("absent extras: %+v, %v", evs, err)
	}
}

func TestDecodeEventExtrasErrors(t *testing.T) {
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	cases := []struct {
		name, extra, field, msg string
	}{
		{"attributes not an object", `"attributes":["a"]`, "attributes", "object of strings"},
		{"attribute not a string", `"attributes":{"group":1}`, "attributes.group", "must be a string, got a number"},
		{"attribute key with upper case", `"attributes":{"Group":"x"}`, "attributes.Group", "a-z"},
		{"attribute key too long", `"attributes":{"` + strings.Repeat("k", 65) + `":"x"}`, "attributes", "1 to 64 bytes"},
		{"attribute value too long", `"attributes":{"group":"` + strings.Repeat("v", 257) + `"}`, "attributes.group", "257 bytes"},
		{"too many attributes", `"attributes":{` + many(33, func(i int) string { return fmt.Sprintf(`"k%d":"v"`, i) }) + `}`, "attributes", "33 keys"},
		{"attribute null", `"attributes":{"group":null}`, "attributes.group", "must be a string, got null"},
		{"attribute key empty", `"attributes":{"":"x"}`, "attributes", `key ""`},
		{"tags not an array", `"tags":"vip"`, "tags", "array of strings"},
		{"tag null", `"tags":["a",null]`, "tags[1]", "must be a string, got null"},
		{"tag not a string", `"tags":["a",2]`, "tags[1]", "must be a string"},
		{"empty tag", `"tags":[""]`, "tags[0]", "empty"},
		{"tag too long", `"tags":["` + strings.Repeat("t", 65) + `"]`, "tags[0]", "65 bytes"},
		{"too many tags", `"tags":[` + many(65, func(i int) string { return fmt.Sprintf(`"t%d"`, i) }) + `]`, "tags", "65 tags"},
		{"messages not an array", `"messages":{}`, "messages", "array"},
		{"message before created_at", `"messages":[{"at":"2025-06-18T11:59:59Z","author":"agent"}]`, "messages[0].at", "before created_at"},
		{"unknown author", `"messages":[{"at":"2025-06-18T12:10:00Z","author":"bot"}]`, "messages[0].author", "customer or agent"},
		{"missing at", `"messages":[{"author":"agent"}]`, "messages[0].at", "required"},
		{"bad at", `"messages":[{"at":"soon","author":"agent"}]`, "messages[0].at", "RFC 3339"},
		{"message not an object", `"messages":[{"at":"2025-06-18T12:10:00Z","author":"agent"},3]`, "messages[1]", "object"},
		{"too many messages", `"messages":[` + many(1001, func(int) string { return `{"at":"2025-06-18T12:10:00Z","author":"agent"}` }) + `]`, "messages", "1001 messages"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := watchdog.DecodeEventsBytes([]byte(withExtras(c.extra)))
			var ve *watchdog.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err %v, want a *ValidationError", err)
			}
			for _, fe := range ve.Errors {
				if fe.Item == 0 && fe.ID == "1" && fe.Field == c.field && strings.Contains(fe.Message, c.msg) {
					return
				}
			}
			t.Fatalf("no error for field %q containing %q in %v", c.field, c.msg, ve.Errors)
		})
	}
}

func TestValidateBatchExtras(t *testing.T) {
	ev := watchdog.Event{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0,
		Attributes: map[string]string{"BAD": "x"}, Messages: []watchdog.Message{{At: t0.Add(-time.Second), Author: "agent"}, {At: t0, Author: "x"}}}
	err := watchdog.ValidateBatch([]watchdog.Event{ev})
	var ve *watchdog.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v", err)
	}
	var fields []string
	for _, fe := range ve.Errors {
		fields = append(fields, fe.Field)
	}
	if diff := cmp.Diff([]string{"attributes.BAD", "messages[0].at", "messages[1].author"}, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

// TestMergeExtras pins the merge rules: attributes and tags come from the
// latest event (by updated_at) that carries them, whatever the arrival
// order; messages from every event, once each.
func TestMergeExtras(t *testing.T) {
	ev := func(d time.Duration, attrs map[string]string, tags []string, msgs ...watchdog.Message) watchdog.Event {
		return watchdog.Event{ID: "M", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0.Add(d),
			Attributes: attrs, Tags: tags, Messages: msgs}
	}
	cust := watchdog.Message{At: t0.Add(time.Minute), Author: watchdog.AuthorCustomer}
	agent := watchdog.Message{At: t0.Add(time.Minute), Author: watchdog.AuthorAgent}
	tk := &watchdog.Ticket{}
	tk.Merge(ev(2*time.Hour, map[string]string{"group": "new"}, nil))
	tk.Merge(ev(time.Hour, map[string]string{"group": "old"}, []string{"vip", "vip"})) // late: its tags are the only ones
	if tk.Attributes["group"] != "new" || !cmp.Equal(tk.Tags, []string{"vip"}) {
		t.Fatalf("late event: %v %v", tk.Attributes, tk.Tags)
	}
	tk.Merge(ev(3*time.Hour, nil, nil)) // absent keeps
	if tk.Attributes["group"] != "new" || len(tk.Tags) != 1 {
		t.Fatalf("absent: %v %v", tk.Attributes, tk.Tags)
	}
	tk.Merge(ev(4*time.Hour, map[string]string{}, []string{})) // empty clears
	if tk.Attributes != nil || tk.Tags != nil {
		t.Fatalf("cleared: %v %v", tk.Attributes, tk.Tags)
	}
	// An event already stored still brings its messages; its other fields
	// are ignored; a message re-sent is a no-op.
	added, fresh := tk.MergeEvent(ev(time.Hour, map[string]string{"group": "x"}, nil, agent, cust))
	if added || len(fresh) != 2 || tk.Attributes != nil {
		t.Fatalf("stored event: added %v, fresh %v, attributes %v", added, fresh, tk.Attributes)
	}
	if tk.Merge(ev(time.Hour, nil, nil, cust)) {
		t.Error("a re-sent message changed the ticket")
	}
	if want := []watchdog.Message{cust, agent}; !cmp.Equal(want, tk.Messages) {
		t.Errorf("messages %v, want customer before agent at one instant", tk.Messages)
	}
	for _, e := range tk.Events {
		if e.Messages != nil {
			t.Errorf("the timeline keeps messages on events: %+v", e)
		}
	}
}

// An event encoded with encoding/json decodes to itself: an empty
// attributes object or tags array (which clears) is kept apart from none
// (which keeps).
func TestEventExtrasRoundTrip(t *testing.T) {
	for _, ev := range []watchdog.Event{
		{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0},
		{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0,
			Attributes: map[string]string{}, Tags: []string{}},
		{ID: "1", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: t0, UpdatedAt: t0,
			Attributes: map[string]string{"a": "b"}, Tags: []string{"x"}, Messages: []watchdog.Message{{At: t0, Author: "agent"}}},
	} {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := watchdog.DecodeEventsBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if diff := cmp.Diff(ev, got[0]); diff != "" {
			t.Errorf("%s (-sent +decoded):\n%s", b, diff)
		}
	}
}
