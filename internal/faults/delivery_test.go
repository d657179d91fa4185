package faults

import (
	"database/sql"
	"os"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/internal/pgcluster"
)

// The documented bounds (README, "Guarantees"): per destination, at most
// unrecordedBound deliveries are sent without a recorded outcome; a hung
// destination is re-sent at most that many, plus one message of at most
// perMessage alerts per probe.
const (
	unrecordedBound = 256 // watchdog.Config.DeliveryBatch's default
	perMessage      = 20  // SLACK_MAX_ALERTS_PER_MESSAGE's default
)

// longAgo makes every ticket's four stages (alert and breach of both SLA
// clocks, gold/high under the seed's policy) due at once.
var longAgo = time.Now().Add(-10 * 24 * time.Hour)

// Item 1: the database stops (a crash, every connection cut) while a burst
// is being sent to a slow Slack. Sending stops at once but for the
// deliveries already sent or being sent (at most unrecordedBound); when the
// database returns, their outcomes are recorded and nothing is sent twice.
// Before, workers went on posting every queued delivery whose outcome
// could not be recorded, and each was posted again after its lease.
func TestDatabaseOutageSendsNoDuplicates(t *testing.T) {
	c := pgcluster.Start(t)
	sl := newSlack(t, mockslack.Faults{Delay: time.Second})
	p, _ := startWatchdogd(t, t.TempDir(), freePort(t), "DATABASE_URL="+c.URL("postgres"), "SLACK_WEBHOOK_URL="+sl.url)
	const tickets = 300
	p.postTickets("out", tickets, longAgo)
	time.Sleep(1500 * time.Millisecond)
	stoppedAt := time.Now()
	c.Stop(t, "immediate")
	time.Sleep(8 * time.Second) // the outage
	during := 0
	for _, n := range sl.stages(t, stoppedAt) {
		during += n
	}
	c.StartAgain(t)
	got := sl.waitStages(t, 4*tickets, 90*time.Second)
	if during > unrecordedBound {
		t.Errorf("Slack received %d alerts during the outage, want at most %d (those sent or being sent when it began)", during, unrecordedBound)
	}
	waitNoPending(t, c.URL("postgres"), 30*time.Second)
	got = sl.stages(t, time.Time{})
	if keys, extra := duplicates(got); keys > 0 {
		t.Errorf("%d stages reached Slack more than once (%d extra copies); want none", keys, extra)
	}
	t.Logf("%d stages, %d received during the outage, 0 duplicates", len(got), during)
}

