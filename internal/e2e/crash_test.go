package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/notify/slack"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

// The child process is configured through the environment.
const (
	childEnv   = "WD_CRASH_CHILD"   // "1" makes the test binary a crash child
	envKind    = "WD_CRASH_KIND"    // kindSQLite or kindPostgres
	envDSN     = "WD_CRASH_DSN"     // SQLite file path or PostgreSQL DSN
	envWebhook = "WD_CRASH_WEBHOOK" // mock Slack webhook URL
	envFirst   = "WD_CRASH_FIRST"   // number of the first new batch
	envRetry   = "WD_CRASH_RETRY"   // a batch to ingest again first (not acknowledged before the kill)
	envPrev    = "WD_CRASH_PREV"    // the batch whose tickets the first new batch updates
)

const (
	crashTicketsPerBatch = 5
	crashBatchPause      = 100 * time.Millisecond
	crashConcurrency     = 8
	crashDeliveryBatch   = 16
	// crashDeliveryTimeout bounds a Slack attempt; a delivery claimed by a
	// killed process is claimed again after the lease, 2× this.
	crashDeliveryTimeout = 2 * time.Second
	crashCycles          = 3
	// slackDelay holds each mock Slack response after the message is
	// recorded, widening the window in which a kill leaves a sent message
	// unrecorded as delivered (and so re-sent after the lease).
	slackDelay = 5 * time.Millisecond
)

// crashPolicy gives gold/high tickets targets of 1s (response) and 2s
// (resolution), so each new ticket fires four stages in its first 2s:
// response alert 0.85s, breach 1s; resolution alert 1.7s, breach 2s.
func crashPolicy() *watchdog.Policy {
	return policy(watchdog.DefaultThresholds, time.Second, 2*time.Second)
}

// crashStages are the stages every crash-test ticket fires.
var crashStages = []stageKey{
	{Clock: watchdog.Response, Stage: watchdog.StageAlert},
	{Clock: watchdog.Response, Stage: watchdog.StageBreach},
	{Clock: watchdog.Resolution, Stage: watchdog.StageAlert},
	{Clock: watchdog.Resolution, Stage: watchdog.StageBreach},
}

// batch is one ingest request of the crash test: crashTicketsPerBatch new
// tickets created at At, and, when Prev is not 0, batch Prev's tickets
// moved from "new" to "open" at At (a second timeline row each). Its events
// are a pure function of its fields, so a batch retried after a kill is the
// same request.
type batch struct {
	N      int
	At     time.Time
	Prev   int
	PrevAt time.Time
}

func (b batch) String() string {
	prevAt := int64(0)
	if b.Prev > 0 {
		prevAt = b.PrevAt.UnixMicro()
	}
	return fmt.Sprintf("%d %d %d %d", b.N, b.At.UnixMicro(), b.Prev, prevAt)
}

func parseBatch(s string) (batch, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return batch{}, fmt.Errorf("batch %q: want 4 fields", s)
	}
	var n [4]int64
	for i := range f {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return batch{}, fmt.Errorf("batch %q: field %d: %w", s, i+1, err)
		}
		n[i] = v
	}
	b := batch{N: int(n[0]), At: time.UnixMicro(n[1]).UTC(), Prev: int(n[2])}
	if b.Prev > 0 {
		b.PrevAt = time.UnixMicro(n[3]).UTC()
	}
	return b, nil
}

func crashTicketID(n, j int) string { return fmt.Sprintf("c%05d-%02d", n, j) }

func (b batch) events() []watchdog.Event {
	evs := make([]watchdog.Event, 0, 2*crashTicketsPerBatch)
	for j := range crashTicketsPerBatch {
		evs = append(evs, watchdog.Event{ID: crashTicketID(b.N, j), Priority: "high", CustomerTier: "gold",
			Status: "new", CreatedAt: b.At, UpdatedAt: b.At})
	}
	if b.Prev > 0 {
		for j := range crashTicketsPerBatch {
			evs = append(evs, watchdog.Event{ID: crashTicketID(b.Prev, j), Priority: "high", CustomerTier: "gold",
				Status: "open", CreatedAt: b.PrevAt, UpdatedAt: b.At})
		}
	}
	return evs
}

