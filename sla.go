package watchdog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"
)

// Policy is a loaded SLA file: targets by (tier, priority), stage fractions,
// status sets and calendars. A Policy is not modified after it is built, so
// it may be shared between goroutines; WithThresholds returns a copy.
type Policy struct {
	Thresholds Thresholds
	// Escalation holds further stages after breach, as fractions of the
	// target, ascending and above Thresholds.Breach.
	Escalation []float64
	Statuses   StatusSets
	// Calendars by name, as declared in the file.
	Calendars map[string]*Calendar
	// Tiers by lower-case name.
	Tiers map[string]*TierPolicy
}

// Thresholds are the fractions of a target at which the alert and breach
// stages fire (the seed's ALERT_THRESHOLD and BREACH_THRESHOLD).
type Thresholds struct {
	Alert  float64
	Breach float64
}

// StatusSets classify ticket statuses for the clocks. Matching is
// case-insensitive.
type StatusSets struct {
	AwaitingResponse []string
	Paused           []string
	Resolved         []string
}

// TierPolicy is one customer tier: its calendar (nil for 24x7) and targets by
// lower-case priority.
type TierPolicy struct {
	Calendar   *Calendar
	Priorities map[string]Targets
}

// Targets are the response and resolution targets of a (tier, priority), in
// business time of the tier's calendar.
type Targets struct {
	Response   time.Duration
	Resolution time.Duration
}

// Target returns the target of one clock.
func (t Targets) Target(c ClockKind) time.Duration {
	if c == Response {
		return t.Response
	}
	return t.Resolution
}

// Default thresholds and status sets, as in the seed.
var (
	DefaultThresholds = Thresholds{Alert: 0.85, Breach: 1.0}
	DefaultStatuses   = StatusSets{
		AwaitingResponse: []string{"new", "open"},
		Paused:           []string{"pending", "on_hold", "waiting_on_customer"},
		Resolved:         []string{"resolved", "closed", "solved"},
	}
)

// ErrInvalidPolicy reports an SLA file or threshold override that does not
// parse or validate. The error is a *PolicyError listing every problem.
var ErrInvalidPolicy = errors.New("watchdog: invalid SLA policy")

// SeedPolicy is the Python seed's sla_config.yaml, unchanged: the policy
// DefaultPolicy returns when no SLA file is configured.
const SeedPolicy = `tiers:
  gold:
    high:
      response: 30
      resolution: 180
    medium:
      response: 60
      resolution: 240
    low:
      response: 120
      resolution: 360
`

// Limits on an SLA file. They keep a hostile or mistaken file from costing
// unbounded memory or time.
const (
	// MaxPolicySize is the largest SLA file ParsePolicy accepts, in bytes.
	MaxPolicySize = 1 << 20
	// MaxTarget is the longest response or resolution target.
	MaxTarget = 365 * 24 * time.Hour
	// maxFraction bounds thresholds and escalation steps (100 times the target).
	maxFraction = 100.0
	// maxEscalation bounds the number of escalation steps.
	maxEscalation = 20
	// maxIssues bounds the problems a PolicyError lists.
	maxIssues = 50
	// maxVisits bounds the YAML nodes visited, aliases included, so that a
	// small file of nested aliases cannot expand into a huge policy.
	maxVisits = 200_000
)

// PolicyIssue is one problem in an SLA file: where it is and what is wrong.
type PolicyIssue struct {
	// Line is the 1-based line in the file; 0 when unknown.
	Line int
	// Path is the key path, such as "tiers.gold.high.response" or
	// "escalation[1]"; empty for the whole file.
	Path string
	// Message says what is wrong and, where it helps, what is expected.
	Message string
	// Err is the underlying cause, if any (such as NewCalendar's error).
	Err error
}

