package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// check-config prints the seed's file exactly as before policies existed,
// and a policies file as its policies, then the tiers.
func TestCheckConfigOutputExact(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	const rest = "stages: alert at 85%, breach at 100%\n" +
		"statuses: awaiting response new, open; paused pending, on_hold, waiting_on_customer; resolved resolved, closed, solved\n"
	for file, want := range map[string]string{
		filepath.Join(root, "sla_config.yaml"): "OK\n\n" +
			"TIER  PRIORITY  RESPONSE  RESOLUTION  CALENDAR\n" +
			"gold  high      30m       3h          24x7\n" +
			"gold  medium    1h        4h          24x7\n" +
			"gold  low       2h        6h          24x7\n" + rest,
		filepath.Join(root, "testdata", "sla", "policies.yaml"): "OK\n\n" +
			"POLICY       MATCH                                                           RESPONSE  RESOLUTION  NEXT REPLY  PERIODIC UPDATE  CALENDAR\n" +
			"vip-billing  {tier: gold, attributes.group: [billing, payments], tags: vip}  15m       8h          1h          4h               eu-business\n" +
			"email        {attributes.channel: email, not: {priority: low}}               4h        72h         -           -                24x7\n" +
			"then the tiers, as policies tiers.<tier>.<priority>:\n" +
			"TIER  PRIORITY  RESPONSE  RESOLUTION  CALENDAR\n" +
			"gold  high      30m       3h          24x7\n" + rest +
			"calendars: eu-business\n",
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"check-config", file}, &stdout, &stderr, mapLookup(nil)); code != 0 {
			t.Fatalf("check-config %s: exit %d\n%s", file, code, stderr.String())
		}
		if got := stdout.String(); got != file+": "+want {
			t.Errorf("check-config %s printed\n%s\nwant\n%s", file, got, file+": "+want)
		}
	}
}
