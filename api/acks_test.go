package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// The ack routes: acknowledge, see it on the ticket, withdraw; every
// refusal is a 4xx naming the problem, and the traffic matches the
// OpenAPI document (contract.Serve checks it).
func TestAckRoutes(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	mustStatus(t, e.do(t, "POST", "/tickets", seedExample), http.StatusOK)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r := e.do(t, "POST", "/tickets/1/ack", `{"sla_type":"resolution","by":"alice","note":"on it","until":"`+until+`"}`)
	mustStatus(t, r, http.StatusOK)
	got := decode[struct {
		TicketID string `json:"ticket_id"`
		Acks     []struct {
			SLAType string `json:"sla_type"`
			By      string `json:"by"`
			Until   string `json:"until"`
		} `json:"acks"`
	}](t, r.body)
	if got.TicketID != "1" || len(got.Acks) != 1 || got.Acks[0].SLAType != "resolution" || got.Acks[0].By != "alice" || got.Acks[0].Until != until {
		t.Errorf("ack answer %s", r.body)
	}
	tk := e.do(t, "GET", "/tickets/1", "")
	if !strings.Contains(string(tk.body), `"acks":[{"sla_type":"resolution","by":"alice","note":"on it"`) {
		t.Errorf("ticket does not show the ack: %s", tk.body)
	}
	// Every running clock.
	r = e.do(t, "POST", "/tickets/1/ack", `{"by":"bob"}`)
	mustStatus(t, r, http.StatusOK)
	if n := strings.Count(string(r.body), `"by":"bob"`); n != 2 {
		t.Errorf("ack of every clock: %s", r.body)
	}
	r = e.do(t, "DELETE", "/tickets/1/ack?sla_type=response", "")
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"removed":1`) {
		t.Errorf("delete: %s", r.body)
	}
	mustStatus(t, e.do(t, "DELETE", "/tickets/1/ack", ""), http.StatusOK)

	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/tickets/1/ack", `{"by":"a","until":"` + past + `"}`, http.StatusUnprocessableEntity, `"field":"until"`},
		{"POST", "/tickets/1/ack", `{"by":"a","until":"tomorrow"}`, http.StatusUnprocessableEntity, `"field":"until"`},
		{"POST", "/tickets/1/ack", `{"note":"x"}`, http.StatusUnprocessableEntity, `"field":"by"`},
		{"POST", "/tickets/1/ack", `{"by":"a","sla_type":"lunch"}`, http.StatusUnprocessableEntity, `"field":"sla_type"`},
		{"POST", "/tickets/1/ack", `{"by":"a","extra":1}`, http.StatusBadRequest, `unknown field`},
		{"POST", "/tickets/1/ack", `{"by":`, http.StatusBadRequest, `JSON object`},
		{"POST", "/tickets/nope/ack", `{"by":"a"}`, http.StatusNotFound, `ticket \"nope\" not found`},
		{"DELETE", "/tickets/nope/ack", ``, http.StatusNotFound, `not found`},
		{"DELETE", "/tickets/1/ack?sla_type=lunch", ``, http.StatusBadRequest, `sla_type`},
		{"DELETE", "/tickets/1/ack?sla_type=%zz", ``, http.StatusBadRequest, `malformed`},
	} {
		r := e.do(t, c.method, c.path, c.body)
		if r.code != c.code || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s %s %s: %d %s, want %d with %s", c.method, c.path, c.body, r.code, r.body, c.code, c.want)
		}
	}
	// A stopped clock: resolved, so the resolution clock is missed.
	mustStatus(t, e.do(t, "POST", "/tickets", `{"id":"1","priority":"high","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T13:00:00Z","status":"resolved","customer_tier":"gold"}`), http.StatusOK)
	r = e.do(t, "POST", "/tickets/1/ack", `{"sla_type":"resolution","by":"a"}`)
	if r.code != http.StatusConflict || !strings.Contains(string(r.body), "not running") {
		t.Errorf("stopped clock: %d %s", r.code, r.body)
	}
	if r := e.do(t, "POST", "/tickets/1/ack", `{"by":"a"}`); r.code != http.StatusConflict {
		t.Errorf("no running clock: %d %s", r.code, r.body)
	}
}

// An acknowledgement of a next-reply clock holds for the cycle running
// then, named by its start; a later cycle is not acknowledged, and an
// idle cycle clock cannot be acknowledged.
func TestAckOfACycleClock(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	p, err := watchdog.ParsePolicy([]byte(cyclesPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	created := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	ticket := func(updated time.Duration, msgs string) string {
		return `{"id":"c","priority":"high","created_at":"` + created.Format(time.RFC3339) + `","updated_at":"` +
			created.Add(updated).Format(time.RFC3339) + `","status":"open","customer_tier":"gold","tags":["vip"],"messages":[` + msgs + `]}`
	}
	at := func(d time.Duration) string { return created.Add(d).Format(time.RFC3339) }
	// First response by an agent; no customer message yet: next reply idle.
	mustStatus(t, e.do(t, "POST", "/tickets", ticket(0, `{"at":"`+at(time.Minute)+`","author":"agent"}`)), http.StatusOK)
	r := e.do(t, "POST", "/tickets/c/ack", `{"sla_type":"next_reply","by":"alice"}`)
	mustStatus(t, r, http.StatusConflict)
	// The customer writes: a cycle starts at 2 minutes.
	mustStatus(t, e.do(t, "POST", "/tickets", ticket(2*time.Minute, `{"at":"`+at(2*time.Minute)+`","author":"customer"}`)), http.StatusOK)
	r = e.do(t, "POST", "/tickets/c/ack", `{"sla_type":"next_reply","by":"alice"}`)
	mustStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"sla_type":"next_reply"`) || !strings.Contains(string(r.body), `"cycle_started_at":"`+at(2*time.Minute)+`"`) {
		t.Fatalf("ack of the running cycle: %s", r.body)
	}
	// The agent answers and the customer writes again: a new cycle, not
	// acknowledged.
	mustStatus(t, e.do(t, "POST", "/tickets", ticket(4*time.Minute,
		`{"at":"`+at(3*time.Minute)+`","author":"agent"},{"at":"`+at(4*time.Minute)+`","author":"customer"}`)), http.StatusOK)
	v, err := e.eng.Ticket(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	nr := v.SLAClocks[watchdog.NextReply]
	if nr == nil || nr.CycleStartedAt == nil || !nr.CycleStartedAt.Equal(created.Add(4*time.Minute)) {
		t.Fatalf("next reply after the second customer message: %+v", nr)
	}
	for _, a := range v.Acks {
		if a.SLAClock == watchdog.NextReply && a.Cycle == nr.CycleStartedAt.UnixMicro() {
			t.Errorf("the new cycle is acknowledged: %+v", a)
		}
	}
}
