package slack

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/ticket-watchdog/watchdog"
)

// rawAmp is an "&" that does not start one of the three escapes.
var rawAmp = regexp.MustCompile(`&(?:[^agl]|a[^m]|am[^p]|amp[^;]|l[^t]|lt[^;]|g[^t]|gt[^;]|$)`)

// inertStrings checks every string in a posted payload but the link and
// the colour: none may hold "<" or ">" (a mention, a link) or a bare "&".
func inertStrings(t *testing.T, field string, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k != "title_link" && k != "color" {
				inertStrings(t, field, e, path+"."+k)
			}
		}
	case []any:
		for i, e := range x {
			inertStrings(t, field, e, path+"["+strconv.Itoa(i)+"]")
		}
	case string:
		if regexp.MustCompile(`[<>]`).MatchString(x) || rawAmp.MatchString(x+" ") {
			t.Errorf("%s: %s = %q reaches Slack unescaped", field, path, x)
		}
	}
}

// Every user-supplied string reaches Slack inert in every field: the
// ticket id went raw into the attachment title, so <!channel> pinged a
// channel and <url|text> made a link.
func TestEveryFieldEscaped(t *testing.T) {
	t.Parallel()
	const hostile = "<!channel> <https://evil.example|click> & <@U123>"
	for _, tc := range []struct {
		field string
		set   func(*watchdog.Alert)
	}{
		{"ticket id", func(a *watchdog.Alert) { a.TicketID = hostile }},
		{"tier", func(a *watchdog.Alert) { a.CustomerTier = hostile }},
		{"priority", func(a *watchdog.Alert) { a.Priority = hostile }},
		{"status/state", func(a *watchdog.Alert) { a.State = hostile }},
		{"details", func(a *watchdog.Alert) { a.Message = hostile }},
		{"sla clock", func(a *watchdog.Alert) { a.SLAClock = watchdog.SLAClock(hostile) }},
		{"stage", func(a *watchdog.Alert) { a.Stage = "escalation-" + hostile }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			t.Parallel()
			f := newFakeSlack(t, reply{body: "ok"})
			n, err := NewWebhook(f.URL+webhookPath, &Config{DashboardURL: "https://d.example"})
			if err != nil {
				t.Fatal(err)
			}
			a := testAlert()
			tc.set(&a)
			other := testAlert()
			other.ID = 12
			if _, err := n.Deliver(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if _, err := n.DeliverBatch(context.Background(), []watchdog.Alert{a, other}); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				var payload any
				if err := json.Unmarshal(f.body(i), &payload); err != nil {
					t.Fatal(err)
				}
				inertStrings(t, tc.field, payload, "")
			}
		})
	}
}
