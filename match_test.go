package watchdog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// parseTestMatch parses the value of the first key of src as a match.
func parseTestMatch(t *testing.T, src string, keys ...string) (Match, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	ps := &parser{}
	entries, _ := ps.mapping(doc.Content[0], "", strings.ToLower)
	if len(entries) == 0 {
		t.Fatalf("no entry in %q", src)
	}
	m := ps.match(&entries[0], keys...)
	return m, ps.err()
}

var policyMatchKeys = []string{"tier", "priority", "tags", matchAttributes}

func TestMatchRules(t *testing.T) {
	gold := MatchFields{"tier": {"Gold"}, "priority": {"high"}, "tags": {"vip", "eu"},
		"attributes.group": {"billing"}, "attributes.channel": {"email"}}
	silver := MatchFields{"tier": {"silver"}, "priority": {"low"}}
	cases := []struct {
		name, src    string
		gold, silver bool
	}{
		{"absent match holds for all", "match:", true, true},
		{"empty match holds for all", "match: {}", true, true},
		{"one value, any case", "match: {tier: GOLD}", true, false},
		{"any of a list", "match: {tier: [silver, bronze]}", false, true},
		{"every key must hold", "match: {tier: gold, priority: low}", false, false},
		{"attribute", "match: {attributes.group: [payments, billing]}", true, false},
		{"a missing attribute matches no value", "match: {attributes.group: billing}", true, false},
		{"not on a missing attribute holds", "match: {not: {attributes.group: billing}}", false, true},
		{"tags hold when any listed tag is present", "match: {tags: [urgent, vip]}", true, false},
		{"tags without a listed one", "match: {tags: urgent}", false, false},
		{"not negates a sub-match", "match: {not: {priority: low}}", true, false},
		{"not beside keys", "match: {attributes.channel: email, not: {priority: low}}", true, false},
		{"nested not", "match: {not: {not: {tier: silver}}}", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := parseTestMatch(t, c.src, policyMatchKeys...)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := m.Matches(gold); got != c.gold {
				t.Errorf("%s on gold = %v, want %v", m, got, c.gold)
			}
			if got := m.Matches(silver); got != c.silver {
				t.Errorf("%s on silver = %v, want %v", m, got, c.silver)
			}
		})
	}
}

func TestMatchErrorsNameLineAndKey(t *testing.T) {
	cases := []struct{ src, want string }{
		{"match:\n  tier: gold\n  prority: high\n", `line 3: match.prority: unknown key "prority" (did you mean priority?)`},
		{"match:\n  status: open\n", `line 2: match.status: unknown key "status" (want one of not, tier, priority, tags, attributes.<name>)`},
		{"match:\n  attributes.Group: billing\n", `line 2: match.attributes.Group: attribute name "Group" must be`},
		{"match:\n  attributes: {group: billing}\n", "line 2: match.attributes: write each attribute as its own key"},
		{"match:\n  tier: []\n", "line 2: match.tier: an empty list matches nothing"},
		{"match:\n  tier: {a: b}\n", "line 2: match.tier: must be a text value, not a mapping"},
		{"match:\n  tier: [gold, [x]]\n", "line 2: match.tier: must be a text value, not a list"},
		{"match:\n  tier: ''\n", "line 2: match.tier: empty value"},
		{"match:\n  not: {}\n", "line 2: match.not: an empty not holds for nothing"},
		{"match:\n  not:\n    tyer: gold\n", `line 3: match.not.tyer: unknown key "tyer" (did you mean tier?)`},
		{"match: [tier]\n", "line 1: match: must be a mapping, not a list"},
		{"match:\n  tier: gold\n  Tier: silver\n", "line 3: match.Tier: duplicate key"},
	}
	for _, c := range cases {
		_, err := parseTestMatch(t, c.src, policyMatchKeys...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.src, err, c.want)
		}
	}
}

func TestMatchShowsAndListsItsKeys(t *testing.T) {
	m, err := parseTestMatch(t, "match: {tier: gold, tags: [vip, eu], not: {priority: low}}", policyMatchKeys...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.String(), "{tier: gold, tags: [vip, eu], not: {priority: low}}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"tier", "tags", "priority"}, m.Keys()); diff != "" {
		t.Errorf("Keys() (-want +got):\n%s", diff)
	}
	var lines []int
	m.eachTerm(func(key string, values []string, line int) { lines = append(lines, line) })
	if diff := cmp.Diff([]int{1, 1, 1}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if (Match{}).String() != "{}" || !(Match{}).IsZero() || !(Match{}).Matches(MatchFields{}) {
		t.Error("the zero Match must show as {} and match everything")
	}
}
