package watchdog

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Match is a condition over a ticket's or an alert's fields, written in the
// SLA file as a mapping (a policy's match, a notification route's match):
//
//	match: {tier: gold, attributes.group: [billing, payments], not: {priority: low}}
//
// Every key must hold (AND); a key's value is one text or a list of them,
// and holds when the subject has any of them (compared without regard to
// case); a subject that lacks a field (an attribute the ticket does not
// have) matches no value, so a `not` on it holds; for a field with several
// values (tags) the key holds when any value is listed; `not` negates a
// sub-match. The zero Match (an empty or absent mapping) matches all.
type Match struct {
	terms []matchTerm
	not   *Match
}

type matchTerm struct {
	key    string
	values []string
	line   int
}

// MatchSubject is what a Match is evaluated against: the values a subject
// has for a key ("tier", "priority", "tags", "attributes.group", ...);
// none when the subject lacks the field.
type MatchSubject interface {
	MatchValues(key string) []string
}

// MatchFields is a MatchSubject held in a map, key to values.
type MatchFields map[string][]string

// MatchValues returns f[key].
func (f MatchFields) MatchValues(key string) []string { return f[key] }

// Matches reports whether s satisfies every key of m and not its `not`.
func (m Match) Matches(s MatchSubject) bool {
	for _, t := range m.terms {
		if !anyEqualFold(s.MatchValues(t.key), t.values) {
			return false
		}
	}
	return m.not == nil || !m.not.Matches(s)
}

// IsZero reports whether m matches everything.
func (m Match) IsZero() bool { return len(m.terms) == 0 && m.not == nil }

// Keys returns the keys m tests, its `not` included, in the order written.
func (m Match) Keys() []string {
	var out []string
	for _, t := range m.terms {
		out = append(out, t.key)
	}
	if m.not != nil {
		out = append(out, m.not.Keys()...)
	}
	return out
}

// String shows m as the SLA file would write it, e.g.
// `{tier: gold, tags: [vip, urgent], not: {priority: low}}`; `{}` matches all.
func (m Match) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, t := range m.terms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.key + ": ")
		if len(t.values) == 1 {
			b.WriteString(t.values[0])
		} else {
			b.WriteString("[" + strings.Join(t.values, ", ") + "]")
		}
	}
	if m.not != nil {
		if len(m.terms) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("not: " + m.not.String())
	}
	b.WriteByte('}')
	return b.String()
}

// eachTerm calls f for every key of m and of its `not`, with the values and
// the line they were written on, so that a caller can check the values of
// the keys it knows (stage names, clock names) and report them by line.
func (m Match) eachTerm(f func(key string, values []string, line int)) {
	for _, t := range m.terms {
		f(t.key, t.values, t.line)
	}
	if m.not != nil {
		m.not.eachTerm(f)
	}
}

func anyEqualFold(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(strings.TrimSpace(h), w) {
				return true
			}
		}
	}
	return false
}

// attributePrefix starts the key of a ticket attribute in a match.
const attributePrefix = "attributes."

// matchAttributes, among the keys passed to parser.match, allows every
// `attributes.<name>` key.
const matchAttributes = attributePrefix + "*"

// AttributeName is the form of an attribute's name: 1–64 bytes of lower
// case letters, digits, '_', '.' and '-'.
var AttributeName = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

// match parses e's value, a mapping, into a Match allowing the given keys
// (matchAttributes for `attributes.<name>`), and `not`. Problems are
// reported with their lines; the keys that parsed still form the Match.
func (ps *parser) match(e *entry, keys ...string) Match {
	entries, ok := ps.mapping(e.val, e.path, strings.ToLower)
	if !ok {
		return Match{}
	}
	var m Match
	for i := range entries {
		me := &entries[i]
		switch {
		case me.norm == "not":
			sub := ps.match(me, keys...)
			if sub.IsZero() {
				ps.add(me.key.Line, me.path, "an empty not holds for nothing; remove it or name what it excludes")
				continue
			}
			m.not = &sub
		case strings.HasPrefix(me.norm, attributePrefix) && slices.Contains(keys, matchAttributes):
			name := strings.TrimPrefix(me.name, attributePrefix)
			if !AttributeName.MatchString(name) {
				ps.add(me.key.Line, me.path, "attribute name %s must be 1-64 characters of a-z, 0-9, '_', '.', '-'", show(name))
				continue
			}
			m.addTerm(ps, me, attributePrefix+name)
		case slices.Contains(keys, me.norm):
			m.addTerm(ps, me, me.norm)
		case me.norm == "attributes" && slices.Contains(keys, matchAttributes):
			ps.add(me.key.Line, me.path, "write each attribute as its own key, e.g. attributes.group: billing")
		default:
			known := append([]string{"not"}, keys...)
			for i, k := range known {
				if k == matchAttributes {
					known[i] = attributePrefix + "<name>"
				}
			}
			ps.unknown(me, known...)
		}
	}
	return m
}

// addTerm parses a key's value: one text or a non-empty list of texts.
func (m *Match) addTerm(ps *parser, e *entry, key string) {
	var nodes []*yaml.Node
	if e.val.Kind == yaml.SequenceNode {
		items, ok := ps.sequence(e.val, e.path)
		if !ok {
			return
		}
		if len(items) == 0 {
			ps.add(e.val.Line, e.path, "an empty list matches nothing; list at least one value")
			return
		}
		nodes = items
	} else {
		nodes = []*yaml.Node{e.val}
	}
	t := matchTerm{key: key, line: e.key.Line}
	for _, n := range nodes {
		v, ok := ps.str(n, e.path)
		if !ok {
			continue
		}
		if v = strings.TrimSpace(v); v == "" {
			ps.add(n.Line, e.path, "empty value; a match value must name something")
			continue
		}
		t.values = append(t.values, v)
	}
	if len(t.values) == len(nodes) {
		m.terms = append(m.terms, t)
	}
}
