package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/jsonappend/jsoncheck"
)

func randomTicket(r *rand.Rand) *watchdog.Ticket {
	at := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		t := jsoncheck.Time(r)
		return &t
	}
	t := &watchdog.Ticket{
		ID: jsoncheck.String(r), Priority: jsoncheck.String(r), Status: jsoncheck.String(r), CustomerTier: jsoncheck.String(r),
		CreatedAt: jsoncheck.Time(r), UpdatedAt: jsoncheck.Time(r), EscalationLevel: r.IntN(5) - 1,
		FirstResponseAt: at(), NextDueAt: at(), BreachAt: at(), BackfilledAt: at(),
		State: watchdog.TicketState(jsoncheck.String(r)), Untracked: jsoncheck.String(r), Policy: jsoncheck.String(r), Open: r.IntN(2) == 0,
		Events: []watchdog.Event{{ID: "not encoded"}},
	}
	switch r.IntN(3) {
	case 0:
		t.Attributes = map[string]string{}
	case 1:
		t.Attributes = map[string]string{}
		for range r.IntN(6) + 1 {
			t.Attributes[jsoncheck.String(r)] = jsoncheck.String(r)
		}
	}
	switch r.IntN(3) {
	case 0:
		t.Tags = []string{}
	case 1:
		for range r.IntN(4) + 1 {
			t.Tags = append(t.Tags, jsoncheck.String(r))
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
	for _, s := range jsoncheck.StrangeStrings {
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
