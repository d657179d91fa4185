package websocket

import (
	"net/url"
	"testing"
	"time"

	watchdog "github.com/ticket-watchdog/watchdog"
)

// FuzzParseFilter checks that any query string either parses or gives a
// filter error naming a parameter, and that a parsed filter lets through
// an alert built from its own single values.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", "tier=gold", "customer_tier=Gold,silver&priority=high", "state=breach&sla_type=response",
		"ticket_id=T-1,T-2", "state=ok", "tier=", "tier=a,,b", "%zz", "ticket_id=%00",
		"sla_type=next_reply,periodic_update&policy=vip-billing", "policy=",
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
			State: one(flt.states), SLAClock: watchdog.SLAClock(one(flt.slaTypes)), Policy: one(flt.policies)}
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

// The policy filter matches an alert's policy exactly, and the cycle
// clocks are sla_type values; a message carries the policy and cycle.
func TestFilterPolicyAndCycleClocks(t *testing.T) {
	flt, err := parseFilter(url.Values{"policy": {"vip-billing,email"}, "sla_type": {"next_reply"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a    watchdog.Alert
		want bool
	}{
		{watchdog.Alert{SLAClock: watchdog.NextReply, Policy: "vip-billing"}, true},
		{watchdog.Alert{SLAClock: watchdog.NextReply, Policy: "VIP-billing"}, false},
		{watchdog.Alert{SLAClock: watchdog.PeriodicUpdate, Policy: "email"}, false},
		{watchdog.Alert{SLAClock: watchdog.NextReply}, false},
	} {
		if got := flt.match(&c.a); got != c.want {
			t.Errorf("match(%+v) = %v, want %v", c.a, got, c.want)
		}
	}
	started := time.Date(2026, 6, 18, 12, 0, 0, 0, time.FixedZone("x", 3600))
	m := MessageFor(watchdog.Alert{SLAClock: watchdog.NextReply, Policy: "vip", Cycle: 3, CycleStartedAt: &started})
	if m.Policy != "vip" || m.Cycle != 3 || !m.CycleStartedAt.Equal(started) || m.CycleStartedAt.Location() != time.UTC {
		t.Errorf("message %+v", m)
	}
	if m := MessageFor(watchdog.Alert{SLAClock: watchdog.Response, Policy: "tiers.gold.high"}); m.Cycle != 0 || m.CycleStartedAt != nil {
		t.Errorf("a response alert has no cycle: %+v", m)
	}
}
