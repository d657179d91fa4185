package api

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/jsonappend"
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
// one holds an instant json.Marshal refuses (see jsonappend.Time).
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
	b = jsonappend.String(b, t.ID)
	b = append(b, `,"priority":`...)
	b = jsonappend.String(b, t.Priority)
	b = append(b, `,"created_at":`...)
	b, ok = jsonappend.Time(b, t.CreatedAt, ok)
	b = append(b, `,"updated_at":`...)
	b, ok = jsonappend.Time(b, t.UpdatedAt, ok)
	b = append(b, `,"status":`...)
	b = jsonappend.String(b, t.Status)
	b = append(b, `,"customer_tier":`...)
	b = jsonappend.String(b, t.CustomerTier)
	b = append(b, `,"escalation_level":`...)
	b = strconv.AppendInt(b, int64(t.EscalationLevel), 10)
	if t.FirstResponseAt != nil {
		b = append(b, `,"first_response_at":`...)
		b, ok = jsonappend.Time(b, *t.FirstResponseAt, ok)
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
			b = jsonappend.String(b, k)
			b = append(b, ':')
			b = jsonappend.String(b, t.Attributes[k])
		}
		b = append(b, '}')
	}
	if len(t.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, tag := range t.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonappend.String(b, tag)
		}
		b = append(b, ']')
	}
	b = append(b, `,"sla_state":`...)
	b = jsonappend.String(b, string(t.State))
	if t.Untracked != "" {
		b = append(b, `,"untracked_reason":`...)
		b = jsonappend.String(b, t.Untracked)
	}
	if t.Policy != "" {
		b = append(b, `,"policy":`...)
		b = jsonappend.String(b, t.Policy)
	}
	b = append(b, `,"open":`...)
	b = strconv.AppendBool(b, t.Open)
	b = append(b, `,"next_due_at":`...)
	b, ok = jsonappend.TimePtr(b, t.NextDueAt, ok)
	b = append(b, `,"breach_at":`...)
	b, ok = jsonappend.TimePtr(b, t.BreachAt, ok)
	return append(b, '}'), ok
}
