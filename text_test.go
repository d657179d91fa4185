package watchdog

import "testing"

func TestLossyJSONString(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		lossy bool
	}{
		{`"plain"`, false},
		{`"emoji \ud83d\ude00 as a pair"`, false},
		{`"literal ` + "\uFFFD" + ` and escaped \ufffd replacement characters"`, false},
		{`"escaped backslash then u: \\ud800"`, false},
		{`"é ü 中"`, false},
		{"\"bad byte \xff\"", true},
		{"\"truncated \xc3\"", true},
		{`"lone high \ud800"`, true},
		{`"lone high then text \ud800x"`, true},
		{`"high then high \ud800\ud800"`, true},
		{`"lone low \udc00"`, true},
	} {
		if got := lossyJSONString([]byte(tc.raw)); got != tc.lossy {
			t.Errorf("lossyJSONString(%q) = %v, want %v", tc.raw, got, tc.lossy)
		}
	}
}

func TestDecodeKeepsValidUnicode(t *testing.T) {
	evs, err := DecodeEventsBytes([]byte(`{"id":"\ud83d\ude00-` + "\uFFFD" + `","priority":"high","customer_tier":"gold","status":"open","created_at":"2026-01-05T09:00:00Z","updated_at":"2026-01-05T09:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "\U0001F600-\uFFFD"; evs[0].ID != want {
		t.Errorf("id %q, want %q", evs[0].ID, want)
	}
}
