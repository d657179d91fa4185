package websocket

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	watchdog "github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/jsonappend/jsoncheck"
)

func oddFloat(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return math.Round(r.Float64()*1e6) / 100
	case 1:
		return math.Float64frombits(r.Uint64())
	case 2:
		return []float64{0, 1, 0.85, 1e-7, 1e21, -3.5, math.Inf(1), math.NaN()}[r.IntN(8)]
	}
	return r.Float64()
}

func oddMessage(r *rand.Rand) Message {
	m := Message{
		TicketID: jsoncheck.String(r), SLAType: jsoncheck.String(r), State: jsoncheck.String(r),
		Details:   watchdog.AlertDetails{ElapsedMinutes: oddFloat(r), TargetMinutes: oddFloat(r), PercentUsed: oddFloat(r), Message: jsoncheck.String(r)},
		Timestamp: jsoncheck.Time(r), EscalationLevel: r.IntN(7) - 1, Priority: jsoncheck.String(r), CustomerTier: jsoncheck.String(r),
		Stage: jsoncheck.String(r), DueAt: jsoncheck.Time(r), AlertID: r.Int64N(1<<40) - 5,
	}
	if r.IntN(2) == 0 {
		m.Policy, m.AcknowledgedBy = jsoncheck.String(r), jsoncheck.String(r)
	}
	if r.IntN(2) == 0 {
		at := jsoncheck.Time(r)
		m.Cycle, m.CycleStartedAt = r.IntN(4), &at
	}
	return m
}

func checkMessage(t *testing.T, m Message) {
	t.Helper()
	want, err := json.Marshal(m)
	got, ok := appendMessage(nil, &m)
	if ok != (err == nil) {
		t.Fatalf("appendMessage ok = %v, json.Marshal error = %v, for %+v", ok, err, m)
	}
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("message differs:\n got %s\nwant %s", got, want)
	}
}

// TestMessageJSONMatchesMarshal: the hub's messages are what json.Marshal
// writes for a Message, byte for byte, for every field's shapes, and the
// values json.Marshal refuses are refused.
func TestMessageJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		checkMessage(t, oddMessage(r))
	}
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range []Message{{Timestamp: far}, {DueAt: far}, {CycleStartedAt: &far}, {Details: watchdog.AlertDetails{PercentUsed: math.NaN()}}} {
		if _, ok := appendMessage(nil, &m); ok {
			t.Errorf("appendMessage took what json.Marshal refuses: %+v", m)
		}
	}
	// encodeMessage is a real alert's message.
	started := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	a := watchdog.Alert{ID: 42, TicketID: "T-1", SLAClock: watchdog.NextReply, Stage: "breach", State: "breach", Cycle: 2,
		CycleStartedAt: &started, DueAt: started.Add(time.Hour), FiredAt: started.Add(time.Hour + time.Second),
		EscalationLevel: 1, Priority: "high", CustomerTier: "gold", Target: time.Hour, Elapsed: time.Hour, Message: "breached", Policy: "p"}
	want, err := json.Marshal(MessageFor(a))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := encodeMessage(a); err != nil || !bytes.Equal(got, want) {
		t.Errorf("encodeMessage = %s, %v; want %s", got, err, want)
	}
}

// FuzzMessageJSON holds appendMessage to json.Marshal for arbitrary values.
func FuzzMessageJSON(f *testing.F) {
	for _, s := range jsoncheck.StrangeStrings {
		f.Add(s, s, 0.85, int64(1750248000), 3)
	}
	f.Fuzz(func(t *testing.T, a, b string, x float64, sec int64, n int) {
		at := time.Unix(sec%(1<<36), 0).UTC()
		m := Message{TicketID: a, SLAType: b, State: a + b, Details: watchdog.AlertDetails{ElapsedMinutes: x, TargetMinutes: -x, PercentUsed: x / 3, Message: b},
			Timestamp: at, EscalationLevel: n, Priority: b, CustomerTier: a, Stage: b, DueAt: at, AlertID: sec, Policy: a, Cycle: n, CycleStartedAt: &at, AcknowledgedBy: b}
		checkMessage(t, m)
	})
}

func BenchmarkEncodeMessage(b *testing.B) {
	started := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	a := watchdog.Alert{ID: 42, TicketID: "LATE-abc123-000042", SLAClock: watchdog.Response, Stage: "alert", State: "alert",
		DueAt: started, FiredAt: started.Add(3 * time.Millisecond), EscalationLevel: 1, Priority: "high", CustomerTier: "gold",
		Target: 5 * time.Second, Elapsed: 4250 * time.Millisecond, Message: "85% of the response target used", Policy: "default"}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeMessage(a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(MessageFor(a)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
