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
)

// FuzzParsePolicy checks that no input makes ParsePolicy panic, that a
// rejected file always gives a *PolicyError with at least one issue, and
// that an accepted one is internally consistent and can be summarised.
func FuzzParsePolicy(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "sla", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"tiers: {gold: {high: {response: 30, resolution: 2h}}}",
		"thresholds: {alert: 0.5, breach: 0.9}\nescalation: [1, 2]\ntiers: {g: {p: {response: 1h30m, resolution: \"45\"}}}",
		"statuses: {paused: [a], resolved: [a]}\ntiers: {g: {calendar: x, p: {response: 1, resolution: 1}}}",
		"calendars: {c: {timezone: UTC, hours: {mon: [\"00:00-24:00\"], sunday: \"09:00-10:00\"}, holidays: [2026-01-01], country: US}}\ntiers: {g: {calendar: C, p: {response: 1, resolution: 1}}}",
		"tiers:\n  a: &x {p: {response: 1, resolution: 2}}\n  b: *x\n  c: {<<: *x}\n",
		"tiers: {gold: {high: {response: 1.5, resolution: -1}}}\n---\nfoo",
		"calendars: {c: {timezone: UTC, hours: {mon: [\"09:00-17:00\"]}}}\ntiers: {g: {p: {response: 1, resolution: 1}}}\nnotifications:\n  receivers:\n    s: {slack: {webhook_url: \"http://x/${HOME}\"}}\n    h: {webhook: {url: \"https://h\", secret: s}}\n    p: {pagerduty: {routing_key: \"${NOPE\"}}\n  routes:\n    - {match: {tier: g, stage: [breach, escalation], not: {attributes.group: b}}, receivers: [s, h], continue: true, group_interval: 5m}\n    - {receivers: [h], deliver_during: c, deliver_during_except: [breach], inhibit: false}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			var pe *PolicyError
			if p != nil || !errors.As(err, &pe) || len(pe.Issues) == 0 || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("ParsePolicy error %T %v with policy %v; want a *PolicyError with issues and no policy", err, err, p)
			}
			for _, is := range pe.Issues {
				if is.Message == "" || is.Line < 0 {
					t.Fatalf("bad issue %+v", is)
				}
			}
			return
		}
		if len(p.Tiers) == 0 {
			t.Fatal("accepted a policy without tiers")
		}
		if n := p.Notifications; n != nil {
			for _, r := range n.Routes {
				for _, name := range r.Receivers {
					if n.Receivers[name] == nil || n.Receivers[name].Kind() == "" {
						t.Fatalf("route at line %d names receiver %q, which is not a valid receiver", r.Line, name)
					}
				}
			}
		}
		if msg := checkThresholds(p.Thresholds.Alert, p.Thresholds.Breach); msg != "" {
			t.Fatalf("accepted thresholds %+v: %s", p.Thresholds, msg)
		}
		st := p.Stages()
		for i := 1; i < len(st); i++ {
			if st[i].Fraction <= st[i-1].Fraction {
				t.Fatalf("stages not strictly ascending: %+v", st)
			}
		}
		if st[0].Name != StageAlert || st[1].Name != StageBreach {
			t.Fatalf("stages do not start with alert, breach: %+v", st)
		}
		for _, s := range p.Statuses.Paused {
			if p.Statuses.IsResolved(s) {
				t.Fatalf("status %q is both paused and resolved", s)
			}
		}
		rows := p.Summary()
		if len(rows) == 0 {
			t.Fatal("Summary is empty for an accepted policy")
		}
		for _, r := range rows {
			if r.Response < time.Second || r.Resolution < time.Second || r.Response > MaxTarget || r.Resolution > MaxTarget {
				t.Fatalf("row %v has a target out of range", r)
			}
			got, cal, reason, ok := p.Lookup(strings.ToUpper(r.Tier), r.Priority)
			if !ok || reason != "" || got.Response != r.Response || got.Resolution != r.Resolution || cal.Name() != r.Calendar {
				t.Fatalf("Lookup(%q, %q) = %+v, %v, %q, %v; want row %v", r.Tier, r.Priority, got, cal.Name(), reason, ok, r)
			}
			if r.String() == "" {
				t.Fatal("empty row string")
			}
		}
		var b bytes.Buffer
		if err := p.WriteSummary(&b); err != nil {
			t.Fatal(err)
		}
		if lines := strings.Count(b.String(), "\n"); lines < len(rows)+3 {
			t.Fatalf("WriteSummary wrote %d lines for %d rows:\n%s", lines, len(rows), b.String())
		}
	})
}

// FuzzParseTarget checks that the target parser never panics and that what
// it accepts is in range and read the way the SLA file means it.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"30", "0", "-5", "+7", "1.5", "2h", "90m", "1h30m", "45s", "500ms", "8760h", "8761h",
		"525600", "525601", "99999999999999999999", "abc", "", " ", "1e3", ".inf", "NaN", "0x1E", "1d", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseTarget(s)
		if err != nil {
			if d != 0 || err.Error() == "" {
				t.Fatalf("parseTarget(%q) = %v, %q", s, d, err)
			}
			return
		}
		if d < time.Second || d > MaxTarget {
			t.Fatalf("parseTarget(%q) = %v, out of range", s, d)
		}
		v := strings.TrimSpace(s)
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if d != time.Duration(n)*time.Minute {
				t.Fatalf("parseTarget(%q) = %v; want %d minutes", s, d, n)
			}
		}
		// What Go prints for a duration reads back as the same duration.
		if back, err := parseTarget(d.String()); err != nil || back != d {
			t.Fatalf("parseTarget(%q) = %v, %v; want %v", d.String(), back, err, d)
		}
	})
}