// newCrashEngine is the engine both the child and the parent's final run
// use: real clock, mock Slack as the one notifier.
func newCrashEngine(st watchdog.Store, webhook string, log *slog.Logger) (*watchdog.Engine, error) {
	sl, err := slack.NewWebhook(webhook, &slack.Config{Timeout: crashDeliveryTimeout})
	if err != nil {
		return nil, fmt.Errorf("slack notifier: %w", err)
	}
	return watchdog.New(st, &watchdog.Config{
		Policy:              crashPolicy(),
		Notifiers:           map[string]watchdog.Notifier{"slack": sl},
		Logger:              log,
		SweepInterval:       time.Second,
		DeliveryConcurrency: crashConcurrency,
		DeliveryBatch:       crashDeliveryBatch,
		DeliveryBacklog:     crashDeliveryBatch,
		EvaluateBatch:       crashDeliveryBatch,
		DeliveryTimeout:     crashDeliveryTimeout,
	})
}

// crashChild runs in the child process: an engine with a real clock that
// ingests a batch every crashBatchPause, printing "BEGIN <batch>" before
// each Ingest and "ACK <n>" once it returned nil, until it is killed.
func crashChild() error {
	ctx := context.Background()
	st, err := openStore(ctx, os.Getenv(envKind), os.Getenv(envDSN))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := newCrashEngine(st, os.Getenv(envWebhook), log)
	if err != nil {
		return err
	}
	go func() { _ = eng.Run(ctx) }()

	first, err := strconv.Atoi(os.Getenv(envFirst))
	if err != nil || first < 1 {
		return fmt.Errorf("%s=%q: want a batch number", envFirst, os.Getenv(envFirst))
	}
	var prev batch
	if s := os.Getenv(envPrev); s != "" {
		if prev, err = parseBatch(s); err != nil {
			return err
		}
	}
	if s := os.Getenv(envRetry); s != "" {
		b, err := parseBatch(s)
		if err != nil {
			return err
		}
		if _, err := eng.Ingest(ctx, b.events()); err != nil {
			return fmt.Errorf("retry batch %d: %w", b.N, err)
		}
		fmt.Printf("ACK %d\n", b.N)
		prev = b
	}
	for n := first; ; n++ {
		b := batch{N: n, At: time.Now().UTC().Truncate(time.Microsecond)}
		if prev.N > 0 {
			b.Prev, b.PrevAt = prev.N, prev.At
		}
		fmt.Printf("BEGIN %s\n", b)
		if _, err := eng.Ingest(ctx, b.events()); err != nil {
			return fmt.Errorf("ingest batch %d: %w", n, err)
		}
		fmt.Printf("ACK %d\n", n)
		prev = b
		time.Sleep(crashBatchPause)
	}
}

func TestCrashSQLite(t *testing.T) {
	t.Parallel()
	runCrash(t, kindSQLite, filepath.Join(t.TempDir(), "wd.db"))
}

func TestCrashPostgres(t *testing.T) {
	t.Parallel()
	runCrash(t, kindPostgres, pgtest.DSN(t))
}

// crashRun is the parent's record of what the children were asked to do
// and what they acknowledged.
type crashRun struct {
	t       *testing.T
	kind    string
	dsn     string
	mock    *mockslack.Server
	webhook string
	rng     *rand.Rand

	batches  map[int]batch // every batch a child began
	acked    map[int]bool
	next     int    // number of the next new batch
	inflight *batch // begun and not acknowledged when the last child was killed
	last     *batch // the last acknowledged batch
	kills    int
	start    time.Time
}

// runCrash kills an ingesting, alerting child crashCycles times, checking
// after each kill that every acknowledged batch is stored and the one in
// flight is stored whole or not at all; then it runs an engine in-process
// until every due stage has fired and been delivered, and checks that each
// stage was recorded and delivered exactly once.
func runCrash(t *testing.T, kind, dsn string) {
	start := time.Now()
	mock, err := mockslack.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mock.ServeHTTP(w, r)
		time.Sleep(slackDelay)
	}))
	t.Cleanup(srv.Close)
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	r := &crashRun{t: t, kind: kind, dsn: dsn, mock: mock, webhook: srv.URL + mockslack.WebhookPath,
		rng: rand.New(rand.NewPCG(seed, seed)), start: start, batches: map[int]batch{}, acked: map[int]bool{}, next: 1}
	for cycle := 1; cycle <= crashCycles; cycle++ {
		r.cycle(cycle)
		r.checkAfterKill(cycle)
	}
	r.drainAndVerify()
	t.Logf("%s crash test took %v", kind, time.Since(start).Round(time.Millisecond))
}

