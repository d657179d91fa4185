package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// The ingest answer lists every ticket of the batch, and encoding it by
// reflection was an eighth of the server's time per event. appendTicket
// writes the same bytes json.Marshal writes for a watchdog.Ticket, without
// reflection, one call per value a Marshaler would need, or an allocation
// per field; TestTicketJSONMatchesMarshal holds it to that.

// writeTickets answers with tickets as writeJSON would: one ticket as an
// object, or the list as an array.
func writeTickets(w http.ResponseWriter, code int, tickets []*watchdog.Ticket, one bool) {
	b := make([]byte, 0, 64+320*len(tickets))
	ok := true
	if one {
		b, ok = appendTicket(b, tickets[0])
	} else {
		b, ok = appendTickets(b, tickets)
	}
	if !ok { // an instant JSON cannot carry: json.Marshal says so
		if one {
			writeJSON(w, code, tickets[0])
		} else {
			writeJSON(w, code, tickets)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// appendTickets appends tickets as json.Marshal encodes them; false when
// one holds an instant json.Marshal refuses (see appendTime).
func appendTickets(b []byte, tickets []*watchdog.Ticket) ([]byte, bool) {
	if tickets == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i, t := range tickets {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendTicket(b, t); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendTicket appends t as json.Marshal encodes it, the fields in the
// struct's order with its tags' names and omitempty.
func appendTicket(b []byte, t *watchdog.Ticket) ([]byte, bool) {
	if t == nil {
		return append(b, "null"...), true
	}
	ok := true
	b = append(b, `{"id":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"priority":`...)
	b = appendString(b, t.Priority)
	b = append(b, `,"created_at":`...)
	b, ok = appendTime(b, t.CreatedAt, ok)
	b = append(b, `,"updated_at":`...)
	b, ok = appendTime(b, t.UpdatedAt, ok)
	b = append(b, `,"status":`...)
	b = appendString(b, t.Status)
	b = append(b, `,"customer_tier":`...)
	b = appendString(b, t.CustomerTier)
	b = append(b, `,"escalation_level":`...)
	b = strconv.AppendInt(b, int64(t.EscalationLevel), 10)
	if t.FirstResponseAt != nil {
		b = append(b, `,"first_response_at":`...)
		b, ok = appendTime(b, *t.FirstResponseAt, ok)
	}
	if len(t.Attributes) > 0 {
		b = append(b, `,"attributes":{`...)
		keys := make([]string, 0, len(t.Attributes))
		for k := range t.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys) // json.Marshal sorts a map's keys
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, t.Attributes[k])
		}
		b = append(b, '}')
	}
	if len(t.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, tag := range t.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, tag)
		}
		b = append(b, ']')
	}
	b = append(b, `,"sla_state":`...)
	b = appendString(b, string(t.State))
	if t.Untracked != "" {
		b = append(b, `,"untracked_reason":`...)
		b = appendString(b, t.Untracked)
	}
	if t.Policy != "" {
		b = append(b, `,"policy":`...)
		b = appendString(b, t.Policy)
	}
	b = append(b, `,"open":`...)
	b = strconv.AppendBool(b, t.Open)
	b = append(b, `,"next_due_at":`...)
	b, ok = appendTimePtr(b, t.NextDueAt, ok)
	b = append(b, `,"breach_at":`...)
	b, ok = appendTimePtr(b, t.BreachAt, ok)
	return append(b, '}'), ok
}

// appendString appends s as a JSON string. A string of printable ASCII
// that json.Marshal writes unescaped is copied as it is; any other goes
// through json.Marshal itself, so that its escapes (HTML characters,
// control characters, invalid UTF-8, U+2028 and U+2029) stay exactly its.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with the
// fraction's trailing zeros dropped), and reports ok false for the instants
// it refuses: a year outside [0, 9999] or a zone offset of a day or more.
func appendTime(b []byte, t time.Time, ok bool) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), ok
}

func appendTimePtr(b []byte, t *time.Time, ok bool) ([]byte, bool) {
	if t == nil {
		return append(b, "null"...), ok
	}
	return appendTime(b, *t, ok)
}
