package watchdog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Bounds on an event's attributes, tags and messages.
const (
	MaxAttributes         = 32
	MaxAttributeKeyBytes  = 64
	MaxAttributeValBytes  = 256
	MaxTags               = 64
	MaxTagBytes           = 64
	MaxMessagesPerEvent   = 1000
	attributeKeyAlphabet  = "a-z, 0-9, '_', '.' and '-'"
	attributesFieldPrefix = "attributes."
)

// validAttributeKey reports whether k is 1 to 64 bytes of [a-z0-9_.-].
func validAttributeKey(k string) bool {
	if len(k) == 0 || len(k) > MaxAttributeKeyBytes {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// attributeField names attribute key k in an error: attributes.<k>, or
// attributes alone when k is empty, too long or not printable (the message
// quotes it then).
func attributeField(k string) string {
	if k == "" || len(k) > MaxAttributeKeyBytes || textProblem(k) != "" {
		return "attributes"
	}
	return attributesFieldPrefix + k
}

// checkExtras reports, through bad, what is wrong with an event's
// attributes, tags and messages. created is the event's created_at (zero
// when it is itself invalid, which skips the order check).
func checkExtras(e *Event, created time.Time, skip map[int]bool, bad func(field, msg string)) {
	if len(e.Attributes) > MaxAttributes {
		bad("attributes", fmt.Sprintf("has %d keys; at most %d allowed", len(e.Attributes), MaxAttributes))
	}
	for k, v := range e.Attributes {
		field := attributeField(k)
		if !validAttributeKey(k) {
			bad(field, fmt.Sprintf("key %s must be 1 to %d bytes of %s", strconv.Quote(truncateForMessage(k)), MaxAttributeKeyBytes, attributeKeyAlphabet))
			continue
		}
		if msg := textProblem(v); msg != "" {
			bad(field, msg)
		} else if len(v) > MaxAttributeValBytes {
			bad(field, fmt.Sprintf("is %d bytes long; at most %d allowed", len(v), MaxAttributeValBytes))
		}
	}
	if len(e.Tags) > MaxTags {
		bad("tags", fmt.Sprintf("has %d tags; at most %d allowed", len(e.Tags), MaxTags))
	}
	for i, tag := range e.Tags {
		field := fmt.Sprintf("tags[%d]", i)
		switch msg := textProblem(tag); {
		case msg != "":
			bad(field, msg)
		case tag == "":
			bad(field, "must not be empty")
		case len(tag) > MaxTagBytes:
			bad(field, fmt.Sprintf("is %d bytes long; at most %d allowed", len(tag), MaxTagBytes))
		}
	}
	if len(e.Messages) > MaxMessagesPerEvent {
		bad("messages", fmt.Sprintf("has %d messages; at most %d allowed per event", len(e.Messages), MaxMessagesPerEvent))
		return
	}
	for i, m := range e.Messages {
		if skip[i] {
			continue
		}
		field := fmt.Sprintf("messages[%d]", i)
		if m.Author != AuthorCustomer && m.Author != AuthorAgent {
			bad(field+".author", fmt.Sprintf("must be customer or agent, got %s", strconv.Quote(truncateForMessage(m.Author))))
		}
		switch {
		case m.At.IsZero():
			bad(field+".at", "is required")
		case m.At.Year() < MinEventYear || m.At.Year() > MaxEventYear:
			bad(field+".at", fmt.Sprintf("year %d is out of range (%d-%d)", m.At.Year(), MinEventYear, MaxEventYear))
		case !created.IsZero() && m.At.Before(created):
			bad(field+".at", "is before created_at")
		}
	}
}

// decodeExtras decodes the raw attributes, tags and messages of an event
// into ev, reporting wrong shapes through bad. An absent or null field stays
// nil (keep what the ticket has); an empty object or array is kept non-nil
// (clear it).
//
// It returns the indexes of messages already reported, for checkExtras to
// skip.
func decodeExtras(w *wireEvent, ev *Event, bad func(field, msg string)) (broken map[int]bool) {
	broken = map[int]bool{}
	present := func(raw json.RawMessage) bool { return len(raw) > 0 && string(bytes.TrimSpace(raw)) != "null" }
	if present(w.Attributes) {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(w.Attributes, &raw); err != nil {
			bad("attributes", "must be an object of strings, got "+jsonKind(w.Attributes))
		} else {
			ev.Attributes = make(map[string]string, len(raw))
			for k, v := range raw {
				var s string
				if !present(v) || json.Unmarshal(v, &s) != nil {
					bad(attributeField(k), "must be a string, got "+jsonKind(v))
					continue
				}
				if lossyJSONString(v) {
					s = "\xff" // refused by checkExtras rather than stored altered
				}
				ev.Attributes[k] = s
			}
		}
	}
	if present(w.Tags) {
		var raw []json.RawMessage
		if err := json.Unmarshal(w.Tags, &raw); err != nil {
			bad("tags", "must be an array of strings, got "+jsonKind(w.Tags))
		} else {
			ev.Tags = make([]string, 0, len(raw))
			for i, v := range raw {
				var s string
				if !present(v) || json.Unmarshal(v, &s) != nil {
					bad(fmt.Sprintf("tags[%d]", i), "must be a string, got "+jsonKind(v))
					continue
				}
				if lossyJSONString(v) {
					s = "\xff"
				}
				ev.Tags = append(ev.Tags, s)
			}
		}
	}
	if present(w.Messages) {
		var raw []json.RawMessage
		if err := json.Unmarshal(w.Messages, &raw); err != nil {
			bad("messages", "must be an array of {at, author} objects, got "+jsonKind(w.Messages))
			return broken
		}
		if len(raw) > MaxMessagesPerEvent {
			bad("messages", fmt.Sprintf("has %d messages; at most %d allowed per event", len(raw), MaxMessagesPerEvent))
			return broken
		}
		ev.Messages = make([]Message, len(raw))
		for i, v := range raw {
			field := fmt.Sprintf("messages[%d]", i)
			var m struct {
				At     json.RawMessage `json:"at"`
				Author json.RawMessage `json:"author"`
			}
			if b := bytes.TrimSpace(v); len(b) == 0 || b[0] != '{' || json.Unmarshal(v, &m) != nil {
				bad(field, "must be an object with at and author, got "+jsonKind(v))
				broken[i] = true
				continue
			}
			var s string
			switch {
			case !present(m.At):
				bad(field+".at", "is required")
				broken[i] = true
			case json.Unmarshal(m.At, &s) != nil:
				bad(field+".at", "must be an RFC 3339 time, got "+jsonKind(m.At))
				broken[i] = true
			default:
				t, err := ParseTime(s)
				if err != nil {
					bad(field+".at", err.Error())
					broken[i] = true
				}
				ev.Messages[i].At = t
			}
			if present(m.Author) && json.Unmarshal(m.Author, &ev.Messages[i].Author) != nil {
				bad(field+".author", "must be customer or agent, got "+jsonKind(m.Author))
				broken[i] = true
			}
		}
	}
	return broken
}