// crashChildProc is a running crash child and the lines it prints.
type crashChildProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	lines  <-chan string // closed when its stdout ends
}

// startChild starts a child that continues from where the last one
// stopped: it retries the batch left in flight, or updates the last
// acknowledged batch's tickets.
func (r *crashRun) startChild() *crashChildProc {
	t := r.t
	t.Helper()
	env := append(os.Environ(), childEnv+"=1", envKind+"="+r.kind, envDSN+"="+r.dsn,
		envWebhook+"="+r.webhook, envFirst+"="+strconv.Itoa(r.next))
	switch {
	case r.inflight != nil:
		env = append(env, envRetry+"="+r.inflight.String())
	case r.last != nil:
		env = append(env, envPrev+"="+r.last.String())
	}
	c := &crashChildProc{cmd: exec.Command(os.Args[0]), stderr: &syncBuffer{}}
	c.cmd.Env = env
	c.cmd.Stderr = c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	c.lines = lines
	return c
}

// childSaid is what one child has said so far: how many batches it
// acknowledged, and the batch it began and has not acknowledged.
type childSaid struct {
	acks    int
	pending *batch
}

// handle records a line of the child's: "BEGIN <batch>" or "ACK <n>".
func (r *crashRun) handle(said *childSaid, line string) {
	t := r.t
	t.Helper()
	verb, rest, _ := strings.Cut(line, " ")
	switch verb {
	case "BEGIN":
		b, err := parseBatch(rest)
		if err != nil {
			t.Fatalf("child said %q: %v", line, err)
		}
		if old, ok := r.batches[b.N]; ok {
			t.Fatalf("child began batch %d twice: %v and %v", b.N, old, b)
		}
		r.batches[b.N] = b
		r.next = max(r.next, b.N+1)
		said.pending = &b
	case "ACK":
		n, err := strconv.Atoi(rest)
		if err != nil {
			t.Fatalf("child said %q", line)
		}
		b, ok := r.batches[n]
		if !ok {
			t.Fatalf("child acknowledged batch %d it never began", n)
		}
		r.acked[n] = true
		r.last = &b
		if r.inflight != nil && r.inflight.N == n {
			r.inflight = nil
		}
		if said.pending != nil && said.pending.N == n {
			said.pending = nil
		}
		said.acks++
	default:
		t.Fatalf("child said %q", line)
	}
}

// cycle starts a child, lets it acknowledge a random number of batches,
// waits a random moment more and kills it with SIGKILL.
func (r *crashRun) cycle(cycle int) {
	t := r.t
	t.Helper()
	c := r.startChild()
	killed := false
	defer func() {
		if !killed {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	}()

	msgsBefore := len(r.mock.Messages())
	// 1 to 2.5 s of ingesting (alerts fire from 0.85 s on), then a kill
	// either in the pause after an ACK or right after a BEGIN, while that
	// batch's Ingest runs.
	target := 10 + r.rng.IntN(16)
	duringIngest := cycle%2 == 1
	extra := time.Duration(r.rng.IntN(int(crashBatchPause/time.Millisecond))) * time.Millisecond
	if duringIngest {
		extra = time.Duration(r.rng.IntN(3000)) * time.Microsecond
	}
	var said childSaid
	var killAt <-chan time.Time
	msgsAtKill := 0
	deadline := time.After(30 * time.Second)
	for !killed {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("cycle %d: child exited before the kill: %v\nstderr:\n%s", cycle, c.cmd.Wait(), c.stderr.tail())
			}
			r.handle(&said, line)
			// Armed only once this child's alerts reach Slack, so that
			// the kill lands while alerts are firing and being delivered.
			if said.acks >= target && killAt == nil && (!duringIngest || strings.HasPrefix(line, "BEGIN")) &&
				len(r.mock.Messages()) > msgsBefore {
				killAt = time.After(extra)
			}
		case <-killAt:
			msgsAtKill = len(r.mock.Messages())
			if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
		case <-deadline:
			t.Fatalf("cycle %d: in 30s the child acknowledged %d batches (want %d) and Slack received %d messages from it (want some)\nstderr:\n%s",
				cycle, said.acks, target, len(r.mock.Messages())-msgsBefore, c.stderr.tail())
		}
	}
	r.reap(cycle, c, &said)
	inflight := "none"
	if r.inflight != nil {
		inflight = strconv.Itoa(r.inflight.N)
	}
	t.Logf("cycle %d at %v: killed after %d acknowledged batches (+%v); %d Slack messages during the cycle before the kill; batch in flight: %s",
		cycle, time.Since(r.start).Round(time.Millisecond), said.acks, extra, msgsAtKill-msgsBefore, inflight)
}