// String formats the issue as "line 7: tiers.gold.high.response: message".
func (i PolicyIssue) String() string {
	var b strings.Builder
	if i.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", i.Line)
	}
	if i.Path != "" {
		b.WriteString(i.Path)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// PolicyError is the error ParsePolicy returns for a file that does not
// parse or validate. It lists every problem found, in line order, and
// matches ErrInvalidPolicy with errors.Is.
type PolicyError struct {
	// File names the SLA file when known (LoadPolicyFile sets it).
	File string
	// Issues are the problems, at least one.
	Issues []PolicyIssue
	// Omitted counts further problems left out of Issues.
	Omitted int
}

// Error lists the issues on one line, separated by "; ".
func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("sla file")
	if e.File != "" {
		b.WriteString(" ")
		b.WriteString(e.File)
	}
	b.WriteString(": ")
	for i, is := range e.Issues {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(is.String())
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "; and %d more", e.Omitted)
	}
	return b.String()
}

// Is reports whether target is ErrInvalidPolicy.
func (e *PolicyError) Is(target error) bool { return target == ErrInvalidPolicy }

// Unwrap returns the underlying causes of the issues that have one.
func (e *PolicyError) Unwrap() []error {
	var errs []error
	for _, is := range e.Issues {
		if is.Err != nil {
			errs = append(errs, is.Err)
		}
	}
	return errs
}

// DefaultPolicy returns the seed's policy (SeedPolicy): gold high, medium
// and low targets on a 24x7 calendar with the default thresholds and
// statuses. Each call returns a new Policy.
func DefaultPolicy() *Policy {
	p, err := ParsePolicy([]byte(SeedPolicy))
	if err != nil {
		// SeedPolicy is a constant checked by the tests.
		panic("watchdog: seed policy does not parse: " + err.Error())
	}
	return p
}

// LoadPolicyFile reads and parses the SLA file at path. A file that does not
// validate gives a *PolicyError naming the file.
func LoadPolicyFile(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sla file: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit so that an oversized file is reported
	// as such rather than cut short.
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("sla file %s: %w", path, err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) {
			pe.File = path
		}
		return nil, err
	}
	return p, nil
}

