package websocket

import (
	"net/url"
	"testing"

	watchdog "github.com/ticket-watchdog/watchdog"
)

// FuzzParseFilter checks that any query string either parses or gives a
// filter error naming a parameter, and that a parsed filter lets through
// an alert built from its own single values.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", "tier=gold", "customer_tier=Gold,silver&priority=high", "state=breach&sla_type=response",
		"ticket_id=T-1,T-2", "state=ok", "tier=", "tier=a,,b", "%zz", "ticket_id=%00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := parseFilter(q)
		if err != nil {
			fe, ok := err.(*filterError)
			if !ok || fe.Param == "" || fe.Message == "" {
				t.Fatalf("parseFilter(%q): error %#v does not name a parameter", raw, err)
			}
			return
		}
		a := watchdog.Alert{TicketID: one(flt.ticketIDs), CustomerTier: one(flt.tiers), Priority: one(flt.priorities),
			State: one(flt.states), SLAClock: watchdog.SLAClock(one(flt.slaTypes))}
		if !flt.match(&a) {
			t.Fatalf("parseFilter(%q) rejects %+v built from its own values", raw, a)
		}
	})
}

// one returns some member of set, or "" for a nil set.
func one(set map[string]struct{}) string {
	for k := range set {
		return k
	}
	return ""
}
