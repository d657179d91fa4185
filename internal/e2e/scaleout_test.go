package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/notify/slack"
	wshub "github.com/ticket-watchdog/watchdog/notify/websocket"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/postgres/pgtest"
)

const (
	// scaleOutTicketsEnv overrides how many tickets the scale-out test
	// ingests: default scaleOutTickets, or scaleOutTicketsRace under -race,
	// where 10,000 tickets (20,000 alerts and Slack posts) take minutes.
	scaleOutTicketsEnv  = "WD_SCALEOUT_TICKETS"
	scaleOutTickets     = 10000
	scaleOutTicketsRace = 2000
	scaleOutEngines     = 3
	scaleOutBatch       = 1000
	// The response target and alert threshold put every ticket's alert
	// stage 4.8 s and its breach 6 s after the common creation instant,
	// leaving time to ingest first; the resolution clock (1 h) stays quiet.
	scaleOutResponse = 6 * time.Second
	scaleOutAlertAt  = 0.8
	// scaleOutConcurrency is each engine's Slack deliveries in flight.
	scaleOutConcurrency = 32
)

// scaleOutNode is one engine with its own store (pool and LISTEN
// connection), WebSocket hub, HTTP server and one WebSocket client.
type scaleOutNode struct {
	st  *postgres.Store
	eng *watchdog.Engine
	hub *wshub.Hub
	obs *countingObserver

	mu  sync.Mutex
	got map[int64]int // alert id -> times the WebSocket client received it
}

func (nd *scaleOutNode) received() (distinct, total int) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	for _, c := range nd.got {
		total += c
	}
	return len(nd.got), total
}

// scaleOut is one run of the scale-out test: its tickets' common creation
// instant, hence their alert and breach instants, and the engines.
type scaleOut struct {
	t                 *testing.T
	ctx               context.Context
	n                 int // tickets
	created           time.Time
	alertAt, breachAt time.Time
	mock              *mockslack.Server
	nodes             []*scaleOutNode
	running           sync.WaitGroup // the nodes' goroutines
}

// want is how many alerts (and deliveries, and Slack attachments) the run
// must produce: the response alert and breach of every ticket.
func (r *scaleOut) want() int { return 2 * r.n }

// Three engines on one PostgreSQL database, 10,000 tickets whose response
// alert and breach fall at the same two instants: each stage is recorded
// and delivered to Slack exactly once, every WebSocket client on every
// engine sees every alert, and all three engines share the work.
func TestScaleOutThreeEngines(t *testing.T) {
	dsn := pgtest.DSN(t)
	def := scaleOutTickets
	if raceEnabled {
		def = scaleOutTicketsRace
	}
	n, err := envInt(scaleOutTicketsEnv, def)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tickets (set %s to change)", n, scaleOutTicketsEnv)
	testStart := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	mock, err := mockslack.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	slackSrv := httptest.NewServer(mock)
	defer slackSrv.Close()

	created := time.Now().UTC().Truncate(time.Millisecond)
	r := &scaleOut{t: t, ctx: ctx, n: n, created: created, mock: mock,
		alertAt:  created.Add(time.Duration(float64(scaleOutResponse) * scaleOutAlertAt)),
		breachAt: created.Add(scaleOutResponse)}
	p := policy(watchdog.Thresholds{Alert: scaleOutAlertAt, Breach: 1}, scaleOutResponse, time.Hour)
	log := slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	defer r.running.Wait()
	defer cancel()
	for i := range scaleOutEngines {
		r.nodes = append(r.nodes, r.startNode(i, dsn, slackSrv.URL+mockslack.WebhookPath, p, log.With("engine", i)))
	}

	r.ingest()
	slackDone := r.waitDelivered()
	byKey, ids := r.checkDatabase()
	lateness, msgs := r.checkSlack(byKey)
	r.checkClients(ids)
	r.spotCheck()
	r.checkWorkSplit()
	t.Logf("Slack receipt − due instant over %d alerts in %d messages: p50 %v, p99 %v, max %v; all %d received %v after the breach instant; test took %v",
		len(lateness), msgs, pct(lateness, 50), pct(lateness, 99), lateness[len(lateness)-1].Round(time.Millisecond),
		r.want(), slackDone.Sub(r.breachAt).Round(time.Millisecond), time.Since(testStart).Round(time.Millisecond))
}