// ParsePolicy parses and validates an SLA file (design §4). The seed's
// format, tiers of priorities with integer-minute targets, loads unchanged;
// thresholds, escalation, statuses and calendars are optional. Unknown and
// duplicate keys are errors, so a typo never silently drops a target. On
// failure the error is a *PolicyError listing every problem with its line
// and key path.
func ParsePolicy(data []byte) (*Policy, error) {
	ps := &parser{}
	p := ps.parse(data)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// WithThresholds returns a copy of the policy with the alert and breach
// fractions replaced, as the seed's ALERT_THRESHOLD and BREACH_THRESHOLD
// environment variables do. It fails when 0 < alert < breach does not hold,
// or when an escalation step is not above the new breach fraction.
func (p *Policy) WithThresholds(alert, breach float64) (*Policy, error) {
	if msg := checkThresholds(alert, breach); msg != "" {
		return nil, &PolicyError{Issues: []PolicyIssue{{Path: "thresholds", Message: msg}}}
	}
	for i, f := range p.Escalation {
		if f <= breach {
			return nil, &PolicyError{Issues: []PolicyIssue{{
				Path:    fmt.Sprintf("escalation[%d]", i),
				Message: fmt.Sprintf("%s must be above the breach threshold %s", fmtFloat(f), fmtFloat(breach)),
			}}}
		}
	}
	q := *p
	q.Thresholds = Thresholds{Alert: alert, Breach: breach}
	q.Escalation = append([]float64(nil), p.Escalation...)
	return &q, nil
}

// Stages lists the policy's stages in ascending order of fraction: alert,
// breach, then escalation-1, escalation-2, ...
func (p *Policy) Stages() []Stage {
	st := []Stage{{Name: StageAlert, Fraction: p.Thresholds.Alert}, {Name: StageBreach, Fraction: p.Thresholds.Breach}}
	for i, f := range p.Escalation {
		st = append(st, Stage{Name: EscalationStageName(i + 1), Fraction: f})
	}
	sort.SliceStable(st, func(i, j int) bool { return st[i].Fraction < st[j].Fraction })
	return st
}

// Lookup returns the targets and calendar for a (tier, priority), matched
// case-insensitively. When the policy has none, ok is false and reason says
// why, for display.
func (p *Policy) Lookup(tier, priority string) (t Targets, cal *Calendar, reason string, ok bool) {
	if p == nil {
		return Targets{}, nil, "no SLA policy loaded", false
	}
	tp := p.Tiers[normKey(tier)]
	if tp == nil {
		return Targets{}, nil, "no SLA policy for customer tier " + quote(tier), false
	}
	t, found := tp.Priorities[normKey(priority)]
	if !found {
		return Targets{}, nil, "no SLA policy for priority " + quote(priority) + " in tier " + quote(tier), false
	}
	return t, tp.Calendar, "", true
}

// PolicyRow is one (tier, priority) of a policy, for display.
type PolicyRow struct {
	Tier       string
	Priority   string
	Response   time.Duration
	Resolution time.Duration
	// Calendar is the tier's calendar name, "24x7" when it has none.
	Calendar string
}

// String formats the row as "gold/high: response 30m, resolution 3h (24x7)".
func (r PolicyRow) String() string {
	return fmt.Sprintf("%s/%s: response %s, resolution %s (%s)",
		r.Tier, r.Priority, shortDuration(r.Response), shortDuration(r.Resolution), r.Calendar)
}

// Summary lists every (tier, priority) of the policy with its targets and
// calendar. Tiers are in name order; priorities from most to least urgent
// for the usual names (critical, urgent, high, medium, normal, low), then
// any others in name order.
func (p *Policy) Summary() []PolicyRow {
	tiers := make([]string, 0, len(p.Tiers))
	for name := range p.Tiers {
		tiers = append(tiers, name)
	}
	sort.Strings(tiers)
	var rows []PolicyRow
	for _, tier := range tiers {
		tp := p.Tiers[tier]
		if tp == nil {
			continue
		}
		prios := make([]string, 0, len(tp.Priorities))
		for name := range tp.Priorities {
			prios = append(prios, name)
		}
		sort.Slice(prios, func(i, j int) bool {
			ri, rj := priorityRank(prios[i]), priorityRank(prios[j])
			if ri != rj {
				return ri < rj
			}
			return prios[i] < prios[j]
		})
		for _, prio := range prios {
			t := tp.Priorities[prio]
			rows = append(rows, PolicyRow{
				Tier: tier, Priority: prio,
				Response: t.Response, Resolution: t.Resolution,
				Calendar: tp.Calendar.Name(),
			})
		}
	}
	return rows
}

func priorityRank(p string) int {
	switch p {
	case "critical":
		return 0
	case "urgent":
		return 1
	case "high":
		return 2
	case "medium":
		return 3
	case "normal":
		return 4
	case "low":
		return 5
	}
	return 6
}

// WriteSummary writes the policy as a table of tiers, priorities, targets
// and calendars, followed by its stages and status sets, for
// `watchdogd check-config`.
func (p *Policy) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIER\tPRIORITY\tRESPONSE\tRESOLUTION\tCALENDAR")
	for _, r := range p.Summary() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Tier, r.Priority, shortDuration(r.Response), shortDuration(r.Resolution), r.Calendar)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write policy summary: %w", err)
	}
	var b strings.Builder
	b.WriteString("stages:")
	for i, st := range p.Stages() {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s at %s%%", st.Name, fmtFloat(math.Round(st.Fraction*10000)/100))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "statuses: awaiting response %s; paused %s; resolved %s\n",
		strings.Join(p.Statuses.AwaitingResponse, ", "), strings.Join(p.Statuses.Paused, ", "), strings.Join(p.Statuses.Resolved, ", "))
	if len(p.Calendars) > 0 {
		names := make([]string, 0, len(p.Calendars))
		for name := range p.Calendars {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "calendars: %s\n", strings.Join(names, ", "))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write policy summary: %w", err)
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }

// shortDuration formats a target without zero trailing units: 30m, 3h,
// 1h30m, 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func inSet(set []string, status string) bool {
	for _, s := range set {
		if strings.EqualFold(s, status) {
			return true
		}
	}
	return false
}

// IsAwaitingResponse reports whether status awaits a first response.
func (s StatusSets) IsAwaitingResponse(status string) bool { return inSet(s.AwaitingResponse, status) }

// IsPaused reports whether status pauses both clocks.
func (s StatusSets) IsPaused(status string) bool { return inSet(s.Paused, status) }

// IsResolved reports whether status stops the resolution clock.
func (s StatusSets) IsResolved(status string) bool { return inSet(s.Resolved, status) }

