package notify

import (
	"context"
	"fmt"
	"testing"

	"github.com/ticket-watchdog/watchdog"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	a := watchdog.Alert{
		SLAClock: watchdog.Response, Stage: "escalation-2", State: "breach",
		Priority: "high", CustomerTier: "gold",
	}
	tests := []struct {
		name string
		m    Match
		want bool
	}{
		{"zero matches all", Match{}, true},
		{"tier", Match{Tiers: []string{"silver", "gold"}}, true},
		{"tier case-insensitive", Match{Tiers: []string{"GOLD"}}, true},
		{"tier mismatch", Match{Tiers: []string{"silver"}}, false},
		{"priority", Match{Priorities: []string{"High"}}, true},
		{"priority mismatch", Match{Priorities: []string{"low", "medium"}}, false},
		{"state", Match{States: []string{"breach"}}, true},
		{"state mismatch", Match{States: []string{"alert"}}, false},
		{"stage exact", Match{Stages: []string{"escalation-2"}}, true},
		{"stage exact mismatch", Match{Stages: []string{"escalation-1"}}, false},
		{"stage prefix", Match{Stages: []string{"Escalation-*"}}, true},
		{"stage prefix mismatch", Match{Stages: []string{"breach*"}}, false},
		{"star matches anything", Match{Stages: []string{"*"}}, true},
		{"clock", Match{SLAClocks: []watchdog.SLAClock{watchdog.Response}}, true},
		{"clock case-insensitive", Match{SLAClocks: []watchdog.SLAClock{"RESPONSE"}}, true},
		{"clock mismatch", Match{SLAClocks: []watchdog.SLAClock{watchdog.Resolution}}, false},
		{"all fields", Match{
			Tiers: []string{"gold"}, Priorities: []string{"high"}, States: []string{"breach"},
			Stages: []string{"escalation-*"}, SLAClocks: []watchdog.SLAClock{watchdog.Response},
		}, true},
		{"one field fails all", Match{
			Tiers: []string{"gold"}, Priorities: []string{"high"}, States: []string{"breach"},
			Stages: []string{"escalation-*"}, SLAClocks: []watchdog.SLAClock{watchdog.Resolution},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.m.Matches(a); got != tt.want {
				t.Errorf("%+v.Matches = %v, want %v", tt.m, got, tt.want)
			}
		})
	}
}

func TestRouter(t *testing.T) {
	t.Parallel()
	gold := watchdog.Alert{ID: 1, CustomerTier: "gold", Priority: "high", State: "breach", Stage: "breach", SLAClock: watchdog.Resolution}
	silver := watchdog.Alert{ID: 2, CustomerTier: "silver", Priority: "low", State: "alert", Stage: "alert", SLAClock: watchdog.Response}
	tests := []struct {
		name        string
		routes      func(f []*fake) []Route
		useFallback bool
		alert       watchdog.Alert
		// wantCalls is the call count of fakes 0..2 and the fallback (3).
		wantCalls [4]int
	}{
		{
			name: "first match wins",
			routes: func(f []*fake) []Route {
				return []Route{
					{Match: Match{Tiers: []string{"gold"}}, Notifier: f[0].notifier()},
					{Match: Match{States: []string{"breach"}}, Notifier: f[1].notifier()},
				}
			},
			useFallback: true,
			alert:       gold,
			wantCalls:   [4]int{1, 0, 0, 0},
		},
		{
			name: "continue keeps matching",
			routes: func(f []*fake) []Route {
				return []Route{
					{Match: Match{Tiers: []string{"gold"}}, Notifier: f[0].notifier(), Continue: true},
					{Match: Match{Tiers: []string{"silver"}}, Notifier: f[1].notifier()},
					{Match: Match{States: []string{"breach"}}, Notifier: f[2].notifier()},
				}
			},
			useFallback: true,
			alert:       gold,
			wantCalls:   [4]int{1, 0, 1, 0},
		},
		{
			name: "no match goes to fallback",
			routes: func(f []*fake) []Route {
				return []Route{{Match: Match{Tiers: []string{"gold"}}, Notifier: f[0].notifier()}}
			},
			useFallback: true,
			alert:       silver,
			wantCalls:   [4]int{0, 0, 0, 1},
		},
		{
			name: "no match and no fallback is dropped",
			routes: func(f []*fake) []Route {
				return []Route{{Match: Match{Tiers: []string{"gold"}}, Notifier: f[0].notifier()}}
			},
			alert:     silver,
			wantCalls: [4]int{0, 0, 0, 0},
		},
		{
			name: "nil notifier silences matching alerts",
			routes: func(f []*fake) []Route {
				return []Route{
					{Match: Match{Priorities: []string{"low"}}},
					{Match: Match{}, Notifier: f[1].notifier()},
				}
			},
			useFallback: true,
			alert:       silver,
			wantCalls:   [4]int{0, 0, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := []*fake{{}, {}, {}, {}}
			var fb watchdog.Notifier
			if tt.useFallback {
				fb = f[3].notifier()
			}
			r := Router(tt.routes(f), fb)
			if retry, err := r.Deliver(t.Context(), tt.alert); retry || err != nil {
				t.Fatalf("Deliver = (%v, %v), want success", retry, err)
			}
			for i := range f {
				if got := f[i].count(); got != tt.wantCalls[i] {
					t.Errorf("notifier %d called %d times, want %d", i, got, tt.wantCalls[i])
				}
			}
		})
	}
}

