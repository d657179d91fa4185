package watchdog

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "empty"
		}
		return "a single value " + show(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "unknown"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// entry is one key/value pair of a mapping.
type entry struct {
	name string // the key as written
	norm string // the key as compared and stored
	path string
	key  *yaml.Node
	val  *yaml.Node // aliases followed
}

// mapping returns the entries of a mapping node, reporting non-scalar,
// empty, merge and duplicate keys (duplicates compare by norm). A null
// node is an empty mapping; any other kind is reported.
func (ps *parser) mapping(n *yaml.Node, path string, norm func(string) string) ([]entry, bool) {
	n = deref(n)
	if n == nil || isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		ps.add(n.Line, path, "must be a mapping, not %s", kindName(n))
		return nil, false
	}
	var out []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !ps.visit() {
			return out, false
		}
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			ps.add(k.Line, path, "keys must be plain names, not %s", kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			ps.add(k.Line, path, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		name := k.Value
		nk := norm(name)
		if strings.TrimSpace(name) == "" {
			ps.add(k.Line, path, "empty key")
			continue
		}
		ep := name
		if path != "" {
			ep = path + "." + name
		}
		if first, dup := seen[nk]; dup {
			if first.Value == name {
				ps.add(k.Line, ep, "duplicate key (first at line %d)", first.Line)
			} else {
				ps.add(k.Line, ep, "duplicate key: same as %s at line %d (keys are case-insensitive)", show(first.Value), first.Line)
			}
			continue
		}
		seen[nk] = k
		out = append(out, entry{name: name, norm: nk, path: ep, key: k, val: v})
	}
	return out, true
}

// sequence returns the items of a list node (aliases followed). A null node
// is an empty list; any other kind is reported.
func (ps *parser) sequence(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n == nil || isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		ps.add(n.Line, path, "must be a list, not %s", kindName(n))
		return nil, false
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, it := range n.Content {
		if !ps.visit() {
			return out, false
		}
		if it = deref(it); it != nil {
			out = append(out, it)
		}
	}
	return out, true
}

// str returns a scalar's text, reporting any other kind.
func (ps *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.add(n.Line, path, "must be a text value, not %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

// number returns a scalar's value as a finite float.
func (ps *parser) number(n *yaml.Node, path string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.add(n.Line, path, "must be a number, not %s", kindName(n))
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64)
	if err != nil || !finite(f) {
		ps.add(n.Line, path, "%s is not a number (use a fraction of the target such as 0.85)", show(n.Value))
		return 0, false
	}
	return f, true
}

func exact(s string) string { return s }

// yamlLine matches yaml.v3 error messages that carry a line number.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the problems yaml.v3 reports as parser (not
// scanner) errors. It numbers their lines from 0, so they are one short.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

func (ps *parser) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	for _, p := range yamlParserProblems {
		if msg == p {
			line++
			break
		}
	}
	ps.addErr(line, "", err, "%s", msg)
}

// unknown reports an unknown key, suggesting the closest known one.
func (ps *parser) unknown(e *entry, known ...string) {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(e.name), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		ps.add(e.key.Line, e.path, "unknown key %s (did you mean %s?)", show(e.name), best)
		return
	}
	ps.add(e.key.Line, e.path, "unknown key %s (want one of %s)", show(e.name), strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance between short keys, used only
// to suggest a correction for a typo.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