// normKey is how tier and priority names are stored and looked up.
func normKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkThresholds returns what is wrong with an alert/breach pair, or "".
func checkThresholds(alert, breach float64) string {
	switch {
	case !finite(alert) || !finite(breach):
		return "alert and breach must be finite numbers"
	case alert <= 0:
		return fmt.Sprintf("alert %s must be above 0", fmtFloat(alert))
	case breach <= 0:
		return fmt.Sprintf("breach %s must be above 0", fmtFloat(breach))
	case alert >= breach:
		return fmt.Sprintf("alert %s must be below breach %s", fmtFloat(alert), fmtFloat(breach))
	case breach > maxFraction:
		return fmt.Sprintf("breach %s must be at most %s", fmtFloat(breach), fmtFloat(maxFraction))
	}
	return ""
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// show quotes a value from the file for a message, shortened when long.
func show(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "..."
	}
	return strconv.Quote(s)
}

const targetHint = "use minutes such as 30 or a duration such as 2h"

// parseTarget parses a target: whole minutes ("30", also when quoted) or a
// Go duration ("2h", "90m", "1h30m"), positive and at most MaxTarget.
func parseTarget(s string) (time.Duration, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, fmt.Errorf("is empty (%s)", targetHint)
	}
	if isInteger(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(MaxTarget/time.Minute) {
			return 0, fmt.Errorf("%s minutes is over the maximum of 365 days (525600 minutes)", show(v))
		}
		if n <= 0 {
			return 0, fmt.Errorf("%s must be positive", show(v))
		}
		return time.Duration(n) * time.Minute, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && finite(f) {
		return 0, fmt.Errorf("%s is not a whole number of minutes (use a duration string such as 90s)", show(v))
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s is not a duration (%s)", show(v), targetHint)
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%s must be positive", show(v))
	case d < time.Second:
		return 0, fmt.Errorf("%s is under the minimum of 1s", show(v))
	case d > MaxTarget:
		return 0, fmt.Errorf("%s is over the maximum of 365 days (8760h)", show(v))
	}
	return d, nil
}

