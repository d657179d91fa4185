package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

func TestFanout(t *testing.T) {
	t.Parallel()
	type attempt struct {
		wantRetry bool
		wantErr   bool
		wantAfter time.Duration // checked when > 0
		// wantCalls is each member's cumulative call count after the attempt.
		wantCalls []int
	}
	tests := []struct {
		name     string
		scripts  [][]step
		attempts []attempt
	}{
		{
			name:     "all succeed",
			scripts:  [][]step{nil, nil, nil},
			attempts: []attempt{{wantCalls: []int{1, 1, 1}}},
		},
		{
			name:    "retry resends only to the failed member",
			scripts: [][]step{nil, {retryable()}, nil},
			attempts: []attempt{
				{wantRetry: true, wantErr: true, wantCalls: []int{1, 1, 1}},
				{wantCalls: []int{1, 2, 1}},
			},
		},
		{
			name:    "permanent failure alone is not retried",
			scripts: [][]step{nil, {permanent()}},
			attempts: []attempt{
				{wantErr: true, wantCalls: []int{1, 1}},
			},
		},
		{
			name:    "any retryable failure retries, permanent member is not called again",
			scripts: [][]step{{permanent()}, {retryable(), retryable()}, nil},
			attempts: []attempt{
				{wantRetry: true, wantErr: true, wantCalls: []int{1, 1, 1}},
				{wantRetry: true, wantErr: true, wantCalls: []int{1, 2, 1}},
				// The retryable member succeeds; the permanent failure is
				// reported and the outbox gives up.
				{wantRetry: false, wantErr: true, wantCalls: []int{1, 3, 1}},
			},
		},
		{
			name:    "retry after is the longest wait",
			scripts: [][]step{{rateLimited(3 * time.Second)}, {rateLimited(20 * time.Second)}, {retryable()}},
			attempts: []attempt{
				{wantRetry: true, wantErr: true, wantAfter: 20 * time.Second, wantCalls: []int{1, 1, 1}},
				{wantCalls: []int{2, 2, 2}},
			},
		},
		{
			name:     "no members",
			scripts:  nil,
			attempts: []attempt{{wantCalls: []int{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fakes := make([]*fake, len(tt.scripts))
			ns := make([]watchdog.Notifier, len(tt.scripts))
			for i, s := range tt.scripts {
				fakes[i] = &fake{script: s}
				ns[i] = fakes[i].notifier()
			}
			n := Fanout(ns...)
			for k, at := range tt.attempts {
				retry, err := n.Deliver(t.Context(), alert(7))
				if retry != at.wantRetry || (err != nil) != at.wantErr {
					t.Fatalf("attempt %d: Deliver = (%v, %v), want retry %v, error %v", k, retry, err, at.wantRetry, at.wantErr)
				}
				if at.wantAfter > 0 {
					rae, ok := errors.AsType[*watchdog.RetryAfterError](err)
					if !ok || rae.After != at.wantAfter {
						t.Fatalf("attempt %d: error %v, want RetryAfterError with After %v", k, err, at.wantAfter)
					}
				}
				for i, f := range fakes {
					if got := f.count(); got != at.wantCalls[i] {
						t.Errorf("attempt %d: member %d called %d times, want %d", k, i, got, at.wantCalls[i])
					}
				}
			}
		})
	}
}

func TestFanoutErrorNamesMembersAndWraps(t *testing.T) {
	t.Parallel()
	bad := &fake{script: []step{permanent()}}
	flaky := &fake{script: []step{retryable()}}
	n := Fanout((&fake{}).notifier(), bad.notifier(), flaky.notifier())
	retry, err := n.Deliver(t.Context(), alert(1))
	if !retry || err == nil {
		t.Fatalf("Deliver = (%v, %v), want retry with error", retry, err)
	}
	if !errors.Is(err, errPerm) || !errors.Is(err, errTemp) {
		t.Errorf("error %v does not wrap both member errors", err)
	}
	msg := err.Error()
	for _, want := range []string{"2 of 3", "notifier 1: permanent", "notifier 2: temporary"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
}

func TestFanoutAlertsAreIndependent(t *testing.T) {
	t.Parallel()
	flaky := &fake{script: []step{retryable()}}
	ok := &fake{}
	n := Fanout(ok.notifier(), flaky.notifier())
	if retry, err := n.Deliver(t.Context(), alert(1)); !retry || err == nil {
		t.Fatalf("alert 1: Deliver = (%v, %v), want a retryable failure", retry, err)
	}
	// Another alert goes to every member, whatever alert 1's progress.
	if _, err := n.Deliver(t.Context(), alert(2)); err != nil {
		t.Fatalf("alert 2: %v", err)
	}
	if ok.count() != 2 || flaky.count() != 2 {
		t.Errorf("calls = %d, %d, want 2, 2", ok.count(), flaky.count())
	}
	// An alert without an ID (never stored) is not remembered: each call
	// goes to every member.
	for range 2 {
		if _, err := n.Deliver(t.Context(), alert(0)); err != nil {
			t.Fatal(err)
		}
	}
	if ok.count() != 4 {
		t.Errorf("ok member called %d times, want 4", ok.count())
	}
}

func TestFanoutRunsConcurrently(t *testing.T) {
	t.Parallel()
	// Each member waits until every member has started: sequential delivery
	// would block until the context ends.
	const n = 3
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	ns := make([]watchdog.Notifier, n)
	for i := range ns {
		ns[i] = watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
			started.Done()
			select {
			case <-all:
				return false, nil
			case <-ctx.Done():
				return true, ctx.Err()
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := Fanout(ns...).Deliver(ctx, alert(1)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
}

func TestFanoutPanicIsPermanentFailure(t *testing.T) {
	t.Parallel()
	boom := watchdog.NotifierFunc(func(context.Context, watchdog.Alert) (bool, error) { panic("boom") })
	retry, err := Fanout(boom, nil).Deliver(t.Context(), alert(1))
	if retry || err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("Deliver = (%v, %v), want permanent panic error", retry, err)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	t.Parallel()
	m := newMemory(3)
	for id := int64(1); id <= 5; id++ {
		m.record(id, map[int]outcome{0: {}})
	}
	if got := m.len(); got != 3 {
		t.Fatalf("len = %d, want 3", got)
	}
	if m.get(1) != nil || m.get(2) != nil {
		t.Error("oldest alerts were not evicted")
	}
	// Touching 3 makes 4 the least recently used.
	m.get(3)
	m.record(6, map[int]outcome{0: {}})
	if m.get(4) != nil {
		t.Error("alert 4 should have been evicted")
	}
	if m.get(3) == nil || m.get(5) == nil || m.get(6) == nil {
		t.Error("recent alerts were evicted")
	}
	m.forget(6)
	if m.get(6) != nil || m.len() != 2 {
		t.Errorf("forget(6): len %d", m.len())
	}
}

func TestFanoutForgetsFinishedAlerts(t *testing.T) {
	t.Parallel()
	g := newGroup(DefaultRemembered)
	flaky := &fake{script: []step{retryable()}}
	g.add("a", (&fake{}).notifier())
	g.add("b", flaky.notifier())
	for id := int64(1); id <= 100; id++ {
		if _, err := g.deliver(t.Context(), alert(id), g.all()); err != nil && id != 1 {
			t.Fatalf("alert %d: %v", id, err)
		}
	}
	if got := g.mem.len(); got != 1 {
		t.Fatalf("remembered %d alerts, want 1 (the one still failing)", got)
	}
	if _, err := g.deliver(t.Context(), alert(1), g.all()); err != nil {
		t.Fatal(err)
	}
	if got := g.mem.len(); got != 0 {
		t.Fatalf("remembered %d alerts after all succeeded, want 0", got)
	}
}

func ExampleFanout() {
	hook := func(name string) watchdog.Notifier {
		return watchdog.NotifierFunc(func(ctx context.Context, a watchdog.Alert) (bool, error) {
			fmt.Printf("%s: ticket %s %s\n", name, a.TicketID, a.State)
			return false, nil
		})
	}
	// Members run concurrently; a single member keeps the output ordered.
	n := Fanout(hook("pager"))
	_, err := n.Deliver(context.Background(), watchdog.Alert{ID: 1, TicketID: "42", State: "breach"})
	fmt.Println("error:", err)
	// Output:
	// pager: ticket 42 breach
	// error: <nil>
}
