package jsonappend

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// floats json.Marshal writes in both notations, at and around the
// boundaries where it changes from one to the other, and the values it
// refuses.
var floats = []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 85, 100, 1.0 / 3, 2.0 / 3, 0.8500000000000001, 1e-6,
	0.999999e-6, 1e-7, -1e-7, 1e20, 1e21, 9.999999999999999e20, 1.5e21, -1e21, 123456789012345678, 5e-324,
	math.MaxFloat64, math.SmallestNonzeroFloat64, 12.34, 0.1 + 0.2, math.NaN(), math.Inf(1), math.Inf(-1)}

func checkFloat(t *testing.T, f float64) {
	t.Helper()
	want, err := json.Marshal(f)
	got, ok := Float([]byte("x"), f, true)
	if ok != (err == nil) {
		t.Fatalf("Float(%v) ok = %v, json.Marshal error = %v", f, ok, err)
	}
	if ok && !bytes.Equal(got, append([]byte("x"), want...)) {
		t.Fatalf("Float(%v) = %s, json.Marshal %s", f, got[1:], want)
	}
	if _, ok := Float(nil, f, false); ok {
		t.Fatalf("Float(%v) turned ok false to true", f)
	}
}

func TestFloatMatchesMarshal(t *testing.T) {
	for _, f := range floats {
		checkFloat(t, f)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		// Every magnitude, and values rounded as the alert details are.
		f := math.Float64frombits(r.Uint64())
		checkFloat(t, f)
		checkFloat(t, math.Round(r.Float64()*1e6)/100)
	}
}

func FuzzFloat(f *testing.F) {
	for _, v := range floats {
		f.Add(v)
	}
	f.Fuzz(checkFloat)
}

func TestStringAndTimesMatchMarshal(t *testing.T) {
	for _, s := range []string{"", "plain", "<b>&amp;</b>", `" \ `, "\x00\x1f\x7f", "日本", "\xff", "\u2028\u2029"} {
		want, _ := json.Marshal(s)
		if got := String(nil, s); !bytes.Equal(got, want) {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	}
	at := time.Date(2026, 12, 6, 14, 30, 0, 120000000, time.FixedZone("", 3600))
	for _, tm := range []time.Time{at, at.UTC(), at.Truncate(time.Second), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))} {
		want, err := json.Marshal(tm)
		got, ok := Time(nil, tm, true)
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Errorf("Time(%v) = %s (ok %v), json.Marshal %s (%v)", tm, got, ok, want, err)
		}
	}
	if got, ok := TimePtr(nil, nil, true); !ok || string(got) != "null" {
		t.Errorf("TimePtr(nil) = %s, %v", got, ok)
	}
}