func isInteger(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parser walks the YAML node tree of an SLA file, collecting issues.
type parser struct {
	issues  []PolicyIssue
	omitted int
	visits  int
	tooBig  bool
}

func (ps *parser) add(line int, path, format string, args ...any) {
	ps.addErr(line, path, nil, format, args...)
}

func (ps *parser) addErr(line int, path string, cause error, format string, args ...any) {
	if len(ps.issues) >= maxIssues {
		ps.omitted++
		return
	}
	ps.issues = append(ps.issues, PolicyIssue{Line: line, Path: path, Message: fmt.Sprintf(format, args...), Err: cause})
}

// count is the number of issues so far; a part of the file is valid when
// parsing it added none.
func (ps *parser) count() int { return len(ps.issues) + ps.omitted }

func (ps *parser) err() error {
	if len(ps.issues) == 0 {
		return nil
	}
	sort.SliceStable(ps.issues, func(i, j int) bool { return ps.issues[i].Line < ps.issues[j].Line })
	return &PolicyError{Issues: ps.issues, Omitted: ps.omitted}
}

// visit counts a node and reports false once the file has expanded to too
// many nodes.
func (ps *parser) visit() bool {
	ps.visits++
	if ps.visits > maxVisits {
		if !ps.tooBig {
			ps.tooBig = true
			ps.add(0, "", "too many entries once aliases are expanded (more than %d)", maxVisits)
		}
		return false
	}
	return true
}

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

func (ps *parser) parse(data []byte) *Policy {
	if len(data) > MaxPolicySize {
		ps.add(0, "", "larger than %d bytes", MaxPolicySize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.add(0, "", "empty: an SLA file needs a tiers mapping")
		} else {
			ps.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		// An empty document after a trailing "---" is harmless.
		if len(extra.Content) > 0 && !isNull(extra.Content[0]) {
			ps.add(extra.Content[0].Line, "", "more than one YAML document; an SLA file is a single document")
		}
	} else if !errors.Is(err, io.EOF) {
		ps.yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			ps.add(0, "", "empty: an SLA file needs a tiers mapping")
			return nil
		}
		root = root.Content[0]
	}
	root = deref(root)
	if root == nil || isNull(root) {
		ps.add(0, "", "empty: an SLA file needs a tiers mapping")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		ps.add(root.Line, "", "must be a mapping with a tiers key, not %s", kindName(root))
		return nil
	}
	entries, _ := ps.mapping(root, "", exact)

	p := &Policy{
		Thresholds: DefaultThresholds,
		Statuses: StatusSets{
			AwaitingResponse: append([]string(nil), DefaultStatuses.AwaitingResponse...),
			Paused:           append([]string(nil), DefaultStatuses.Paused...),
			Resolved:         append([]string(nil), DefaultStatuses.Resolved...),
		},
		Calendars: map[string]*Calendar{},
		Tiers:     map[string]*TierPolicy{},
	}
	var thresholds, escalation, tiers *entry
	declared := map[string]string{} // lower-case calendar name -> name as declared
	for i := range entries {
		e := &entries[i]
		switch e.name {
		case "thresholds":
			thresholds = e
		case "escalation":
			escalation = e
		case "statuses":
			ps.statuses(e, &p.Statuses)
		case "calendars":
			ps.calendars(e, p.Calendars, declared)
		case "tiers":
			tiers = e
		default:
			ps.unknown(e, "thresholds", "escalation", "statuses", "calendars", "tiers")
		}
	}
	if thresholds != nil {
		ps.thresholds(thresholds, &p.Thresholds)
	}
	if escalation != nil {
		p.Escalation = ps.escalation(escalation, p.Thresholds.Breach)
	}
	if tiers == nil {
		ps.add(root.Line, "tiers", "missing: an SLA file needs at least one tier")
	} else {
		ps.tiers(tiers, p, declared)
	}
	return p
}

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

func (ps *parser) thresholds(e *entry, t *Thresholds) {
	entries, ok := ps.mapping(e.val, e.path, exact)
	if !ok {
		return
	}
	valid := true
	for i := range entries {
		te := &entries[i]
		switch te.name {
		case "alert", "breach":
			f, ok := ps.number(te.val, te.path)
			if !ok {
				valid = false
				continue
			}
			if te.name == "alert" {
				t.Alert = f
			} else {
				t.Breach = f
			}
		default:
			ps.unknown(te, "alert", "breach")
		}
	}
	if !valid {
		return
	}
	if msg := checkThresholds(t.Alert, t.Breach); msg != "" {
		ps.add(e.val.Line, e.path, "%s", msg)
	}
}

func (ps *parser) escalation(e *entry, breach float64) []float64 {
	items, ok := ps.sequence(e.val, e.path)
	if !ok {
		return nil
	}
	if len(items) > maxEscalation {
		ps.add(e.val.Line, e.path, "%d steps is more than the maximum of %d", len(items), maxEscalation)
		return nil
	}
	var out []float64
	for i, it := range items {
		path := fmt.Sprintf("%s[%d]", e.path, i)
		f, ok := ps.number(it, path)
		if !ok {
			continue
		}
		switch {
		case f <= breach:
			ps.add(it.Line, path, "%s must be above the breach threshold %s", fmtFloat(f), fmtFloat(breach))
		case len(out) > 0 && f <= out[len(out)-1]:
			ps.add(it.Line, path, "%s must be above the previous step %s (steps are ascending)", fmtFloat(f), fmtFloat(out[len(out)-1]))
		case f > maxFraction:
			ps.add(it.Line, path, "%s must be at most %s", fmtFloat(f), fmtFloat(maxFraction))
		default:
			out = append(out, f)
		}
	}
	return out
}

func (ps *parser) statuses(e *entry, s *StatusSets) {
	entries, ok := ps.mapping(e.val, e.path, exact)
	if !ok {
		return
	}
	type where struct {
		set  string
		line int
	}
	var paused, resolved, awaiting map[string]where
	for i := range entries {
		se := &entries[i]
		var dst *[]string
		switch se.name {
		case "awaiting_response":
			dst = &s.AwaitingResponse
		case "paused":
			dst = &s.Paused
		case "resolved":
			dst = &s.Resolved
		default:
			ps.unknown(se, "awaiting_response", "paused", "resolved")
			continue
		}
		items, ok := ps.sequence(se.val, se.path)
		if !ok {
			continue
		}
		list := []string{}
		lines := map[string]where{}
		for j, it := range items {
			path := fmt.Sprintf("%s[%d]", se.path, j)
			v, ok := ps.str(it, path)
			if !ok {
				continue
			}
			st := normKey(v)
			if st == "" {
				ps.add(it.Line, path, "empty status")
				continue
			}
			if w, dup := lines[st]; dup {
				ps.add(it.Line, path, "status %s is listed twice (first at line %d)", show(v), w.line)
				continue
			}
			lines[st] = where{set: se.name, line: it.Line}
			list = append(list, st)
		}
		if len(items) == 0 && se.name != "paused" {
			ps.add(se.val.Line, se.path, "must list at least one status")
		}
		*dst = list
		switch se.name {
		case "awaiting_response":
			awaiting = lines
		case "paused":
			paused = lines
		case "resolved":
			resolved = lines
		}
	}
	// A status that both pauses and resolves, or both awaits a response and
	// resolves, leaves the clocks ambiguous. Either side may be a default.
	origin := func(set string, lines map[string]where, st string) (string, int) {
		if w, ok := lines[st]; ok {
			return fmt.Sprintf("%s (line %d)", set, w.line), w.line
		}
		return set + " (by default; list " + set + " statuses to change that)", 0
	}
	for _, st := range s.Resolved {
		for _, other := range []struct {
			name  string
			set   []string
			lines map[string]where
		}{{"awaiting_response", s.AwaitingResponse, awaiting}, {"paused", s.Paused, paused}} {
			if !inSet(other.set, st) {
				continue
			}
			a, la := origin(other.name, other.lines, st)
			r, lr := origin("resolved", resolved, st)
			ps.add(max(la, lr), e.path, "status %s is both %s and %s", show(st), a, r)
		}
	}
}

// weekdays maps the accepted weekday keys to weekdays.
var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

func normWeekday(s string) string {
	if d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]; ok {
		return d.String()
	}
	return strings.ToLower(s)
}

