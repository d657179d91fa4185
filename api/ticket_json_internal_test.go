package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// strangeStrings are strings json.Marshal escapes or alters: HTML
// characters, quotes, control characters, invalid UTF-8, the line and
// paragraph separators, and plain text around them.
var strangeStrings = []string{
	"", "plain", "T-1", " spaced out ", "<b>&amp;</b>", `quote " and \ backslash`, "tab\tnew\nline\rreturn",
	"\b\f\x00\x01\x1f\x7f", "日本語チケット", "emoji 🚨", "\xff\xfe", "bad \xc3( utf8", "\u2028\u2029", "a\u2028b",
	"€", "\ufffd", "}{][,:",
}

func randomString(r *rand.Rand) string {
	if r.IntN(3) > 0 {
		return strangeStrings[r.IntN(len(strangeStrings))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randomTime(r *rand.Rand) time.Time {
	t := time.Unix(r.Int64N(2e10)-1e10, r.Int64N(1e9)).UTC()
	switch r.IntN(4) {
	case 0:
		t = t.Truncate(time.Second)
	case 1:
		t = t.In(time.FixedZone("", (r.IntN(48)-24)*1800))
	case 2:
		t = t.Truncate(time.Microsecond)
	}
	return t
}

func randomTicket(r *rand.Rand) *watchdog.Ticket {
	at := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		t := randomTime(r)
		return &t
	}
	t := &watchdog.Ticket{
		ID: randomString(r), Priority: randomString(r), Status: randomString(r), CustomerTier: randomString(r),
		CreatedAt: randomTime(r), UpdatedAt: randomTime(r), EscalationLevel: r.IntN(5) - 1,
		FirstResponseAt: at(), NextDueAt: at(), BreachAt: at(), BackfilledAt: at(),
		State: watchdog.TicketState(randomString(r)), Untracked: randomString(r), Policy: randomString(r), Open: r.IntN(2) == 0,
		Events: []watchdog.Event{{ID: "not encoded"}},
	}
	switch r.IntN(3) {
	case 0:
		t.Attributes = map[string]string{}
	case 1:
		t.Attributes = map[string]string{}
		for range r.IntN(6) + 1 {
			t.Attributes[randomString(r)] = randomString(r)
		}
	}
	switch r.IntN(3) {
	case 0:
		t.Tags = []string{}
	case 1:
		for range r.IntN(4) + 1 {
			t.Tags = append(t.Tags, randomString(r))
		}
	}
	return t
}

// TestTicketJSONMatchesMarshal: appendTicket and appendTickets write what
// json.Marshal writes, byte for byte, for tickets of every field's shapes,
// and refuse exactly the instants json.Marshal refuses.
func TestTicketJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		tk := randomTicket(r)
		want, err := json.Marshal(tk)
		got, ok := appendTicket(nil, tk)
		if ok != (err == nil) {
			t.Fatalf("ticket %d: appendTicket ok = %v, json.Marshal error = %v", i, ok, err)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("ticket %d differs:\n got %s\nwant %s", i, got, want)
		}
	}
	list := []*watchdog.Ticket{randomTicket(r), nil, randomTicket(r)}
	for _, l := range [][]*watchdog.Ticket{nil, {}, list} {
		want, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendTickets(nil, l)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("list of %d: got %s (ok %v), want %s", len(l), got, ok, want)
		}
	}
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tk := range []*watchdog.Ticket{{CreatedAt: far}, {NextDueAt: &far}, {UpdatedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))}} {
		if _, err := json.Marshal(tk); err == nil {
			t.Fatalf("json.Marshal took %v", tk)
		}
		if _, ok := appendTicket(nil, tk); ok {
			t.Errorf("appendTicket took an instant json.Marshal refuses: %+v", tk)
		}
	}
}

// FuzzTicketJSON holds appendTicket to json.Marshal for arbitrary strings.
func FuzzTicketJSON(f *testing.F) {
	for _, s := range strangeStrings {
		f.Add(s, s, int64(1750248000), true)
	}
	f.Fuzz(func(t *testing.T, a, b string, sec int64, open bool) {
		at := time.Unix(sec%(1<<36), 0).UTC()
		tk := &watchdog.Ticket{ID: a, Priority: b, Status: a + b, CustomerTier: b, CreatedAt: at, UpdatedAt: at,
			Attributes: map[string]string{a: b, b: a}, Tags: []string{b, a}, State: watchdog.TicketState(a), Policy: b, Open: open, BreachAt: &at}
		want, err := json.Marshal(tk)
		got, ok := appendTicket(nil, tk)
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Fatalf("got %s (ok %v), json.Marshal %s (%v)", got, ok, want, err)
		}
	})
}
