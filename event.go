package watchdog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	sjson "github.com/segmentio/encoding/json"
)

// MaxIDBytes is the longest ticket id accepted, in bytes.
const MaxIDBytes = 255

// Event times must fall in [MinEventYear, MaxEventYear]: due instants lie
// up to a year's target (stretched by calendars and escalation steps) after
// a ticket's events and must stay representable in every store and in JSON.
const (
	MinEventYear = 1970
	MaxEventYear = 2999
)

// Event is one ticket event as a helpdesk sends it: the seed's six fields plus
// an optional explicit first agent response. Times are truncated to the
// microsecond on decode, the precision every store keeps, so that a retried
// event compares equal to the stored one.
type Event struct {
	ID              string     `json:"id"`
	Priority        string     `json:"priority"`
	CustomerTier    string     `json:"customer_tier"`
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	// Attributes and Tags, when not nil, replace the ticket's (an empty
	// non-nil value clears them) if this is the latest event carrying
	// them; nil keeps what the ticket has.
	Attributes map[string]string `json:"attributes,omitzero"`
	Tags       []string          `json:"tags,omitzero"`
	// Messages are public messages merged into the ticket's messages from
	// every event, including one whose (ID, UpdatedAt) is already stored.
	// The store keeps them with the ticket (Ticket.Messages), not with the
	// event.
	Messages []Message `json:"messages,omitempty"`
}

// wireEvent decodes each field as raw JSON so that a wrong type is reported
// against its field instead of failing the whole document.
type wireEvent struct {
	ID              json.RawMessage `json:"id"`
	Priority        json.RawMessage `json:"priority"`
	CustomerTier    json.RawMessage `json:"customer_tier"`
	Status          json.RawMessage `json:"status"`
	CreatedAt       json.RawMessage `json:"created_at"`
	UpdatedAt       json.RawMessage `json:"updated_at"`
	FirstResponseAt json.RawMessage `json:"first_response_at"`
	Attributes      json.RawMessage `json:"attributes"`
	Tags            json.RawMessage `json:"tags"`
	Messages        json.RawMessage `json:"messages"`
}

// empty reports an item with none of the fields: null or {} (or only
// fields we do not read).
func (w *wireEvent) empty() bool {
	return w.ID == nil && w.Priority == nil && w.CustomerTier == nil && w.Status == nil && w.CreatedAt == nil &&
		w.UpdatedAt == nil && w.FirstResponseAt == nil && w.Attributes == nil && w.Tags == nil && w.Messages == nil
}

// DecodeEvents reads one event object or an array of them. It validates the
// whole batch and returns a *ValidationError naming every bad item and field,
// or an error matching ErrInvalid when the document is not JSON of that shape.
// Unknown fields are ignored, as helpdesks send more than we read.
func DecodeEvents(r io.Reader) ([]Event, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return DecodeEventsBytes(data)
}

// DecodeEventsBytes is DecodeEvents over a byte slice.
func DecodeEventsBytes(data []byte) ([]Event, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, &ValidationError{Errors: []FieldError{{Message: "empty body: expected a ticket event object or an array of them"}}}
	}
	if trimmed[0] == '[' {
		if events, ok := decodeObjects(data); ok {
			return events, nil
		}
	}
	return decodeItems(data, trimmed[0])
}

// decodeObjects is the fast path of DecodeEventsBytes for an array of
// objects that all decode as events: the document is scanned once, rather
// than once into items and once more per item. It reports false (and the
// caller takes the item-wise path, which names every bad item) for any
// other document: not an array of objects, an item that is null or {}
// (the item-wise path says which), or any field error.
func decodeObjects(data []byte) ([]Event, bool) {
	ws, ok := parseWire(data)
	if !ok {
		return nil, false
	}
	events := make([]Event, len(ws))
	var errs []FieldError
	for i := range ws {
		if ws[i].empty() {
			return nil, false
		}
		if events[i], errs = decodeWire(i, &ws[i], errs); len(errs) > 0 {
			return nil, false
		}
	}
	return events, true
}

// parseWire splits an array of objects into wireEvents, each field the raw
// JSON of its value, exactly as json.Unmarshal into []wireEvent does, or
// reports false. It parses with github.com/segmentio/encoding/json, which
// does this about three times as fast as encoding/json (whose split was a
// quarter of the server's CPU per ingested event), and without copying the
// raw values out of data. A document it refuses, or that holds more than
// one value, goes to encoding/json's path, which then decides; one it
// takes, encoding/json takes alike (FuzzParseWireMatchesEncodingJSON).
func parseWire(data []byte) ([]wireEvent, bool) {
	if foldsBeyondASCII(data) {
		return nil, false
	}
	var ws []wireEvent
	rest, err := sjson.Parse(data, &ws, sjson.ZeroCopy)
	if err != nil || len(bytes.TrimLeft(rest, " \t\r\n")) > 0 || len(ws) == 0 {
		return nil, false
	}
	return ws, true
}