// waitNoPending waits until no delivery is pending: every outcome recorded.
func waitNoPending(t *testing.T, dsn string, within time.Duration) {
	t.Helper()
	db, err := sql.Open("postgres", dsn+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(within)
	for {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM deliveries WHERE status = 'pending'`).Scan(&n)
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending %v after every stage reached Slack (err %v): outcomes went unrecorded", n, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Item 3: watchdogd is killed with SIGKILL mid-burst, with deliveries
// queued, and restarted. They resume within WATCHDOG_CLAIM_TTL + 1 s of
// /readyz answering 200, rather than after a 60 s lease; and no more than
// unrecordedBound are sent twice (those sent when it died). On both stores.
func TestKillNineDeliveriesResumeWithinClaimTTL(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { killNineResumes(t) })
	t.Run("postgres", func(t *testing.T) {
		c := pgcluster.Start(t)
		killNineResumes(t, "DATABASE_URL="+c.URL("postgres"))
	})
}

func killNineResumes(t *testing.T, env ...string) {
	const ttl = 2 * time.Second
	sl := newSlack(t, mockslack.Faults{Delay: 2 * time.Second})
	dir := t.TempDir()
	port := freePort(t)
	env = append(env, "SLACK_WEBHOOK_URL="+sl.url, "WATCHDOG_CLAIM_TTL="+ttl.String())
	p, _ := startWatchdogd(t, dir, port, env...)
	const tickets = 500
	p.postTickets("kill", tickets, longAgo)
	sl.waitStages(t, 200, 30*time.Second)
	p.kill9()
	killedAt := time.Now()
	_, readyAt := startWatchdogd(t, dir, port, env...)
	deadline := readyAt.Add(ttl + time.Second)
	for len(sl.stages(t, readyAt)) == 0 {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("nothing reached Slack within %v of /readyz after the restart", ttl+time.Second+10*time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
	first := time.Now()
	if first.After(deadline) {
		t.Errorf("deliveries resumed %v after /readyz answered 200, want within %v (claim TTL + 1s)", first.Sub(readyAt), ttl+time.Second)
	}
	got := sl.waitStages(t, 4*tickets, 90*time.Second)
	keys, extra := duplicates(got)
	if extra > unrecordedBound {
		t.Errorf("%d stages reached Slack twice (%d extra copies), want at most %d", keys, extra, unrecordedBound)
	}
	t.Logf("restart ready %v after the kill; deliveries resumed %v after ready; %d duplicates", readyAt.Sub(killedAt), first.Sub(readyAt), extra)
}

// Item 4: Slack takes posts and hangs. Each send times out
// (WATCHDOG_DELIVERY_TIMEOUT) and is retried, so a post Slack took is sent
// again: at-least-once. The destination pauses at the first timeout and is
// then probed one message at a time, so the re-sends stay within
// unrecordedBound plus one message per probe. Before, every worker kept
// posting through the hang and most of a burst went out twice.
func TestHungSlackResendsBounded(t *testing.T) {
	sl := newSlack(t, mockslack.Faults{Hang: true})
	p, _ := startWatchdogd(t, t.TempDir(), freePort(t), "SLACK_WEBHOOK_URL="+sl.url, "WATCHDOG_DELIVERY_TIMEOUT=1s")
	const tickets = 500
	p.postTickets("hang", tickets, longAgo)
	time.Sleep(8 * time.Second) // the hang
	if err := sl.SetFaults(mockslack.Faults{}); err != nil {
		t.Fatal(err)
	}
	got := sl.waitStages(t, 4*tickets, 90*time.Second)
	time.Sleep(2 * time.Second) // let retries of posts taken in the hang arrive
	got = sl.stages(t, time.Time{})
	keys, extra := duplicates(got)
	// Probes during an 8 s hang with backoff from 1s: at most a handful.
	if limit := unrecordedBound + 6*perMessage; extra > limit {
		t.Errorf("%d stages reached Slack twice (%d extra copies) after an 8s hang, want at most %d", keys, extra, limit)
	}
	t.Logf("%d stages, %d duplicates after an 8s hang", len(got), extra)
}

// Item 2: Slack's rate limit (5 messages a second here; 429 with
// Retry-After above it) pauses the whole destination, so the burst drains
// in full messages at Slack's pace with few refusals, nothing is posted
// twice and nothing fails. Before, each refused delivery retried on its
// own while the others kept posting: thousands of 429s, one alert per
// message, some deliveries failed for good.
func TestRateLimitedSlackDrainsInFullMessages(t *testing.T) {
	sl := newSlack(t, mockslack.Faults{RatePerSecond: 5})
	p, _ := startWatchdogd(t, t.TempDir(), freePort(t), "SLACK_WEBHOOK_URL="+sl.url)
	const tickets = 150
	start := time.Now()
	p.postTickets("rate", tickets, longAgo)
	got := sl.waitStages(t, 4*tickets, 120*time.Second)
	took := time.Since(start)
	if keys, extra := duplicates(got); keys > 0 {
		t.Errorf("%d stages reached Slack more than once (%d extra)", keys, extra)
	}
	msgs := len(sl.Messages())
	refused := sl.Stats().Injected
	if per := float64(4*tickets) / float64(msgs); per < 15 {
		t.Errorf("%d messages for %d alerts (%.1f per message), want them grouped (at least 15 per message)", msgs, 4*tickets, per)
	}
	if refused > msgs {
		t.Errorf("Slack refused %d posts (429) for %d accepted, want at most one refusal per accepted message", refused, msgs)
	}
	t.Logf("%d alerts in %d messages over %v; %d posts refused with 429", 4*tickets, msgs, took.Round(time.Millisecond), refused)
}

func init() {
	// The tests above post to loopback servers only.
	os.Setenv("NO_PROXY", "127.0.0.1")
}

// SIGTERM with the database frozen and Slack posts hanging: the process
// exits within the bound the README states, computed from the settings:
// the request deadline + 5 s (HTTP drain), the delivery timeout (posts in
// flight), 5 s to try to record their outcomes, 2 s for the heartbeat and
// 10 s to close the store.
func TestSIGTERMWithFrozenDatabaseAndHungSlack(t *testing.T) {
	c := pgcluster.Start(t)
	sl := newSlack(t, mockslack.Faults{Hang: true})
	const requestTimeout, deliveryTimeout = 2 * time.Second, 5 * time.Second
	p, _ := startWatchdogd(t, t.TempDir(), freePort(t), "DATABASE_URL="+c.URL("postgres"), "SLACK_WEBHOOK_URL="+sl.url,
		"WATCHDOG_REQUEST_TIMEOUT="+requestTimeout.String(), "WATCHDOG_DELIVERY_TIMEOUT="+deliveryTimeout.String())
	p.postTickets("term", 50, longAgo)
	sl.waitStages(t, 1, 30*time.Second) // posts are hanging
	c.Freeze(t)
	defer c.Thaw(t)
	bound := requestTimeout + 5*time.Second + deliveryTimeout + 5*time.Second + 2*time.Second + 10*time.Second
	took, code := p.term(bound + 10*time.Second)
	if code != 0 || took > bound {
		t.Errorf("SIGTERM with the database frozen and Slack hung: exit code %d after %v; want 0 within %v", code, took.Round(time.Millisecond), bound)
	}
	t.Logf("SIGTERM with the database frozen and Slack hung: exit %d after %v (bound %v)", code, took.Round(time.Millisecond), bound)
}