func TestRouterRetriesOnlyFailedRoutes(t *testing.T) {
	t.Parallel()
	ok := &fake{}
	flaky := &fake{script: []step{rateLimited(0)}}
	r := Router([]Route{
		{Notifier: ok.notifier(), Continue: true},
		{Notifier: flaky.notifier()},
	}, nil)
	a := alert(9)
	retry, err := r.Deliver(t.Context(), a)
	if !retry || err == nil {
		t.Fatalf("first Deliver = (%v, %v), want retryable failure", retry, err)
	}
	if retry, err := r.Deliver(t.Context(), a); retry || err != nil {
		t.Fatalf("second Deliver = (%v, %v), want success", retry, err)
	}
	if ok.count() != 1 || flaky.count() != 2 {
		t.Errorf("calls = %d, %d, want 1, 2", ok.count(), flaky.count())
	}
}

func TestRouterCopiesRoutes(t *testing.T) {
	t.Parallel()
	a, b := &fake{}, &fake{}
	routes := []Route{{Match: Match{Tiers: []string{"gold"}}, Notifier: a.notifier()}}
	r := Router(routes, nil)
	routes[0].Match = Match{Tiers: []string{"silver"}}
	routes[0].Notifier = b.notifier()
	if _, err := r.Deliver(t.Context(), alert(1)); err != nil {
		t.Fatal(err)
	}
	if a.count() != 1 || b.count() != 0 {
		t.Errorf("calls = %d, %d, want 1, 0", a.count(), b.count())
	}
}

func ExampleRouter() {
	say := func(name string) watchdog.Notifier {
		return watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
			fmt.Printf("%s <- %s %s\n", name, a.CustomerTier, a.Stage)
			return false, nil
		})
	}
	r := Router([]Route{
		// Escalations past breach page whoever is on call, and also go on.
		{Match: Match{Stages: []string{"escalation-*"}}, Notifier: say("pager")},
		{Match: Match{Tiers: []string{"gold"}}, Notifier: say("#gold-support")},
	}, say("#support"))
	ctx := context.Background()
	r.Deliver(ctx, watchdog.Alert{ID: 1, CustomerTier: "gold", Stage: "breach"})
	r.Deliver(ctx, watchdog.Alert{ID: 2, CustomerTier: "silver", Stage: "escalation-1"})
	r.Deliver(ctx, watchdog.Alert{ID: 3, CustomerTier: "bronze", Stage: "alert"})
	// Output:
	// #gold-support <- gold breach
	// pager <- silver escalation-1
	// #support <- bronze alert
}
