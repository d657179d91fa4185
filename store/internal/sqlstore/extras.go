package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/ticket-watchdog/watchdog"
)

// EncodeAttributes is how attributes are stored: JSON text, "" for nil
// (absent), which a store writes as NULL. An empty non-nil map is "{}" (an
// event that clears them).
func EncodeAttributes(a map[string]string) string {
	if a == nil {
		return ""
	}
	b, err := json.Marshal(a) // a map of strings always encodes; keys sorted
	if err != nil {
		panic(err)
	}
	return string(b)
}

// EncodeTags is EncodeAttributes for tags.
func EncodeTags(tags []string) string {
	if tags == nil {
		return ""
	}
	b, err := json.Marshal(tags)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// NullText is s as a nullable column value: NULL for "".
func NullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// DecodeExtras reads stored attributes and tags (NULL: nil).
func DecodeExtras(attrs, tags sql.NullString) (map[string]string, []string, error) {
	var (
		a map[string]string
		t []string
	)
	if attrs.Valid && attrs.String != "" {
		if err := json.Unmarshal([]byte(attrs.String), &a); err != nil {
			return nil, nil, fmt.Errorf("stored attributes: %w", err)
		}
		if a == nil {
			a = map[string]string{}
		}
	}
	if tags.Valid && tags.String != "" {
		if err := json.Unmarshal([]byte(tags.String), &t); err != nil {
			return nil, nil, fmt.Errorf("stored tags: %w", err)
		}
		if t == nil {
			t = []string{}
		}
	}
	return a, t, nil
}

// TicketMessage is one stored message of a ticket.
type TicketMessage struct {
	TicketID string
	watchdog.Message
}
