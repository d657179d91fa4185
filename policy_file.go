package watchdog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrInvalidPolicy reports an SLA file or threshold override that does not
// parse or validate. The error is a *PolicyError listing every problem.
var ErrInvalidPolicy = errors.New("watchdog: invalid SLA policy")

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
	b.WriteString(e.name() + ": ")
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

// Summary describes the error without quoting the file: the file's name,
// the number of problems and their lines, with each key path that lies
// inside the SLA file's schema (under tiers, thresholds, escalation,
// statuses or calendars). Unlike Error, it holds no value from the file,
// so it may be shown where anyone can read it, such as an unauthenticated
// readiness probe, even when the path is a symlink to some other file.
func (e *PolicyError) Summary() string {
	var b strings.Builder
	n := len(e.Issues) + e.Omitted
	fmt.Fprintf(&b, "%s is invalid: %d problem", e.name(), n)
	if n != 1 {
		b.WriteString("s")
	}
	for i, is := range e.Issues {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		if is.Line > 0 {
			fmt.Fprintf(&b, "line %d", is.Line)
		} else {
			b.WriteString("the file")
		}
		if top, _, _ := strings.Cut(strings.SplitN(is.Path, "[", 2)[0], "."); is.Path != "" && slices.Contains(policyTopKeys, top) {
			b.WriteString(" (" + is.Path + ")")
		}
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, " and %d more", e.Omitted)
	}
	b.WriteString("; the server log and watchdogd check-config give the details")
	return b.String()
}

// name is "sla file", with the file's name when known.
func (e *PolicyError) name() string {
	if e.File == "" {
		return "sla file"
	}
	return "sla file " + e.File
}

// policyTopKeys are the top-level keys of an SLA file.
var policyTopKeys = []string{"thresholds", "escalation", "statuses", "calendars", "policies", "tiers", "notifications"}

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

// ErrNotRegularFile reports an SLA file path that names a FIFO, device,
// directory or socket (possibly through a symlink) instead of a file.
var ErrNotRegularFile = errors.New("not a regular file")

// ReadPolicyFile reads the SLA file at path, at most one byte past
// MaxPolicySize so that ParsePolicy reports an oversized file as such. It
// opens without blocking and refuses anything but a regular file
// (ErrNotRegularFile), so that a FIFO or device at the path cannot hang a
// reload, or a shutdown waiting for one.
func ReadPolicyFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegularFile, fileKind(fi.Mode()))}
	}
	return io.ReadAll(io.LimitReader(f, MaxPolicySize+1))
}

// fileKind names the type of a file that is not regular.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m.IsDir():
		return "a directory"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "type " + m.Type().String()
}

// LoadPolicyFile reads and parses the SLA file at path (see
// ReadPolicyFile). A file that does not validate gives a *PolicyError
// naming the file.
func LoadPolicyFile(path string) (*Policy, error) {
	data, err := ReadPolicyFile(path)
	if err != nil {
		return nil, fmt.Errorf("sla file: %w", err)
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
	return ParsePolicyEnv(data, os.LookupEnv)
}

// ParsePolicyEnv is ParsePolicy with the environment the notifications
// section's ${VAR} references read from lookup.
func ParsePolicyEnv(data []byte, lookup func(string) (string, bool)) (*Policy, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	ps := &parser{lookupEnv: lookup}
	p := ps.parse(data)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return p, nil
}

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
	// lookupEnv reads the environment for ${VAR}; envRefs collects the
	// names referenced.
	lookupEnv func(string) (string, bool)
	envRefs   map[string]bool
	// declared names the receivers of a notifications section, valid or
	// not, for its routes.
	declared map[string]bool
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

// document decodes data, a single YAML document, and returns its root
// mapping; nil, with the problem reported, when there is none.
func (ps *parser) document(data []byte) *yaml.Node {
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
	return root
}

func (ps *parser) parse(data []byte) *Policy {
	if len(data) > MaxPolicySize {
		ps.add(0, "", "larger than %d bytes", MaxPolicySize)
		return nil
	}
	root := ps.document(data)
	if root == nil {
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
	var thresholds, escalation, tiers, policies, notifications *entry
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
		case "policies":
			policies = e
		case "notifications":
			notifications = e
		default:
			switch name := strings.ToLower(e.name); {
			case editDistance(name, "policies") <= 2:
				ps.unknown(e, "policies")
			case editDistance(name, "notifications") <= 3:
				ps.unknown(e, "notifications")
			default:
				// The seed's keys; policies and notifications are for
				// files that know them.
				ps.unknown(e, "thresholds", "escalation", "statuses", "calendars", "tiers")
			}
		}
	}
	if thresholds != nil {
		ps.thresholds(thresholds, &p.Thresholds)
	}
	if escalation != nil {
		p.Escalation = ps.escalation(escalation, p.Thresholds.Breach)
	}
	if policies != nil {
		ps.policies(policies, p, declared)
	}
	switch {
	case tiers != nil:
		ps.tiers(tiers, p, declared, policies != nil)
	case policies == nil:
		ps.add(root.Line, "tiers", "missing: an SLA file needs at least one tier")
	}
	if notifications != nil {
		p.Notifications = ps.notifications(notifications, p)
	}
	return p
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

func (ps *parser) tiers(e *entry, p *Policy, declared map[string]string, hasPolicies bool) {
	entries, ok := ps.mapping(e.val, e.path, normKey)
	if !ok {
		return
	}
	if n := deref(e.val); !hasPolicies && (n == nil || len(n.Content) == 0) {
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
			cal, ok := ps.calendarRef(pe, cals, declared)
			if !ok {
				valid = false
			}
			tp.Calendar = cal
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

// calendarRef resolves a calendar name: 24x7 (nil) or a declared calendar.
// A declared calendar that failed to build is reported where it is
// declared; ok is false then too.
func (ps *parser) calendarRef(pe *entry, cals map[string]*Calendar, declared map[string]string) (*Calendar, bool) {
	v, ok := ps.str(pe.val, pe.path)
	if !ok {
		return nil, false
	}
	if strings.EqualFold(strings.TrimSpace(v), (*Calendar)(nil).Name()) {
		return nil, true // explicitly round the clock
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
		return nil, false
	}
	cal := cals[name]
	return cal, cal != nil
}

// duration parses a target's value.
func (ps *parser) duration(f *entry) (time.Duration, bool) {
	if f.val.Kind != yaml.ScalarNode || isNull(f.val) {
		ps.add(f.val.Line, f.path, "must be a duration, not %s (%s)", kindName(f.val), targetHint)
		return 0, false
	}
	d, err := parseTarget(f.val.Value)
	if err != nil {
		ps.add(f.val.Line, f.path, "%v", err)
		return 0, false
	}
	return d, true
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
		d, ok := ps.duration(f)
		if !ok {
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