// foldsBeyondASCII reports whether data holds, as such or escaped, one of
// the two runes that encoding/json, matching keys to fields without regard
// to case, takes for an ASCII letter (U+017F for s, U+212A for k); the
// faster decoder folds ASCII only, and could tell a key apart that
// encoding/json takes for a field.
func foldsBeyondASCII(data []byte) bool {
	if bytes.ContainsRune(data, '\u017f') || bytes.ContainsRune(data, '\u212a') {
		return true
	}
	for _, esc := range []string{`\u017f`, `\u017F`, `\u212a`, `\u212A`} {
		if bytes.Contains(data, []byte(esc)) {
			return true
		}
	}
	return false
}

// decodeItems decodes the document item by item, naming every bad one.
func decodeItems(data []byte, first byte) ([]Event, error) {
	var raws []json.RawMessage
	switch first {
	case '[':
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, &ValidationError{Errors: []FieldError{{Message: "malformed JSON: " + jsonMessage(err)}}}
		}
		if len(raws) == 0 {
			return nil, &ValidationError{Errors: []FieldError{{Message: "empty array: expected at least one ticket event"}}}
		}
	case '{':
		var one json.RawMessage
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, &ValidationError{Errors: []FieldError{{Message: "malformed JSON: " + jsonMessage(err)}}}
		}
		raws = []json.RawMessage{one}
	default:
		return nil, &ValidationError{Errors: []FieldError{{Message: "expected a ticket event object or an array of them"}}}
	}
	events := make([]Event, len(raws))
	var verr ValidationError
	for i, raw := range raws {
		events[i], verr.Errors = decodeEvent(i, raw, verr.Errors)
	}
	if len(verr.Errors) > 0 {
		return nil, &verr
	}
	return events, nil
}

func jsonMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}

func decodeEvent(i int, raw json.RawMessage, errs []FieldError) (Event, []FieldError) {
	var w wireEvent
	if len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
		return Event{}, append(errs, FieldError{Item: i, Message: "expected a JSON object"})
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Event{}, append(errs, FieldError{Item: i, Message: "malformed JSON: " + jsonMessage(err)})
	}
	return decodeWire(i, &w, errs)
}

// decodeWire checks and converts the fields of item i, appending its
// errors to errs.
func decodeWire(i int, w *wireEvent, errs []FieldError) (Event, []FieldError) {
	var ev Event
	n := len(errs)
	bad := func(field, msg string) { errs = append(errs, FieldError{Item: i, Field: field, Message: msg}) }
	str := func(field string, raw json.RawMessage, required bool) string {
		if len(raw) == 0 || string(raw) == "null" {
			if required {
				bad(field, "is required")
			}
			return ""
		}
		s, plain := plainJSONString(raw)
		if !plain {
			if err := json.Unmarshal(raw, &s); err != nil {
				bad(field, "must be a string, got "+jsonKind(raw))
				return ""
			}
		}
		msg := textProblem(s)
		if msg == "" && !plain && lossyJSONString(raw) {
			// Decoded to U+FFFD: refused rather than stored altered.
			msg = textProblem("\xff")
		}
		if msg != "" {
			bad(field, msg)
			return ""
		}
		return s
	}
	tm := func(field string, raw json.RawMessage, required bool) (time.Time, bool) {
		s := str(field, raw, required)
		if s == "" {
			if required && len(raw) > 0 && string(raw) != "null" {
				bad(field, "must be an RFC 3339 time, got an empty string")
			}
			return time.Time{}, false
		}
		t, err := ParseTime(s)
		if err != nil {
			bad(field, err.Error())
			return time.Time{}, false
		}
		return t, true
	}

	ev.ID = str("id", w.ID, true)
	if len(w.ID) > 0 && string(w.ID) != "null" && len(errs) == n {
		switch {
		case strings.TrimSpace(ev.ID) == "":
			bad("id", "must not be empty")
		case len(ev.ID) > MaxIDBytes:
			bad("id", fmt.Sprintf("is %d bytes long; at most %d allowed", len(ev.ID), MaxIDBytes))
		}
	}
	ev.Priority = str("priority", w.Priority, true)
	ev.CustomerTier = str("customer_tier", w.CustomerTier, true)
	ev.Status = str("status", w.Status, true)
	for _, f := range []struct {
		name string
		v    string
	}{{"priority", ev.Priority}, {"customer_tier", ev.CustomerTier}, {"status", ev.Status}} {
		if len(f.v) > MaxIDBytes {
			bad(f.name, fmt.Sprintf("is %d bytes long; at most %d allowed", len(f.v), MaxIDBytes))
		}
	}
	if ev.Status == "" && len(w.Status) > 0 && string(w.Status) != "null" && len(errs) == n {
		bad("status", "must not be empty")
	}
	created, okC := tm("created_at", w.CreatedAt, true)
	updated, okU := tm("updated_at", w.UpdatedAt, true)
	ev.CreatedAt, ev.UpdatedAt = created, updated
	if okC && okU && updated.Before(created) {
		bad("updated_at", fmt.Sprintf("is before created_at (%s < %s)", updated.Format(time.RFC3339Nano), created.Format(time.RFC3339Nano)))
	}
	if fr, ok := tm("first_response_at", w.FirstResponseAt, false); ok {
		if okC && fr.Before(created) {
			bad("first_response_at", "is before created_at")
		} else {
			ev.FirstResponseAt = &fr
		}
	}
	broken := decodeExtras(w, &ev, bad)
	if !okC {
		created = time.Time{}
	}
	checkExtras(&ev, created, broken, bad)
	if len(errs) > n {
		for k := n; k < len(errs); k++ {
			if len(ev.ID) <= MaxIDBytes {
				errs[k].ID = ev.ID
			}
		}
	}
	return ev, errs
}

