package watchdog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ticket-watchdog/watchdog"
)

func TestParsePolicies(t *testing.T) {
	p, err := watchdog.ParsePolicy([]byte(`
calendars:
  eu-business:
    timezone: Europe/Berlin
    hours: {mon: ["09:00-17:00"]}
policies:                                  # ordered: the first whose match holds applies
  - name: vip-billing
    match: {tier: gold, attributes.group: [billing, payments], tags: vip}
    calendar: eu-business
    targets: {response: 15m, next_reply: 1h, periodic_update: 4h, resolution: 8h}
  - name: email
    match: {attributes.channel: email, not: {priority: low}}
    targets: {response: 4h, resolution: 72h}
  - name: everything
    targets: {next_reply: 30}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Policies) != 3 || len(p.Tiers) != 0 {
		t.Fatalf("%d policies, %d tiers", len(p.Policies), len(p.Tiers))
	}
	vip := p.Policies[0]
	want := watchdog.Targets{Response: 15 * time.Minute, Resolution: 8 * time.Hour, NextReply: time.Hour, PeriodicUpdate: 4 * time.Hour}
	if vip.Name != "vip-billing" || vip.Calendar.Name() != "eu-business" || vip.Targets != want || vip.Line != 7 {
		t.Errorf("vip-billing: %+v", vip)
	}
	if got := p.Policies[2]; !got.Match.IsZero() || got.Targets != (watchdog.Targets{NextReply: 30 * time.Minute}) || got.Calendar != nil {
		t.Errorf("everything: %+v", got)
	}
	var b strings.Builder
	if err := p.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"vip-billing", "{tier: gold, attributes.group: [billing, payments], tags: vip}  15m       8h          1h          4h", "everything", "{}"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, b.String())
		}
	}
}

func TestParsePoliciesErrors(t *testing.T) {
	cases := []struct {
		name, file string
		want       []string
	}{
		{"unknown match key", `
policies:
  - name: a
    match: {status: open}
    targets: {response: 1h}`, []string{`line 4: policies[0].match.status: unknown key "status"`}},
		{"missing name and targets", `
policies:
  - match: {tier: gold}`, []string{"line 3: policies[0].name: missing", "line 3: policies[0].targets: missing"}},
		{"duplicate names", `
policies:
  - {name: a, targets: {response: 1h}}
  - {name: A, targets: {response: 1h}}`, []string{`line 4: policies[1].name: policy name "A" is used twice (first at line 3)`}},
		{"comma in a name", `
policies:
  - {name: "billing, vip", targets: {response: 1h}}`, []string{`line 3: policies[0].name: "billing, vip": a name must not contain a comma`}},
		{"unknown target", `
policies:
  - {name: a, targets: {next_replys: 1h}}`, []string{`line 3: policies[0].targets.next_replys: unknown key "next_replys" (did you mean next_reply?)`}},
		{"bad target", `
policies:
  - {name: a, targets: {periodic_update: soon}}`, []string{`line 3: policies[0].targets.periodic_update: "soon" is not a duration`}},
		{"no targets", `
policies:
  - {name: a, targets: {}}`, []string{"line 3: policies[0].targets: no targets"}},
		{"unknown calendar", `
policies:
  - {name: a, calendar: office, targets: {response: 1h}}`, []string{`line 3: policies[0].calendar: unknown calendar "office"`}},
		{"a tiers name", `
policies:
  - {name: tiers.gold.high, targets: {response: 1h}}`, []string{"line 3: policies[0].name:"}},
		{"not a list", `
policies: {name: a}`, []string{"line 2: policies: must be a list"}},
		{"a typo of policies", `
polices: []`, []string{`line 2: polices: unknown key "polices" (did you mean policies?)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := watchdog.ParsePolicy([]byte(c.file))
			var pe *watchdog.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want a *PolicyError", err)
			}
			var got []string
			for _, is := range pe.Issues {
				got = append(got, is.String())
			}
			for _, w := range c.want {
				found := false
				for _, g := range got {
					found = found || strings.HasPrefix(g, w)
				}
				if !found {
					t.Errorf("no issue starting %q in\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// TestTiersActAsPolicies: a tiers entry is the policy
// tiers.<tier>.<priority>, tried after the policies, with response and
// resolution targets only.
func TestTiersActAsPolicies(t *testing.T) {
	p := watchdog.DefaultPolicy()
	tk := &watchdog.Ticket{}
	tk.Merge(watchdog.Event{ID: "1", Priority: "High", CustomerTier: "Gold", Status: "open", CreatedAt: t0, UpdatedAt: t0})
	sel, _, ok := p.Select(tk)
	if !ok || sel.Name != "tiers.gold.high" || sel.Targets != (watchdog.Targets{Response: 30 * time.Minute, Resolution: 3 * time.Hour}) {
		t.Errorf("select: %+v %v", sel, ok)
	}
	ev := watchdog.Evaluate(tk, p, t0)
	if diff := cmp.Diff([]string{"resolution", "response"}, keys(ev.SLAClocks)); diff != "" || ev.Policy != "tiers.gold.high" {
		t.Errorf("clocks (-want +got):\n%s, policy %s", diff, ev.Policy)
	}
}

func keys(m map[watchdog.SLAClock]*watchdog.SLAClockView) []string {
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	if len(out) == 2 && out[0] > out[1] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}