// subscriberBuffer is the store's and hub's buffer for n tickets. Alerts
// not yet consumed must fit the subscriber and client buffers: a
// subscriber that falls behind misses alerts by design. The defaults
// (16,384) hold one burst of 10,000 (the two come 1.2 s apart, and
// consumers drain the first long before); only a larger run raises them.
func subscriberBuffer(n int) int {
	if n > min(wshub.DefaultBufferSize, postgres.DefaultSubscriberBuffer) {
		return 2 * n
	}
	return 0
}

// startNode opens engine i's own store, starts the engine with Slack at
// webhook as its notifier and a WebSocket hub fed by its subscription,
// and connects one client to the hub.
func (r *scaleOut) startNode(i int, dsn, webhook string, p *watchdog.Policy, log *slog.Logger) *scaleOutNode {
	t := r.t
	t.Helper()
	buffer := subscriberBuffer(r.n)
	st, err := postgres.Open(r.ctx, dsn, &postgres.Config{MaxOpenConns: 8, SubscriberBuffer: buffer})
	if err != nil {
		t.Fatalf("engine %d: %v", i, err)
	}
	t.Cleanup(func() { st.Close() })
	// http.DefaultTransport keeps 2 idle connections per host, so with
	// more deliveries in flight most would open a new connection.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = scaleOutConcurrency
	sl, err := slack.NewWebhook(webhook, &slack.Config{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	nd := &scaleOutNode{st: st, obs: &countingObserver{}, got: map[int64]int{}}
	nd.eng, err = watchdog.New(st, &watchdog.Config{
		Policy:    p,
		Notifiers: map[string]watchdog.Notifier{"slack": sl},
		Observer:  nd.obs,
		Logger:    log,
		// The sweep is how an engine learns of deadlines ingested
		// through another engine; the ingesting engine is woken at once.
		SweepInterval:       time.Second,
		DeliveryConcurrency: scaleOutConcurrency,
		// Claims of 100 make each burst many claims, so that every
		// engine gets a share to show; with the default 1000, two
		// engines can take a 2000-ticket burst before the third wakes.
		EvaluateBatch: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	nd.hub = wshub.NewHub(&wshub.Config{BufferSize: buffer})
	mux := http.NewServeMux()
	mux.Handle("/ws/alerts", nd.hub)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = nd.hub.Close() })
	alerts, err := nd.eng.Subscribe(r.ctx)
	if err != nil {
		t.Fatalf("engine %d: subscribe: %v", i, err)
	}
	r.running.Go(func() { _ = nd.hub.Run(r.ctx, alerts) })
	r.connectClient(i, nd, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/alerts")
	r.running.Go(func() { _ = nd.eng.Run(r.ctx) })
	return nd
}

// connectClient dials node i's hub at url and counts each alert the
// client receives in nd.got, until the run ends.
func (r *scaleOut) connectClient(i int, nd *scaleOutNode, url string) {
	t := r.t
	t.Helper()
	dialCtx, dialCancel := context.WithTimeout(r.ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dialCtx, url, nil)
	dialCancel()
	if err != nil {
		t.Fatalf("engine %d: dial WebSocket: %v", i, err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	r.running.Go(func() {
		for {
			_, data, err := conn.Read(r.ctx)
			if err != nil {
				return
			}
			var m wshub.Message
			if err := json.Unmarshal(data, &m); err != nil {
				t.Errorf("engine %d: WebSocket message %q: %v", i, data, err)
				return
			}
			nd.mu.Lock()
			nd.got[m.AlertID]++
			nd.mu.Unlock()
		}
	})
	waitFor(t, 10*time.Second, fmt.Sprintf("engine %d's hub to register its client", i), func() bool { return nd.hub.Clients() == 1 })
}

// ingest sends every ticket through engine 0, in batches.
func (r *scaleOut) ingest() {
	t := r.t
	t.Helper()
	ingestStart := time.Now()
	for off := 0; off < r.n; off += scaleOutBatch {
		evs := make([]watchdog.Event, 0, scaleOutBatch)
		for j := off; j < min(off+scaleOutBatch, r.n); j++ {
			evs = append(evs, watchdog.Event{ID: fmt.Sprintf("s%06d", j), Priority: "high", CustomerTier: "gold",
				Status: "new", CreatedAt: r.created, UpdatedAt: r.created})
		}
		if _, err := r.nodes[0].eng.Ingest(r.ctx, evs); err != nil {
			t.Fatalf("ingest tickets %d..%d: %v", off, off+len(evs)-1, err)
		}
	}
	ingested := time.Now()
	t.Logf("ingested %d tickets through engine 0 in %v; the alert instant is %v later, the breach %v",
		r.n, ingested.Sub(ingestStart).Round(time.Millisecond), r.alertAt.Sub(ingested).Round(time.Millisecond), r.breachAt.Sub(ingested).Round(time.Millisecond))
	if r.alertAt.Sub(ingested) < time.Second {
		t.Logf("WARNING: ingest ended less than one sweep (1s) before the alert instant: engines 1 and 2 may learn of it late")
	}
}

// waitDelivered waits until Slack has every alert and returns when it
// did; then until no delivery is pending or in flight anywhere, so that no
// message can reach Slack after the counts, and every WebSocket client has
// received every alert.
func (r *scaleOut) waitDelivered() (slackDone time.Time) {
	t := r.t
	t.Helper()
	waitCtx, waitCancel := context.WithTimeout(r.ctx, 60*time.Second)
	_, err := r.mock.WaitAttachments(waitCtx, r.want()) // one attachment per alert
	waitCancel()
	if err != nil {
		t.Fatalf("Slack: %v", err)
	}
	slackDone = time.Now()
	waitFor(t, 30*time.Second, "deliveries to settle", func() bool {
		for _, nd := range r.nodes {
			if _, pending, err := nd.st.NextDelivery(r.ctx, "slack"); err != nil || pending || nd.eng.Hooks().InFlight() > 0 {
				return false
			}
		}
		return true
	})
	waitFor(t, 30*time.Second, "every WebSocket client to receive every alert", func() bool {
		for _, nd := range r.nodes {
			if d, _ := nd.received(); d < r.want() {
				return false
			}
		}
		return true
	})
	return slackDone
}

// checkCount reports a count that differs from the one wanted.
func checkCount(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %d, want %d", what, got, want)
	}
}

// checkDatabase counts what the engines recorded, in SQL: each ticket's
// two alerts at their levels and instants, each delivered once on the
// first attempt. It returns the alerts' ids by stage and stages by id.
func (r *scaleOut) checkDatabase() (byKey map[stageKey]int64, ids map[int64]stageKey) {
	t := r.t
	t.Helper()
	db := r.nodes[0].st.DB()
	query := func(q string, args ...any) int {
		t.Helper()
		var v int
		if err := db.QueryRowContext(r.ctx, q, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	want := r.want()
	checkCount(t, "tickets", query(`SELECT count(*) FROM tickets`), r.n)
	checkCount(t, "alerts", query(`SELECT count(*) FROM alerts`), want)
	checkCount(t, "tickets without exactly the response alert and breach, or with another level",
		query(`SELECT count(*) FROM tickets t WHERE escalation_level <> 2 OR
			(SELECT count(*) FROM alerts a WHERE a.ticket_id = t.id AND a.clock = 'response' AND a.stage IN ('alert', 'breach')) <> 2`), 0)
	checkCount(t, "alerts at another level or instant than their stage's",
		query(`SELECT count(*) FROM alerts WHERE NOT (
			(stage = 'alert' AND escalation_level = 1 AND due_at = $1) OR
			(stage = 'breach' AND escalation_level = 2 AND due_at = $2))`, r.alertAt, r.breachAt), 0)
	checkCount(t, "deliveries", query(`SELECT count(*) FROM deliveries`), want)
	checkCount(t, "alerts with exactly one delivered Slack delivery",
		query(`SELECT count(*) FROM alerts a WHERE (SELECT count(*) FROM deliveries d
			WHERE d.alert_id = a.id AND d.notifier = 'slack' AND d.status = 'delivered') = 1`), want)
	// A second attempt would mean a lease ran out during a send (or a send
	// failed), which must not happen here.
	checkCount(t, "deliveries attempted more than once", query(`SELECT count(*) FROM deliveries WHERE attempts <> 1`), 0)

	ids, byKey = map[int64]stageKey{}, map[stageKey]int64{}
	rows, err := db.QueryContext(r.ctx, `SELECT id, ticket_id, clock, stage FROM alerts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var k stageKey
		if err := rows.Scan(&id, &k.Ticket, &k.Clock, &k.Stage); err != nil {
			t.Fatal(err)
		}
		ids[id], byKey[k] = k, id
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	return byKey, ids
}

// checkSlack checks that Slack received every recorded alert once and no
// other. It returns each alert's lateness (receipt − due instant), sorted,
// and the number of messages.
func (r *scaleOut) checkSlack(byKey map[stageKey]int64) (lateness []time.Duration, msgCount int) {
	t := r.t
	t.Helper()
	msgs := r.mock.Messages()
	counts, err := slackCounts(msgs)
	if err != nil {
		t.Fatal(err)
	}
	alertsInSlack := 0
	for _, c := range counts {
		alertsInSlack += c
	}
	checkCount(t, "alerts in Slack messages (one attachment each)", alertsInSlack, r.want())
	dups := 0
	for k, c := range counts {
		if _, ok := byKey[k]; !ok {
			t.Errorf("Slack received %s, which is no recorded alert", k)
		}
		if c > 1 {
			dups++
			if dups <= 5 {
				t.Errorf("Slack received %s %d times", k, c)
			}
		}
	}
	checkCount(t, "alerts Slack received more than once", dups, 0)
	for _, m := range msgs {
		keys, _ := slackKeys(m)
		for _, k := range keys {
			due := r.alertAt
			if k.Stage == watchdog.StageBreach {
				due = r.breachAt
			}
			lateness = append(lateness, m.ReceivedAt.Sub(due))
		}
	}
	slices.Sort(lateness)
	return lateness, len(msgs)
}

// checkClients checks that each engine's WebSocket client received every
// alert once and only stored alerts.
func (r *scaleOut) checkClients(ids map[int64]stageKey) {
	t := r.t
	t.Helper()
	for i, nd := range r.nodes {
		d, total := nd.received()
		checkCount(t, fmt.Sprintf("engine %d's WebSocket client: distinct alerts", i), d, r.want())
		checkCount(t, fmt.Sprintf("engine %d's WebSocket client: messages", i), total, r.want())
		nd.mu.Lock()
		for id := range nd.got {
			if _, ok := ids[id]; !ok {
				t.Errorf("engine %d's WebSocket client received alert %d, which is not stored", i, id)
			}
		}
		nd.mu.Unlock()
	}
}

// spotCheck reads a few tickets through the Store API.
func (r *scaleOut) spotCheck() {
	t := r.t
	t.Helper()
	for _, id := range []string{"s000000", fmt.Sprintf("s%06d", r.n/2), fmt.Sprintf("s%06d", r.n-1)} {
		tk, err := r.nodes[2].st.Ticket(r.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.Alerts) != 2 || tk.EscalationLevel != 2 {
			t.Errorf("ticket %s: %d alerts, level %d; want 2 and 2", id, len(tk.Alerts), tk.EscalationLevel)
		}
		for _, a := range tk.Alerts {
			if len(a.Deliveries) != 1 || a.Deliveries[0].Status != watchdog.DeliveryDelivered {
				t.Errorf("ticket %s alert %s: deliveries %+v", id, a.Stage, a.Deliveries)
			}
		}
	}
}

// checkWorkSplit checks that every engine fired and delivered a share,
// with no outcome but delivered, and that the shares add up.
func (r *scaleOut) checkWorkSplit() {
	t := r.t
	t.Helper()
	firedTotal, deliveredTotal := 0, 0
	var split []string
	for i, nd := range r.nodes {
		fired, delivered, other, maxLate := nd.obs.snapshot()
		firedTotal += fired
		deliveredTotal += delivered
		split = append(split, fmt.Sprintf("engine %d fired %d and delivered %d (max recording lateness %v, other outcomes %v)",
			i, fired, delivered, maxLate.Round(time.Millisecond), other))
		if fired == 0 || delivered == 0 {
			t.Errorf("engine %d did no share of the work: fired %d, delivered %d", i, fired, delivered)
		}
		if len(other) > 0 {
			t.Errorf("engine %d had delivery outcomes other than delivered: %v", i, other)
		}
	}
	checkCount(t, "alerts fired, summed over engines", firedTotal, r.want())
	checkCount(t, "deliveries made, summed over engines", deliveredTotal, r.want())
	t.Logf("work split: %s", strings.Join(split, "; "))
}

// pct returns the p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)].Round(time.Millisecond)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
