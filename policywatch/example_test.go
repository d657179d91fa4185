package policywatch_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/policywatch"
)

// A watcher puts each good version of the SLA file in force and keeps the
// last good one when a version does not validate. In a server, apply is
// (*watchdog.Engine).SetPolicy and Run watches for changes in the
// background.
func Example() {
	dir, err := os.MkdirTemp("", "sla")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sla_config.yaml")
	if err := os.WriteFile(path, []byte(watchdog.SeedPolicy), 0o644); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	w, err := policywatch.New(path, func(_ context.Context, p *watchdog.Policy) error {
		t, _, _, _ := p.Lookup("gold", "high")
		fmt.Println("applied: gold/high response", t.Response)
		return nil
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Load(ctx); err != nil {
		log.Fatal(err)
	}

	// A typo in the file: the old policy stays in force.
	broken := "tiers:\n  gold:\n    high: {response: 30m, resolution: 3h, escalate: 2}\n"
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		log.Fatal(err)
	}
	err = w.Load(ctx)
	var pe *watchdog.PolicyError
	if errors.As(err, &pe) {
		fmt.Println("rejected:", pe.Issues[0])
	}
	st := w.Status()
	fmt.Println("generation", st.Generation, "loaded", st.Loaded())
	// Output:
	// applied: gold/high response 30m0s
	// rejected: line 3: tiers.gold.high.escalate: unknown key "escalate" (want one of response, resolution)
	// generation 1 loaded true
}
