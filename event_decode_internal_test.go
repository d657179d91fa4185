package watchdog

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The one-scan path of DecodeEventsBytes (decodeObjects, plainJSONString)
// must decode exactly what the item-wise path decodes, and give way to it
// for every document it cannot take whole.
func FuzzDecodeObjectsAgreesWithItems(f *testing.F) {
	for _, s := range []string{
		`[` + validItem + `,` + validItem + `]`,
		`[` + validItem + `,null]`,
		`[` + validItem + `,{}]`,
		`[{"ignored":1}]`,
		`[` + validItem + `,7]`,
		`[]`,
		`[{"id":"caf\u00e9","priority":"high","customer_tier":"gold","status":"open","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z"}]`,
		"[{\"id\":\"\xff\",\"priority\":\"high\",\"customer_tier\":\"gold\",\"status\":\"open\",\"created_at\":\"2025-06-18T12:00:00Z\",\"updated_at\":\"2025-06-18T12:00:00Z\"}]",
		`[{"id":"\ud800","priority":"high","customer_tier":"gold","status":"open","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z"}]`,
		`[{"ID":"a","Priority":"high","customer_tier":"gold","status":"open","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z","id":"b"}]`,
		`[{"id":"a","priority":null,"customer_tier":"gold","status":"open","created_at":"2025-06-18T12:00:00Z","updated_at":"2025-06-18T12:00:00Z"}]`,
		`[` + validItem + `] trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '[' {
			return
		}
		got, gotErr := DecodeEventsBytes(data)
		want, wantErr := decodeItems(data, '[')
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("events differ from the item-wise decoding (-item-wise +fast):\n%s", diff)
		}
		if diff := cmp.Diff(errText(wantErr), errText(gotErr)); diff != "" {
			t.Fatalf("errors differ from the item-wise decoding (-item-wise +fast):\n%s", diff)
		}
	})
}

const validItem = `{"id":"T-1","priority":"high","customer_tier":"gold","status":"open","created_at":"2025-06-18T12:00:00Z",` +
	`"updated_at":"2025-06-18T12:30:00.5+02:00","first_response_at":"2025-06-18T12:10:00Z","attributes":{"group":"billing"},` +
	`"tags":["vip"],"messages":[{"at":"2025-06-18T12:01:00Z","author":"customer"}]}`

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPlainJSONString(t *testing.T) {
	for raw, want := range map[string]bool{`"abc"`: true, `""`: true, `"a\"b"`: false, `"\u00e9"`: false, `7`: false, `"`: false, `null`: false} {
		if _, plain := plainJSONString([]byte(raw)); plain != want {
			t.Errorf("plainJSONString(%s) plain = %v, want %v", raw, plain, want)
		}
	}
}

// FuzzParseWireMatchesEncodingJSON: what parseWire takes, json.Unmarshal
// takes too, with the same raw value for every field: parseWire's decoder
// may refuse more than encoding/json (its path then decides), never less.
func FuzzParseWireMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`[` + validItem + `,` + validItem + `]`,
		`[` + validItem + `,null]`, `[` + validItem + `,{}]`, `[{"ignored":1}]`, `[` + validItem + `,7]`, `[]`, `[null]`,
		`[{"id":"a","id":"b"}]`, `[{"ID":"a","iD":"b","Id":"c"}]`, `[{"\u0069d":"a"}]`, `[{"ıd":"a","ſtatus":"x","K":"y"}]`, `[{"\u017ftatus":"x","\u212A":"y"}]`, `[{"STATUS":"x","Customer_Tier":"y"}]`,
		"[{\"id\":\"\xff\xfe\"}]", "[{\"id\":\"a\x01b\"}]", `[{"id":"\ud800\udc00"}]`, `[{"id":01}]`, `[{"id":-}]`,
		`[{"id":1e999,"priority":-0.0e+1}]`, `[{"id":[1,[2,{"a":{}}]],"tags":["a",null,3]}]`, `[{"id":"a",}]`, `[{"id":"a"},]`,
		`[{'id':'a'}]`, `[{"id":NaN}]`, `[{"id":tru}]`, `[{"id":"a"}]]`, `[{"id":"a"}] {}`, ` [ {"id" : "a" } ] `,
		"[{\"id\":\"a\"}]\x00", "\xef\xbb\xbf[{\"id\":\"a\"}]", `[{"attributes":{"a":"b","a":"c"},"messages":[{"at":"x","author":"agent"}]}]`,
		`[{"id":"\u0000","status":"\/\b\f\n\r\t\"\\"}]`, `[{"created_at":"2025-06-18T12:00:00Z","created_at":null}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := parseWire(data)
		if !ok {
			return
		}
		var want []wireEvent
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("parseWire took %q, which encoding/json refuses: %v", data, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("parseWire of %q differs from encoding/json (-encoding/json +parseWire):\n%s", data, diff)
		}
	})
}