func jsonKind(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// ParseTime reads an RFC 3339 time (with an optional fractional second) and
// truncates it to the microsecond. Times without a zone are refused rather
// than guessed.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be an RFC 3339 time such as 2025-06-18T12:00:00Z, got %q", truncateForMessage(s))
	}
	if t.Year() < MinEventYear || t.Year() > MaxEventYear {
		return time.Time{}, fmt.Errorf("year %d is out of range (%d-%d)", t.Year(), MinEventYear, MaxEventYear)
	}
	return t.Truncate(time.Microsecond).UTC(), nil
}

func truncateForMessage(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Validate checks an event built in Go rather than decoded from JSON.
func (e Event) Validate() error {
	var errs []FieldError
	id := e.ID
	if textProblem(id) != "" {
		id = "" // not echoed
	}
	bad := func(field, msg string) { errs = append(errs, FieldError{ID: id, Field: field, Message: msg}) }
	switch {
	case strings.TrimSpace(e.ID) == "":
		bad("id", "must not be empty")
	case len(e.ID) > MaxIDBytes:
		bad("id", fmt.Sprintf("is %d bytes long; at most %d allowed", len(e.ID), MaxIDBytes))
	}
	for _, f := range []struct{ name, v string }{{"id", e.ID}, {"priority", e.Priority}, {"customer_tier", e.CustomerTier}, {"status", e.Status}} {
		if msg := textProblem(f.v); msg != "" {
			bad(f.name, msg)
		}
	}
	if e.Priority == "" {
		bad("priority", "is required")
	}
	if e.CustomerTier == "" {
		bad("customer_tier", "is required")
	}
	if e.Status == "" {
		bad("status", "is required")
	}
	if e.CreatedAt.IsZero() {
		bad("created_at", "is required")
	}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"created_at", &e.CreatedAt}, {"updated_at", &e.UpdatedAt}, {"first_response_at", e.FirstResponseAt}} {
		if f.t != nil && !f.t.IsZero() && (f.t.Year() < MinEventYear || f.t.Year() > MaxEventYear) {
			bad(f.name, fmt.Sprintf("year %d is out of range (%d-%d)", f.t.Year(), MinEventYear, MaxEventYear))
		}
	}
	if e.UpdatedAt.IsZero() {
		bad("updated_at", "is required")
	}
	if !e.CreatedAt.IsZero() && e.UpdatedAt.Before(e.CreatedAt) {
		bad("updated_at", "is before created_at")
	}
	if e.FirstResponseAt != nil && e.FirstResponseAt.Before(e.CreatedAt) {
		bad("first_response_at", "is before created_at")
	}
	checkExtras(&e, e.CreatedAt, nil, bad)
	if len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}

// ValidateBatch validates every event of a batch, numbering items by index,
// and normalises their times to UTC microseconds.
func ValidateBatch(events []Event) error {
	var all []FieldError
	for i := range events {
		ev := &events[i]
		ev.CreatedAt = ev.CreatedAt.Truncate(time.Microsecond).UTC()
		ev.UpdatedAt = ev.UpdatedAt.Truncate(time.Microsecond).UTC()
		if ev.FirstResponseAt != nil {
			fr := ev.FirstResponseAt.Truncate(time.Microsecond).UTC()
			ev.FirstResponseAt = &fr
		}
		if len(ev.Messages) > 0 {
			msgs := make([]Message, len(ev.Messages))
			for j, m := range ev.Messages {
				msgs[j] = Message{At: m.At.Truncate(time.Microsecond).UTC(), Author: m.Author}
			}
			ev.Messages = msgs
		}
		if err := ev.Validate(); err != nil {
			var ve *ValidationError
			errors.As(err, &ve)
			for _, fe := range ve.Errors {
				fe.Item = i
				all = append(all, fe)
			}
		}
	}
	if len(all) > 0 {
		return &ValidationError{Errors: all}
	}
	return nil
}