// reap reads what the killed child printed before it died, checks that
// SIGKILL ended it, and records the batch it left in flight.
func (r *crashRun) reap(cycle int, c *crashChildProc, said *childSaid) {
	t := r.t
	t.Helper()
	// Lines written before the kill are still in the pipe: an ACK among
	// them was given, so it counts.
	for line := range c.lines {
		r.handle(said, line)
	}
	err := c.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("cycle %d: child ended with %v, want killed by SIGKILL\nstderr:\n%s", cycle, err, c.stderr.tail())
	}
	r.kills++
	if said.pending != nil {
		r.inflight = said.pending
	}
}

// checkAfterKill opens the store the dead child left and checks that every
// acknowledged batch is there and the batch in flight is all or nothing.
func (r *crashRun) checkAfterKill(cycle int) {
	t := r.t
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, r.kind, r.dsn)
	if err != nil {
		t.Fatalf("cycle %d: reopen after kill: %v", cycle, err)
	}
	defer st.Close()
	for _, n := range sortedKeys(r.acked) {
		if got, missing := batchPresence(ctx, t, st, r.batches[n]); len(missing) > 0 {
			t.Fatalf("cycle %d: acknowledged batch %d: %d of its events are stored; missing:\n%s", cycle, n, got, strings.Join(missing, "\n"))
		}
	}
	if r.inflight == nil {
		return
	}
	b := *r.inflight
	want := crashTicketsPerBatch
	if b.Prev > 0 {
		want *= 2
	}
	got, _ := batchPresence(ctx, t, st, b)
	switch got {
	case 0:
		t.Logf("cycle %d: batch %d in flight at the kill: not committed (none of %d events stored)", cycle, b.N, want)
	case want:
		t.Logf("cycle %d: batch %d in flight at the kill: committed whole (all %d events stored), ACK lost", cycle, b.N, want)
	default:
		t.Fatalf("cycle %d: batch %d in flight at the kill is half stored: %d of %d events", cycle, b.N, got, want)
	}
}

// batchPresence counts the events of b that are stored: its new tickets
// with their creation row, and its update rows on batch b.Prev's tickets.
// It also returns the missing ones, for the failure message.
func batchPresence(ctx context.Context, t *testing.T, st watchdog.Store, b batch) (int, []string) {
	t.Helper()
	n := 0
	var missing []string
	has := func(id string, at time.Time, status string) {
		tk, err := st.Ticket(ctx, id)
		if err != nil && !errors.Is(err, watchdog.ErrNotFound) {
			t.Fatalf("ticket %s: %v", id, err)
		}
		if err == nil {
			for _, ev := range tk.Events {
				if ev.UpdatedAt.Equal(at) && ev.Status == status {
					n++
					return
				}
			}
		}
		hist := "not found"
		if tk != nil {
			hist = fmt.Sprint(tk.History())
		}
		missing = append(missing, fmt.Sprintf("%s %s at %s (stored: %s)", id, status, at.Format(time.RFC3339Nano), hist))
	}
	for j := range crashTicketsPerBatch {
		has(crashTicketID(b.N, j), b.At, "new")
		if b.Prev > 0 {
			has(crashTicketID(b.Prev, j), b.At, "open")
		}
	}
	return n, missing
}

