package watchdog

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
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
	// Policies are the file's ordered policies: the first whose Match
	// holds for a ticket applies, before Tiers is consulted.
	Policies []*SLAPolicy
	// Notifications is the file's notifications: section; nil when it has
	// none (every alert goes to every notifier).
	Notifications *Notifications
}

// SLAPolicy is one entry of an SLA file's policies: the tickets it applies
// to, the calendar its clocks count in (nil for 24x7) and its targets. A
// target left at zero is not tracked.
type SLAPolicy struct {
	Name     string
	Match    Match
	Calendar *Calendar
	Targets  Targets
	// Line is where the policy starts in its file, for display.
	Line int
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

// Targets are the targets of a policy, in business time of its calendar:
// response and resolution (the only ones a tiers entry has), and the cycle
// clocks' next reply and periodic update. A zero target is not tracked.
type Targets struct {
	Response       time.Duration
	Resolution     time.Duration
	NextReply      time.Duration
	PeriodicUpdate time.Duration
}

// Target returns the target of one clock.
func (t Targets) Target(c SLAClock) time.Duration {
	switch c {
	case Response:
		return t.Response
	case NextReply:
		return t.NextReply
	case PeriodicUpdate:
		return t.PeriodicUpdate
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
	if len(p.Policies) > 0 {
		fmt.Fprintln(tw, "POLICY\tMATCH\tRESPONSE\tRESOLUTION\tNEXT REPLY\tPERIODIC UPDATE\tCALENDAR")
		for _, sp := range p.Policies {
			t := sp.Targets
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sp.Name, sp.Match, targetOrDash(t.Response), targetOrDash(t.Resolution),
				targetOrDash(t.NextReply), targetOrDash(t.PeriodicUpdate), sp.Calendar.Name())
		}
		if len(p.Tiers) > 0 {
			fmt.Fprintln(tw, "then the tiers, as policies tiers.<tier>.<priority>:")
		}
		// The tiers' table aligns on its own.
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write policy summary: %w", err)
		}
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	}
	if len(p.Tiers) > 0 || len(p.Policies) == 0 {
		fmt.Fprintln(tw, "TIER\tPRIORITY\tRESPONSE\tRESOLUTION\tCALENDAR")
		for _, r := range p.Summary() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Tier, r.Priority, shortDuration(r.Response), shortDuration(r.Resolution), r.Calendar)
		}
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
	p.Notifications.writeSummary(&b)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write policy summary: %w", err)
	}
	return nil
}

// targetOrDash formats a policy's target, "-" when it is not tracked.
func targetOrDash(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return shortDuration(d)
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

// IsPaused reports whether status pauses both SLA clocks.
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