func (ps *parser) calendars(e *entry, out map[string]*Calendar, declared map[string]string) {
	entries, ok := ps.mapping(e.val, e.path, strings.ToLower)
	if !ok {
		return
	}
	for i := range entries {
		ce := &entries[i]
		declared[ce.norm] = ce.name
		if strings.EqualFold(ce.name, (*Calendar)(nil).Name()) {
			ps.add(ce.key.Line, ce.path, "the name 24x7 is reserved for the round-the-clock calendar")
			continue
		}
		if cal := ps.calendar(ce); cal != nil {
			out[ce.name] = cal
		}
	}
}

func (ps *parser) calendar(ce *entry) *Calendar {
	before := ps.count()
	entries, ok := ps.mapping(ce.val, ce.path, exact)
	if !ok {
		return nil
	}
	if len(entries) == 0 {
		ps.add(ce.key.Line, ce.path, "a calendar needs a timezone and hours")
		return nil
	}
	cfg := CalendarConfig{Hours: map[time.Weekday][]string{}}
	valid, hasZone, hasHours := true, false, false
	for i := range entries {
		f := &entries[i]
		switch f.name {
		case "timezone":
			hasZone = true
			v, ok := ps.str(f.val, f.path)
			if !ok {
				valid = false
				continue
			}
			if _, err := time.LoadLocation(v); err != nil || v == "" || strings.EqualFold(v, "local") {
				ps.add(f.val.Line, f.path, "%s is not an IANA time zone (such as America/New_York or UTC)", show(v))
				valid = false
				continue
			}
			cfg.TimeZone = v
		case "hours":
			hasHours = true
			if !ps.hours(f, cfg.Hours) {
				valid = false
			}
		case "holidays":
			items, ok := ps.sequence(f.val, f.path)
			if !ok {
				valid = false
				continue
			}
			for j, it := range items {
				path := fmt.Sprintf("%s[%d]", f.path, j)
				v, ok := ps.str(it, path)
				if !ok {
					valid = false
					continue
				}
				if _, err := time.Parse("2006-01-02", strings.TrimSpace(v)); err != nil {
					ps.add(it.Line, path, "%s is not a date such as 2026-12-25", show(v))
					valid = false
					continue
				}
				cfg.Holidays = append(cfg.Holidays, strings.TrimSpace(v))
			}
		case "country":
			v, ok := ps.str(f.val, f.path)
			if !ok {
				valid = false
				continue
			}
			cfg.Country = strings.ToUpper(strings.TrimSpace(v))
			if msg := checkCountry(cfg.Country); msg != "" {
				ps.add(f.val.Line, f.path, "%s %s", show(v), msg)
				valid = false
			}
		default:
			ps.unknown(f, "timezone", "hours", "holidays", "country")
			valid = false
		}
	}
	if !hasZone {
		ps.add(ce.key.Line, ce.path+".timezone", "missing (an IANA time zone such as America/New_York or UTC)")
		valid = false
	}
	if !hasHours {
		ps.add(ce.key.Line, ce.path+".hours", "missing (opening hours per weekday, such as mon: [\"09:00-17:00\"])")
		valid = false
	}
	if !valid || ps.count() != before {
		return nil
	}
	cal, err := NewCalendar(ce.name, cfg)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("calendar %q: ", ce.name))
		ps.addErr(ce.key.Line, ce.path, err, "%s", msg)
		return nil
	}
	return cal
}