// drainAndVerify restarts the engine in-process with no new ingest (only
// the retry of a batch left unacknowledged), waits until every stage has
// fired and every delivery is done, and checks the outcome.
func (r *crashRun) drainAndVerify() {
	t := r.t
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, r.kind, r.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := newCrashEngine(st, r.webhook, slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	defer func() {
		cancel()
		<-done
	}()
	childAcked := len(r.acked)
	if r.inflight != nil {
		// The client never got an answer for it, so it sends it again.
		if _, err := eng.Ingest(ctx, r.inflight.events()); err != nil {
			t.Fatalf("retry batch %d: %v", r.inflight.N, err)
		}
		r.acked[r.inflight.N] = true
		r.inflight = nil
	}
	if len(r.acked) != len(r.batches) {
		t.Fatalf("%d batches begun, %d acknowledged after the retry", len(r.batches), len(r.acked))
	}
	waitDrained(t, st, eng)

	attempts, resent := r.verifyTickets(st)
	q := watchdog.DashboardQuery{Limit: 1}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, total, err := st.Dashboard(ctx, q); err != nil || total != len(r.batches)*crashTicketsPerBatch {
		t.Fatalf("store holds %d tickets (err %v), want %d", total, err, len(r.batches)*crashTicketsPerBatch)
	}
	r.verifySlack(attempts, resent, childAcked)
}

// waitDrained waits until nothing is due ever again, no delivery is
// pending (one leased by a killed child stays pending until its lease ends
// and it is re-sent) and nothing is in flight.
func waitDrained(t *testing.T, st watchdog.Store, eng *watchdog.Engine) {
	t.Helper()
	ctx := context.Background()
	drainStart := time.Now()
	deadline := drainStart.Add(30 * time.Second)
	for {
		_, due, err := st.NextDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, pending, err := st.NextDelivery(ctx, "slack")
		if err != nil {
			t.Fatal(err)
		}
		if !due && !pending && eng.Hooks().InFlight() == 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("not settled after 30s: due tickets %v, pending deliveries %v, in flight %d", due, pending, eng.Hooks().InFlight())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("restarted engine settled in %v", time.Since(drainStart).Round(time.Millisecond))
}

// verifyTickets checks every ticket of every batch: its timeline, and each
// of its stages recorded once with exact escalation levels and delivered.
// It returns each stage's delivery attempts and how many deliveries took
// more than one.
func (r *crashRun) verifyTickets(st watchdog.Store) (attempts map[stageKey]int, resent int) {
	t := r.t
	t.Helper()
	// successor[n] is the batch that moved batch n's tickets to "open".
	successor := map[int]batch{}
	for _, b := range r.batches {
		if b.Prev > 0 {
			if other, dup := successor[b.Prev]; dup {
				t.Fatalf("batches %d and %d both update batch %d", other.N, b.N, b.Prev)
			}
			successor[b.Prev] = b
		}
	}
	p := crashPolicy()
	now := time.Now()
	attempts = map[stageKey]int{}
	for _, n := range sortedKeys(r.batches) {
		b := r.batches[n]
		for j := range crashTicketsPerBatch {
			id := crashTicketID(n, j)
			tk, err := st.Ticket(context.Background(), id)
			if err != nil {
				t.Fatalf("batch %d (acknowledged) ticket %s: %v", n, id, err)
			}
			want := []watchdog.StatusChange{{Status: "new", Timestamp: b.At}}
			if s, ok := successor[n]; ok {
				want = append(want, watchdog.StatusChange{Status: "open", Timestamp: s.At})
			}
			if got := tk.History(); !sameHistory(got, want) {
				t.Fatalf("ticket %s history %v, want %v", id, got, want)
			}
			if tk.Status != want[len(want)-1].Status {
				t.Fatalf("ticket %s status %q, want %q", id, tk.Status, want[len(want)-1].Status)
			}
			resent += verifyCrashAlerts(t, id, tk, attempts)
			if ev := watchdog.Evaluate(tk, p, now); len(ev.Due) > 0 {
				t.Fatalf("ticket %s: stages still due: %+v", id, ev.Due)
			}
		}
	}
	return attempts, resent
}

// verifyCrashAlerts checks that ticket id fired each of crashStages once,
// at escalation levels 1 to 4, each delivered to Slack. It records each
// stage's delivery attempts and returns how many took more than one.
func verifyCrashAlerts(t *testing.T, id string, tk *watchdog.Ticket, attempts map[stageKey]int) (resent int) {
	t.Helper()
	seen := map[stageKey]bool{}
	var levels []int
	for _, a := range tk.Alerts {
		k := keyOf(a)
		if seen[k] {
			t.Fatalf("ticket %s: stage %s recorded twice", id, k)
		}
		seen[k] = true
		levels = append(levels, a.EscalationLevel)
		if len(a.Deliveries) != 1 {
			t.Fatalf("alert %s has %d deliveries, want 1: %+v", k, len(a.Deliveries), a.Deliveries)
		}
		d := a.Deliveries[0]
		if d.Notifier != "slack" || d.Status != watchdog.DeliveryDelivered {
			t.Fatalf("alert %s delivery %+v, want delivered to slack", k, d)
		}
		attempts[k] = d.Attempts
		if d.Attempts > 1 {
			resent++
		}
	}
	for _, s := range crashStages {
		s.Ticket = id
		if !seen[s] {
			t.Fatalf("ticket %s: stage %s never fired (alerts %v)", id, s, seen)
		}
	}
	if len(tk.Alerts) != len(crashStages) || tk.EscalationLevel != len(tk.Alerts) {
		t.Fatalf("ticket %s: %d alerts, escalation level %d; want %d and %d", id, len(tk.Alerts), tk.EscalationLevel, len(crashStages), len(crashStages))
	}
	slices.Sort(levels)
	if !slices.Equal(levels, []int{1, 2, 3, 4}) {
		t.Fatalf("ticket %s: alert escalation levels %v, want 1..4", id, levels)
	}
	return resent
}

// verifySlack checks what mock Slack received against the deliveries
// recorded: every alert received, none beyond its attempts, and duplicates
// and re-sends within what the kills can explain.
func (r *crashRun) verifySlack(attempts map[stageKey]int, resent, childAcked int) {
	t := r.t
	t.Helper()
	counts, err := slackCounts(r.mock.Messages())
	if err != nil {
		t.Fatal(err)
	}
	dups, dupKeys := 0, 0
	for k, c := range counts {
		a, ok := attempts[k]
		if !ok {
			t.Fatalf("Slack received %s, which is no recorded alert", k)
		}
		if c > a {
			t.Fatalf("Slack received %s %d times but it was claimed only %d times", k, c, a)
		}
		if c > 1 {
			dups += c - 1
			dupKeys++
		}
	}
	for k := range attempts {
		if counts[k] == 0 {
			t.Fatalf("alert %s is recorded as delivered but Slack never received it", k)
		}
	}
	// Slack gets a message twice only when a kill came after the send and
	// before its outcome was recorded; a process has at most DeliveryBatch
	// such attempts. A delivery is claimed again after its lease when a
	// kill left it claimed and unrecorded: those attempts, plus the
	// deliveries queued unsent (at most DeliveryBatch claimed ahead, and
	// DeliveryBacklog handed off by evaluations, which may overshoot it by
	// one claim of EvaluateBatch tickets per evaluation running; the child
	// runs the default two).
	dupLimit := r.kills * crashDeliveryBatch
	leaseLimit := r.kills * (crashDeliveryBatch + crashDeliveryBatch + 2*crashDeliveryBatch + crashDeliveryBatch)
	if dups > dupLimit || resent > leaseLimit {
		t.Fatalf("%d duplicate Slack messages and %d deliveries claimed again after their lease, after %d kills; at most %d and %d expected",
			dups, resent, r.kills, dupLimit, leaseLimit)
	}
	t.Logf("%s: %d batches (%d acknowledged by children), %d tickets, %d alerts, each recorded once with exact escalation levels and delivered; "+
		"%d Slack messages, %d duplicates over %d alerts (limit %d = %d kills × %d unrecorded attempts); deliveries claimed again after their lease: %d (limit %d)",
		r.kind, len(r.batches), childAcked, len(r.batches)*crashTicketsPerBatch, len(attempts),
		len(r.mock.Messages()), dups, dupKeys, dupLimit, r.kills, crashDeliveryBatch, resent, leaseLimit)
}

func sameHistory(got, want []watchdog.StatusChange) bool {
	return slices.EqualFunc(got, want, func(a, b watchdog.StatusChange) bool {
		return a.Status == b.Status && a.Timestamp.Equal(b.Timestamp)
	})
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// syncBuffer collects a child's stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last 4 KiB written.
func (b *syncBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.Bytes()
	if len(s) > 4096 {
		s = s[len(s)-4096:]
	}
	return string(s)
}

// tlog writes logs to the test log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = tlog{}
