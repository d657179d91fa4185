package websocket

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	watchdog "github.com/ticket-watchdog/watchdog"
)

// oddStrings are strings json.Marshal escapes or alters, and plain ones.
var oddStrings = []string{"", "T-1", "gold", "<b>&amp;</b>", `quote " and \ backslash`, "tab\tnew\nline",
	"\x00\x1f\x7f", "日本語", "emoji 🚨", "\xff\xfe", "\u2028\u2029", "€"}

func oddString(r *rand.Rand) string {
	if r.IntN(3) > 0 {
		return oddStrings[r.IntN(len(oddStrings))]
	}
	b := make([]byte, r.IntN(10))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func oddTime(r *rand.Rand) time.Time {
	t := time.Unix(r.Int64N(2e10)-1e10, r.Int64N(1e9)).UTC()
	switch r.IntN(4) {
	case 0:
		t = t.Truncate(time.Second)
	case 1:
		t = t.In(time.FixedZone("", (r.IntN(48)-24)*1800))
	case 2:
		t = t.Truncate(time.Millisecond)
	}
	return t
}

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
		TicketID: oddString(r), SLAType: oddString(r), State: oddString(r),
		Details:   watchdog.AlertDetails{ElapsedMinutes: oddFloat(r), TargetMinutes: oddFloat(r), PercentUsed: oddFloat(r), Message: oddString(r)},
		Timestamp: oddTime(r), EscalationLevel: r.IntN(7) - 1, Priority: oddString(r), CustomerTier: oddString(r),
		Stage: oddString(r), DueAt: oddTime(r), AlertID: r.Int64N(1<<40) - 5,
	}
	if r.IntN(2) == 0 {
		m.Policy, m.AcknowledgedBy = oddString(r), oddString(r)
	}
	if r.IntN(2) == 0 {
		at := oddTime(r)
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
	for _, s := range oddStrings {
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