// checkCountry returns what is wrong with a holiday country code, or "".
func checkCountry(code string) string {
	var national []string
	for _, c := range CalendarCountries() {
		if c == code {
			return ""
		}
		if !strings.Contains(c, "-") {
			national = append(national, c)
		}
	}
	return "is not a known holiday country (use one of " + strings.Join(national, ", ") + ", or a region such as CH-ZH; see CalendarCountries)"
}

// hours reads a calendar's weekday → ranges mapping into dst.
func (ps *parser) hours(f *entry, dst map[time.Weekday][]string) bool {
	entries, ok := ps.mapping(f.val, f.path, normWeekday)
	if !ok {
		return false
	}
	valid, open := true, false
	for i := range entries {
		de := &entries[i]
		day, known := weekdays[strings.ToLower(strings.TrimSpace(de.name))]
		if !known {
			ps.add(de.key.Line, de.path, "unknown weekday %s (use mon..sun or monday..sunday)", show(de.name))
			valid = false
			continue
		}
		var items []*yaml.Node
		if de.val.Kind == yaml.ScalarNode && !isNull(de.val) {
			items = []*yaml.Node{de.val} // a single range need not be a list
		} else if items, ok = ps.sequence(de.val, de.path); !ok {
			valid = false
			continue
		}
		type span struct {
			from, to, line int
			text, path     string
		}
		var spans []span
		ranges := []string{}
		for j, it := range items {
			path := fmt.Sprintf("%s[%d]", de.path, j)
			v, ok := ps.str(it, path)
			if !ok {
				valid = false
				continue
			}
			v = strings.TrimSpace(v)
			from, to, msg := parseRange(v)
			if msg != "" {
				ps.add(it.Line, path, "%s %s", show(v), msg)
				valid = false
				continue
			}
			// Report an overlap at the later-listed of the two ranges.
			for _, o := range spans {
				if from < o.to && o.from < to {
					ps.add(it.Line, path, "%s overlaps %s (%s)", show(v), show(o.text), o.path)
					valid = false
				}
			}
			spans = append(spans, span{from: from, to: to, line: it.Line, text: v, path: path})
			ranges = append(ranges, v)
		}
		open = open || len(ranges) > 0
		dst[day] = ranges
	}
	if valid && !open {
		ps.add(f.val.Line, f.path, "no opening hours on any weekday (list ranges such as mon: [\"09:00-17:00\"])")
		valid = false
	}
	return valid
}

// parseRange parses an opening range "HH:MM-HH:MM" into minutes after
// midnight, so that a problem is reported at its line; NewCalendar has the
// final word. msg is empty when the range is good.
func parseRange(s string) (from, to int, msg string) {
	const want = "is not an opening range such as 09:00-17:00"
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, want
	}
	from, okA := clockMinutes(strings.TrimSpace(a))
	to, okB := clockMinutes(strings.TrimSpace(b))
	if !okA || !okB || from == 24*60 {
		return 0, 0, want
	}
	if to <= from {
		return 0, 0, "must end after it starts"
	}
	return from, to, ""
}

