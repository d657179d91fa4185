package watchdog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(src))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

// issues parses src, expects a *PolicyError and returns its issues as
// strings.
func issues(t *testing.T, src string) []string {
	t.Helper()
	p, err := ParsePolicy([]byte(src))
	if err == nil {
		t.Fatalf("ParsePolicy succeeded (%d tiers); want an error", len(p.Tiers))
	}
	if p != nil {
		t.Errorf("ParsePolicy returned a policy with its error")
	}
	if !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("errors.Is(%v, ErrInvalidPolicy) = false", err)
	}
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not a *PolicyError", err)
	}
	var out []string
	for _, is := range pe.Issues {
		out = append(out, is.String())
	}
	if !strings.HasPrefix(err.Error(), "sla file: ") || !strings.Contains(err.Error(), strings.Join(out, "; ")) {
		t.Errorf("Error() = %q; want it to list the issues", err.Error())
	}
	return out
}

func TestSeedPolicyMatchesSeedFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "sla", "seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != SeedPolicy {
		t.Errorf("SeedPolicy differs from testdata/sla/seed.yaml (the seed's sla_config.yaml):\n%s", cmp.Diff(string(data), SeedPolicy))
	}
}

func TestParsePolicySeed(t *testing.T) {
	p, err := LoadPolicyFile(filepath.Join("testdata", "sla", "seed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Targets{
		"high":   {Response: 30 * time.Minute, Resolution: 180 * time.Minute},
		"medium": {Response: 60 * time.Minute, Resolution: 240 * time.Minute},
		"low":    {Response: 120 * time.Minute, Resolution: 360 * time.Minute},
	}
	if len(p.Tiers) != 1 || p.Tiers["gold"] == nil {
		t.Fatalf("tiers = %v; want only gold", p.Tiers)
	}
	if diff := cmp.Diff(want, p.Tiers["gold"].Priorities); diff != "" {
		t.Errorf("gold priorities (-want +got):\n%s", diff)
	}
	if p.Tiers["gold"].Calendar != nil {
		t.Errorf("gold calendar = %v; want nil (24x7)", p.Tiers["gold"].Calendar.Name())
	}
	if p.Thresholds != DefaultThresholds {
		t.Errorf("thresholds = %+v; want %+v", p.Thresholds, DefaultThresholds)
	}
	if diff := cmp.Diff(DefaultStatuses, p.Statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if len(p.Escalation) != 0 || len(p.Calendars) != 0 {
		t.Errorf("escalation %v, calendars %v; want none", p.Escalation, p.Calendars)
	}
	if diff := cmp.Diff(p, DefaultPolicy(), cmp.AllowUnexported(Calendar{})); diff != "" {
		t.Errorf("DefaultPolicy differs from the seed file (-file +default):\n%s", diff)
	}
}

func TestDefaultPolicyIsFresh(t *testing.T) {
	a, b := DefaultPolicy(), DefaultPolicy()
	a.Statuses.Paused[0] = "changed"
	a.Tiers["gold"].Priorities["high"] = Targets{}
	if b.Statuses.Paused[0] != "pending" || b.Tiers["gold"].Priorities["high"].Response != 30*time.Minute {
		t.Errorf("DefaultPolicy results share state")
	}
	if DefaultStatuses.Paused[0] != "pending" {
		t.Errorf("DefaultPolicy shares DefaultStatuses' slices")
	}
}

func TestParsePolicyFull(t *testing.T) {
	p, err := LoadPolicyFile(filepath.Join("testdata", "sla", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Thresholds{Alert: 0.8, Breach: 1.0}); p.Thresholds != want {
		t.Errorf("thresholds = %+v; want %+v", p.Thresholds, want)
	}
	if diff := cmp.Diff([]float64{1.5, 2.0}, p.Escalation); diff != "" {
		t.Errorf("escalation (-want +got):\n%s", diff)
	}
	wantStatuses := StatusSets{
		AwaitingResponse: []string{"new", "open"},
		Paused:           []string{"pending", "on_hold", "waiting_on_customer", "waiting_on_vendor"},
		Resolved:         []string{"resolved", "closed", "solved"},
	}
	if diff := cmp.Diff(wantStatuses, p.Statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !p.Statuses.IsPaused("WAITING_ON_VENDOR") || p.Statuses.IsResolved("pending") || !p.Statuses.IsAwaitingResponse("Open") {
		t.Errorf("status sets classify wrongly: %+v", p.Statuses)
	}
	if len(p.Calendars) != 2 || p.Calendars["us-business"] == nil || p.Calendars["eu-support"] == nil {
		t.Fatalf("calendars = %v; want us-business and eu-support", p.Calendars)
	}
	rows := p.Summary()
	want := []PolicyRow{
		{Tier: "bronze", Priority: "urgent", Response: 90 * time.Minute, Resolution: 8 * time.Hour, Calendar: "eu-support"},
		{Tier: "bronze", Priority: "normal", Response: 4 * time.Hour, Resolution: 72 * time.Hour, Calendar: "eu-support"},
		{Tier: "gold", Priority: "high", Response: 30 * time.Minute, Resolution: 3 * time.Hour, Calendar: "24x7"},
		{Tier: "gold", Priority: "medium", Response: time.Hour, Resolution: 4 * time.Hour, Calendar: "24x7"},
		{Tier: "gold", Priority: "low", Response: 2 * time.Hour, Resolution: 6 * time.Hour, Calendar: "24x7"},
		{Tier: "silver", Priority: "high", Response: 2 * time.Hour, Resolution: 16 * time.Hour, Calendar: "us-business"},
		{Tier: "silver", Priority: "low", Response: 90 * time.Minute, Resolution: 40 * time.Hour, Calendar: "us-business"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("Summary (-want +got):\n%s", diff)
	}
	// The calendar is the one declared: Monday 2026-03-02 09:00 New York
	// plus 2h of business time is 11:00 the same day.
	_, cal, _, ok := p.Lookup("SILVER", "high")
	if !ok || cal == nil || cal.Name() != "us-business" {
		t.Fatalf("Lookup(SILVER, high) calendar = %v, ok %v", cal, ok)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 6, 16, 0, 0, 0, ny) // Friday 16:00
	if got, want := cal.Add(start, 2*time.Hour), time.Date(2026, 3, 9, 10, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("us-business Add(Fri 16:00, 2h) = %v; want %v (1h Friday, 1h Monday)", got, want)
	}
}

func nationalCountries() string {
	var out []string
	for _, c := range CalendarCountries() {
		if !strings.Contains(c, "-") {
			out = append(out, c)
		}
	}
	return strings.Join(out, ", ")
}

func TestParsePolicyCalendarDetails(t *testing.T) {
	p := mustParse(t, `
calendars:
  Support:
    timezone: Europe/London
    hours:
      MONDAY: "09:00-17:00"
      Tue: ["09:00-12:00", "13:00-17:00"]
      wed: []
    holidays: [2026-03-09]
    country: gb
tiers:
  gold:
    calendar: support
    high: {response: 1h, resolution: 8h}
  silver:
    calendar: 24X7
    high: {response: 1h, resolution: 8h}
`)
	cal := p.Calendars["Support"]
	if cal == nil || cal.Name() != "Support" {
		t.Fatalf("calendars = %v; want Support as declared", p.Calendars)
	}
	if _, c, _, _ := p.Lookup("gold", "high"); c != cal {
		t.Errorf("gold's calendar = %v; want Support (names match case-insensitively)", c.Name())
	}
	if _, c, _, _ := p.Lookup("silver", "high"); c != nil {
		t.Errorf("silver's calendar = %v; want nil for an explicit 24x7", c.Name())
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	// Monday 2026-03-09 is a declared holiday, so two business hours from
	// then end on Tuesday at 11:00; the lunch gap moves three hours to 14:00.
	mon := time.Date(2026, 3, 9, 8, 0, 0, 0, london)
	if got, want := cal.Add(mon, 2*time.Hour), time.Date(2026, 3, 10, 11, 0, 0, 0, london); !got.Equal(want) {
		t.Errorf("Add(holiday Monday, 2h) = %v; want %v", got, want)
	}
	if got, want := cal.Add(mon, 4*time.Hour), time.Date(2026, 3, 10, 14, 0, 0, 0, london); !got.Equal(want) {
		t.Errorf("Add(holiday Monday, 4h) = %v; want %v", got, want)
	}
	// Wednesday is closed, Monday 16 March is an ordinary day.
	tue := time.Date(2026, 3, 10, 16, 0, 0, 0, london)
	if got, want := cal.Add(tue, 2*time.Hour), time.Date(2026, 3, 16, 10, 0, 0, 0, london); !got.Equal(want) {
		t.Errorf("Add(Tue 16:00, 2h) = %v; want %v", got, want)
	}
}

func TestLookup(t *testing.T) {
	p := mustParse(t, `
tiers:
  Gold:
    HIGH: {response: 30, resolution: 2h}
  silver:
    low: {response: 1h, resolution: 8h}
`)
	if _, ok := p.Tiers["gold"]; !ok {
		t.Errorf("tier keys are not stored lower-case: %v", p.Tiers)
	}
	if _, ok := p.Tiers["gold"].Priorities["high"]; !ok {
		t.Errorf("priority keys are not stored lower-case: %v", p.Tiers["gold"].Priorities)
	}
	for _, tc := range []struct{ tier, prio string }{{"gold", "high"}, {"GOLD", "High"}, {"Gold", "HIGH"}, {" gold ", "high"}} {
		got, cal, reason, ok := p.Lookup(tc.tier, tc.prio)
		if !ok || reason != "" || cal != nil || got != (Targets{Response: 30 * time.Minute, Resolution: 2 * time.Hour}) {
			t.Errorf("Lookup(%q, %q) = %+v, %v, %q, %v", tc.tier, tc.prio, got, cal, reason, ok)
		}
	}
	if got := (Targets{Response: time.Minute, Resolution: time.Hour}); got.Target(Response) != time.Minute || got.Target(Resolution) != time.Hour {
		t.Errorf("Targets.Target picks the wrong clock")
	}
	for _, tc := range []struct{ tier, prio, reason string }{
		{"platinum", "high", `no SLA policy for customer tier "platinum"`},
		{"silver", "high", `no SLA policy for priority "high" in tier "silver"`},
		{"", "", `no SLA policy for customer tier ""`},
	} {
		_, _, reason, ok := p.Lookup(tc.tier, tc.prio)
		if ok || reason != tc.reason {
			t.Errorf("Lookup(%q, %q) = %q, %v; want %q, false", tc.tier, tc.prio, reason, ok, tc.reason)
		}
	}
	var nilPolicy *Policy
	if _, _, reason, ok := nilPolicy.Lookup("gold", "high"); ok || reason == "" {
		t.Errorf("nil policy Lookup = %q, %v", reason, ok)
	}
}

func TestStages(t *testing.T) {
	p := mustParse(t, "thresholds: {alert: 0.5, breach: 0.9}\nescalation: [1.25, 3]\n"+SeedPolicy)
	want := []Stage{
		{Name: StageAlert, Fraction: 0.5},
		{Name: StageBreach, Fraction: 0.9},
		{Name: "escalation-1", Fraction: 1.25},
		{Name: "escalation-2", Fraction: 3},
	}
	if diff := cmp.Diff(want, p.Stages()); diff != "" {
		t.Errorf("Stages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Stage{{Name: StageAlert, Fraction: 0.85}, {Name: StageBreach, Fraction: 1}}, DefaultPolicy().Stages()); diff != "" {
		t.Errorf("default Stages (-want +got):\n%s", diff)
	}
}

func TestWithThresholds(t *testing.T) {
	p := mustParse(t, "escalation: [1.5, 2]\n"+SeedPolicy)
	q, err := p.WithThresholds(0.7, 1.2)
	if err != nil {
		t.Fatal(err)
	}
	if q.Thresholds != (Thresholds{Alert: 0.7, Breach: 1.2}) || p.Thresholds != DefaultThresholds {
		t.Errorf("WithThresholds: copy %+v, original %+v", q.Thresholds, p.Thresholds)
	}
	if q.Tiers["gold"].Priorities["high"].Response != 30*time.Minute {
		t.Errorf("WithThresholds lost the targets")
	}
	q.Escalation[0] = 9
	if p.Escalation[0] != 1.5 {
		t.Errorf("WithThresholds shares the escalation slice")
	}
	for _, tc := range []struct {
		alert, breach float64
		want          string
	}{
		{0, 1, "thresholds: alert 0 must be above 0"},
		{-0.5, 1, "thresholds: alert -0.5 must be above 0"},
		{0.9, 0.9, "thresholds: alert 0.9 must be below breach 0.9"},
		{1.1, 1.0, "thresholds: alert 1.1 must be below breach 1"},
		{0.5, 1.5, "escalation[0]: 1.5 must be above the breach threshold 1.5"},
		{0.5, 1.8, "escalation[0]: 1.5 must be above the breach threshold 1.8"},
		{0.5, 1e9, "thresholds: breach 1e+09 must be at most 100"},
	} {
		q, err := p.WithThresholds(tc.alert, tc.breach)
		if err == nil || q != nil {
			t.Errorf("WithThresholds(%v, %v) succeeded", tc.alert, tc.breach)
			continue
		}
		if !errors.Is(err, ErrInvalidPolicy) || err.Error() != "sla file: "+tc.want {
			t.Errorf("WithThresholds(%v, %v) = %q; want %q", tc.alert, tc.breach, err, "sla file: "+tc.want)
		}
	}
	if _, err := DefaultPolicy().WithThresholds(0.5, 1.8); err != nil {
		t.Errorf("without escalation, breach 1.8 is fine: %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	const hint = "(use minutes such as 30 or a duration such as 2h)"
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"30", 30 * time.Minute, ""},
		{" 30 ", 30 * time.Minute, ""},
		{"+5", 5 * time.Minute, ""},
		{"525600", 365 * 24 * time.Hour, ""},
		{"2h", 2 * time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"45s", 45 * time.Second, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"8760h", 365 * 24 * time.Hour, ""},
		{"", 0, "is empty " + hint},
		{"abc", 0, `"abc" is not a duration ` + hint},
		{"2d", 0, `"2d" is not a duration ` + hint},
		{"0x1E", 0, `"0x1E" is not a duration ` + hint},
		{"1.5", 0, `"1.5" is not a whole number of minutes (use a duration string such as 90s)`},
		{"30.0", 0, `"30.0" is not a whole number of minutes (use a duration string such as 90s)`},
		{"1e3", 0, `"1e3" is not a whole number of minutes (use a duration string such as 90s)`},
		{"0", 0, `"0" must be positive`},
		{"-30", 0, `"-30" must be positive`},
		{"0s", 0, `"0s" must be positive`},
		{"-2h", 0, `"-2h" must be positive`},
		{"500ms", 0, `"500ms" is under the minimum of 1s`},
		{"525601", 0, `"525601" minutes is over the maximum of 365 days (525600 minutes)`},
		{"99999999999999999999999", 0, `"99999999999999999999999" minutes is over the maximum of 365 days (525600 minutes)`},
		{"8761h", 0, `"8761h" is over the maximum of 365 days (8760h)`},
		{"9999999999h", 0, `"9999999999h" is not a duration ` + hint},
		{".inf", 0, `".inf" is not a duration ` + hint},
		{"NaN", 0, `"NaN" is not a duration ` + hint},
	} {
		got, err := parseTarget(tc.in)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if got != tc.want || msg != tc.err {
			t.Errorf("parseTarget(%q) = %v, %q; want %v, %q", tc.in, got, msg, tc.want, tc.err)
		}
	}
}

func TestParsePolicyTrailingDocumentMarker(t *testing.T) {
	p := mustParse(t, SeedPolicy+"---\n")
	if len(p.Tiers["gold"].Priorities) != 3 {
		t.Errorf("gold priorities = %v", p.Tiers["gold"].Priorities)
	}
}

func TestParsePolicyTargetForms(t *testing.T) {
	p := mustParse(t, `
tiers:
  t:
    a: {response: 30, resolution: "45"}
    b: {response: 2h, resolution: "1h30m"}
    c: {response: 90s, resolution: 8760h}
`)
	want := map[string]Targets{
		"a": {Response: 30 * time.Minute, Resolution: 45 * time.Minute},
		"b": {Response: 2 * time.Hour, Resolution: 90 * time.Minute},
		"c": {Response: 90 * time.Second, Resolution: 8760 * time.Hour},
	}
	if diff := cmp.Diff(want, p.Tiers["t"].Priorities); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestParsePolicyCollectsAllErrors(t *testing.T) {
	src := `thresholds: {alert: 2, breach: 1}
tiers:
  gold:
    high: {response: abc, resolution: 1.5}
    low: {reponse: 30, resolution: 60}
  silver:
    medium: {response: 0, resolution: 10y}
`
	got := issues(t, src)
	want := []string{
		"line 1: thresholds: alert 2 must be below breach 1",
		`line 4: tiers.gold.high.response: "abc" is not a duration (use minutes such as 30 or a duration such as 2h)`,
		`line 4: tiers.gold.high.resolution: "1.5" is not a whole number of minutes (use a duration string such as 90s)`,
		`line 5: tiers.gold.low.reponse: unknown key "reponse" (did you mean response?)`,
		"line 5: tiers.gold.low.response: missing (use minutes such as 30 or a duration such as 2h)",
		`line 7: tiers.silver.medium.response: "0" must be positive`,
		`line 7: tiers.silver.medium.resolution: "10y" is not a duration (use minutes such as 30 or a duration such as 2h)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
}

func TestParsePolicyErrorExample(t *testing.T) {
	// The message format the brief promises, for one bad target.
	src := "tiers:\n  gold:\n    high:\n      response: 30\n      resolution: 180\n    low:\n      response: abc\n      resolution: 360\n"
	_, err := ParsePolicy([]byte(src))
	want := `sla file: line 7: tiers.gold.low.response: "abc" is not a duration (use minutes such as 30 or a duration such as 2h)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v; want %s", err, want)
	}
}

func TestParsePolicyIssueLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("tiers:\n  gold:\n")
	for i := 0; i < maxIssues+10; i++ {
		b.WriteString("    p" + strings.Repeat("x", i) + ": {response: 0, resolution: 30}\n")
	}
	_, err := ParsePolicy([]byte(b.String()))
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a *PolicyError", err)
	}
	if len(pe.Issues) != maxIssues || pe.Omitted != 10 || !strings.HasSuffix(err.Error(), "; and 10 more") {
		t.Errorf("issues %d, omitted %d, error ends %q", len(pe.Issues), pe.Omitted, err.Error()[len(err.Error())-20:])
	}
}

func TestParsePolicyAliases(t *testing.T) {
	// Aliases are followed: a tier may reuse another's targets.
	p := mustParse(t, `
tiers:
  gold: &gold
    high: {response: 30, resolution: 180}
  platinum: *gold
`)
	if got := p.Tiers["platinum"].Priorities["high"]; got.Response != 30*time.Minute {
		t.Errorf("aliased tier = %+v", got)
	}

	// A "billion laughs" file expands to too many nodes and is refused
	// rather than built.
	var b strings.Builder
	b.WriteString("tiers:\n  t0: &a0\n")
	for i := 0; i < 600; i++ {
		b.WriteString("    p" + string(rune('a'+i%26)) + strings.Repeat("z", i/26) + ": {response: 30, resolution: 60}\n")
	}
	for i := 1; i < 600; i++ {
		b.WriteString("  t" + strconv.Itoa(i) + ": *a0\n")
	}
	_, err := ParsePolicy([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too many entries once aliases are expanded") {
		t.Errorf("err = %v; want too many entries", err)
	}
}

func TestParsePolicyTooLarge(t *testing.T) {
	data := append([]byte(SeedPolicy), bytes.Repeat([]byte("# padding\n"), MaxPolicySize/10+1)...)
	_, err := ParsePolicy(data)
	if err == nil || !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v; want too large", err)
	}
}

func TestLoadPolicyFile(t *testing.T) {
	_, err := LoadPolicyFile(filepath.Join("testdata", "sla", "typo.yaml"))
	want := `sla file testdata/sla/typo.yaml: line 1: tierz: unknown key "tierz" (did you mean tiers?); line 1: tiers: missing: an SLA file needs at least one tier`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if _, err := LoadPolicyFile(missing); !errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("missing file: err = %v; want os.ErrNotExist", err)
	}
}

func TestPolicyErrorUnwrap(t *testing.T) {
	cause := errors.New("boom")
	err := error(&PolicyError{Issues: []PolicyIssue{{Line: 2, Path: "calendars.x", Message: "boom", Err: cause}, {Message: "no cause"}}})
	if !errors.Is(err, cause) || !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("PolicyError does not match its cause and ErrInvalidPolicy")
	}
	if got := err.Error(); got != "sla file: line 2: calendars.x: boom; no cause" {
		t.Errorf("Error() = %q", got)
	}
}

func TestWriteSummary(t *testing.T) {
	p := mustParse(t, "escalation: [1.5]\n"+SeedPolicy+`  Silver:
    critical: {response: 15, resolution: 2h}
    zeta: {response: 1h30m, resolution: 90s}
    alpha: {response: 1h, resolution: 2h}
`)
	var b bytes.Buffer
	if err := p.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	want := `TIER    PRIORITY  RESPONSE  RESOLUTION  CALENDAR
gold    high      30m       3h          24x7
gold    medium    1h        4h          24x7
gold    low       2h        6h          24x7
silver  critical  15m       2h          24x7
silver  alpha     1h        2h          24x7
silver  zeta      1h30m     1m30s       24x7
stages: alert at 85%, breach at 100%, escalation-1 at 150%
statuses: awaiting response new, open; paused pending, on_hold, waiting_on_customer; resolved resolved, closed, solved
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteSummary (-want +got):\n%s", diff)
	}
	if got := p.Summary()[0].String(); got != "gold/high: response 30m, resolution 3h (24x7)" {
		t.Errorf("PolicyRow.String() = %q", got)
	}
}
