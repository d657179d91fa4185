package watchdog_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// ExampleParsePolicy loads an SLA file in the seed's format, with one
// extension, and looks up the targets of a ticket's tier and priority.
func ExampleParsePolicy() {
	p, err := watchdog.ParsePolicy([]byte(`
thresholds: {alert: 0.8, breach: 1.0}
escalation: [1.5]
tiers:
  gold:
    high: {response: 30, resolution: 180}   # integer minutes, as in the seed
    low: {response: 2h, resolution: 1h30m}  # or Go durations
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Tier and priority match case-insensitively.
	t, cal, _, ok := p.Lookup("Gold", "HIGH")
	fmt.Println(ok, t.Response, t.Resolution, cal.Name())
	for _, st := range p.Stages() {
		fmt.Printf("%s at %.0f%% of %v\n", st.Name, st.Fraction*100, t.Response)
	}
	_, _, reason, ok := p.Lookup("silver", "high")
	fmt.Println(ok, reason)
	// Output:
	// true 30m0s 3h0m0s 24x7
	// alert at 80% of 30m0s
	// breach at 100% of 30m0s
	// escalation-1 at 150% of 30m0s
	// false no SLA policy for customer tier "silver"
}

// ExampleParsePolicy_errors shows that a bad file is rejected with every
// problem named by line and key path, including typos in key names.
func ExampleParsePolicy_errors() {
	_, err := watchdog.ParsePolicy([]byte(`tiers:
  gold:
    high:
      reponse: 30
      resolution: abc
`))
	var pe *watchdog.PolicyError
	if errors.As(err, &pe) {
		for _, is := range pe.Issues {
			fmt.Println(is)
		}
	}
	fmt.Println(errors.Is(err, watchdog.ErrInvalidPolicy))
	// Output:
	// line 3: tiers.gold.high.response: missing (use minutes such as 30 or a duration such as 2h)
	// line 4: tiers.gold.high.reponse: unknown key "reponse" (did you mean response?)
	// line 5: tiers.gold.high.resolution: "abc" is not a duration (use minutes such as 30 or a duration such as 2h)
	// true
}

// ExamplePolicy_WriteSummary prints the seed's policy as `watchdogd
// check-config` does.
func ExamplePolicy_WriteSummary() {
	if err := watchdog.DefaultPolicy().WriteSummary(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// TIER  PRIORITY  RESPONSE  RESOLUTION  CALENDAR
	// gold  high      30m       3h          24x7
	// gold  medium    1h        4h          24x7
	// gold  low       2h        6h          24x7
	// stages: alert at 85%, breach at 100%
	// statuses: awaiting response new, open; paused pending, on_hold, waiting_on_customer; resolved resolved, closed, solved
}

// ExamplePolicy_WithThresholds applies the seed's ALERT_THRESHOLD and
// BREACH_THRESHOLD overrides to a loaded policy.
func ExamplePolicy_WithThresholds() {
	p, err := watchdog.DefaultPolicy().WithThresholds(0.75, 1.0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Stages())
	_, err = p.WithThresholds(1.2, 1.0)
	fmt.Println(err)
	// Output:
	// [{alert 0.75} {breach 1}]
	// sla file: thresholds: alert 1.2 must be below breach 1
}

// ExamplePolicy_Select loads a file with policies, picks the policy in force
// for two tickets and prints the file as `watchdogd check-config` does.
func ExamplePolicy_Select() {
	p, err := watchdog.ParsePolicy([]byte(`
policies:
  - name: vip-billing
    match: {tier: gold, attributes.group: [billing, payments], tags: vip}
    targets: {response: 15m, next_reply: 1h, periodic_update: 4h, resolution: 8h}
  - name: email
    match: {attributes.channel: email, not: {priority: low}}
    targets: {response: 4h, resolution: 72h}
tiers:
  gold:
    high: {response: 30, resolution: 180}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	created := time.Date(2026, 6, 18, 9, 0, 0, 0, time.UTC)
	for _, ev := range []watchdog.Event{
		{ID: "1", Priority: "high", CustomerTier: "Gold", Status: "open", CreatedAt: created, UpdatedAt: created,
			Attributes: map[string]string{"group": "billing"}, Tags: []string{"vip"}},
		{ID: "2", Priority: "high", CustomerTier: "gold", Status: "open", CreatedAt: created, UpdatedAt: created},
	} {
		t := &watchdog.Ticket{}
		t.Merge(ev)
		sel, _, _ := p.Select(t)
		fmt.Printf("ticket %s: %s, next reply %s\n", ev.ID, sel.Name, sel.Targets.NextReply)
	}
	if err := p.WriteSummary(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ticket 1: vip-billing, next reply 1h0m0s
	// ticket 2: tiers.gold.high, next reply 0s
	// POLICY       MATCH                                                           RESPONSE  RESOLUTION  NEXT REPLY  PERIODIC UPDATE  CALENDAR
	// vip-billing  {tier: gold, attributes.group: [billing, payments], tags: vip}  15m       8h          1h          4h               24x7
	// email        {attributes.channel: email, not: {priority: low}}               4h        72h         -           -                24x7
	// then the tiers, as policies tiers.<tier>.<priority>:
	// TIER  PRIORITY  RESPONSE  RESOLUTION  CALENDAR
	// gold  high      30m       3h          24x7
	// stages: alert at 85%, breach at 100%
	// statuses: awaiting response new, open; paused pending, on_hold, waiting_on_customer; resolved resolved, closed, solved
}