// clockMinutes parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !isInteger(h) || !isInteger(m) || h[0] == '+' || h[0] == '-' || m[0] == '+' || m[0] == '-' {
		return 0, false
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

func (ps *parser) tiers(e *entry, p *Policy, declared map[string]string) {
	entries, ok := ps.mapping(e.val, e.path, normKey)
	if !ok {
		return
	}
	if n := deref(e.val); n == nil || len(n.Content) == 0 {
		ps.add(e.key.Line, e.path, "no tiers: an SLA file needs at least one tier")
		return
	}
	for i := range entries {
		te := &entries[i]
		tp := &TierPolicy{Priorities: map[string]Targets{}}
		if ps.tier(te, tp, p.Calendars, declared) {
			p.Tiers[te.norm] = tp
		}
	}
}

func (ps *parser) tier(te *entry, tp *TierPolicy, cals map[string]*Calendar, declared map[string]string) bool {
	before := ps.count()
	entries, ok := ps.mapping(te.val, te.path, normKey)
	if !ok {
		return false
	}
	valid := true
	for i := range entries {
		pe := &entries[i]
		if pe.norm == "calendar" {
			v, ok := ps.str(pe.val, pe.path)
			if !ok {
				valid = false
				continue
			}
			if strings.EqualFold(strings.TrimSpace(v), (*Calendar)(nil).Name()) {
				continue // explicitly round the clock
			}
			name, found := declared[strings.ToLower(strings.TrimSpace(v))]
			if !found {
				names := make([]string, 0, len(declared))
				for _, n := range declared {
					names = append(names, n)
				}
				sort.Strings(names)
				if len(names) == 0 {
					ps.add(pe.val.Line, pe.path, "unknown calendar %s (no calendars are declared; use 24x7 or declare it under calendars)", show(v))
				} else {
					ps.add(pe.val.Line, pe.path, "unknown calendar %s (declared: %s)", show(v), strings.Join(names, ", "))
				}
				valid = false
				continue
			}
			// A declared calendar that failed to build is reported where it
			// is declared.
			tp.Calendar = cals[name]
			if tp.Calendar == nil {
				valid = false
			}
			continue
		}
		if pe.val.Kind != yaml.MappingNode {
			if editDistance(pe.norm, "calendar") <= 2 {
				ps.add(pe.key.Line, pe.path, "unknown key %s (did you mean calendar?)", show(pe.name))
			} else {
				ps.add(pe.val.Line, pe.path, "a priority must be a mapping with response and resolution, not %s", kindName(pe.val))
			}
			valid = false
			continue
		}
		t, ok := ps.targets(pe)
		if !ok {
			valid = false
			continue
		}
		tp.Priorities[pe.norm] = t
	}
	if valid && ps.count() == before && len(tp.Priorities) == 0 {
		ps.add(te.key.Line, te.path, "no priorities: a tier needs at least one priority with response and resolution targets")
		valid = false
	}
	return valid
}

func (ps *parser) targets(pe *entry) (Targets, bool) {
	entries, ok := ps.mapping(pe.val, pe.path, exact)
	if !ok {
		return Targets{}, false
	}
	var t Targets
	valid, hasResp, hasRes := true, false, false
	for i := range entries {
		f := &entries[i]
		var dst *time.Duration
		switch f.name {
		case "response":
			dst, hasResp = &t.Response, true
		case "resolution":
			dst, hasRes = &t.Resolution, true
		default:
			ps.unknown(f, "response", "resolution")
			valid = false
			continue
		}
		if f.val.Kind != yaml.ScalarNode || isNull(f.val) {
			ps.add(f.val.Line, f.path, "must be a duration, not %s (%s)", kindName(f.val), targetHint)
			valid = false
			continue
		}
		d, err := parseTarget(f.val.Value)
		if err != nil {
			ps.add(f.val.Line, f.path, "%v", err)
			valid = false
			continue
		}
		*dst = d
	}
	if !hasResp {
		ps.add(pe.key.Line, pe.path+".response", "missing (%s)", targetHint)
		valid = false
	}
	if !hasRes {
		ps.add(pe.key.Line, pe.path+".resolution", "missing (%s)", targetHint)
		valid = false
	}
	return t, valid
}
