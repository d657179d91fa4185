package watchdog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/watchdogtest"
)

// messageLog is a receiver for the routing tests: a DigestNotifier that
// records each message it is asked to send, as the list of "ticket:clock:
// stage" it carries.
type messageLog struct {
	mu       sync.Mutex
	messages [][]string
	digests  int
}

func (m *messageLog) record(alerts []watchdog.Alert, digest bool) {
	var msg []string
	for _, a := range alerts {
		msg = append(msg, a.TicketID+":"+string(a.SLAClock)+":"+a.Stage)
	}
	m.mu.Lock()
	m.messages = append(m.messages, msg)
	if digest {
		m.digests++
	}
	m.mu.Unlock()
}

func (m *messageLog) Deliver(_ context.Context, a watchdog.Alert) (bool, error) {
	m.record([]watchdog.Alert{a}, false)
	return false, nil
}

func (m *messageLog) DeliverBatch(_ context.Context, as []watchdog.Alert) (bool, error) {
	m.record(as, false)
	return false, nil
}

func (m *messageLog) MaxBatch() int { return 20 }

func (m *messageLog) DeliverDigest(_ context.Context, as []watchdog.Alert) (bool, error) {
	m.record(as, true)
	return false, nil
}

func (m *messageLog) all() (msgs [][]string, digests int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.messages), m.digests
}

// sent lists every entry of every message, sorted.
func (m *messageLog) sent() []string {
	msgs, _ := m.all()
	var out []string
	for _, msg := range msgs {
		out = append(out, msg...)
	}
	slices.Sort(out)
	return out
}

const routedTiers = `calendars:
  eu-business:
    timezone: Europe/Berlin
    hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}
escalation: [1.5, 2.0]
tiers:
  gold:
    high: {response: 30, resolution: 180}
  silver:
    high: {response: 30, resolution: 180}
`

// startRouted runs an engine with the notifications section given and one
// messageLog per receiver name.
func startRouted(t *testing.T, clock *watchdogtest.Clock, section string, receivers ...string) (*watchdogtest.Harness, map[string]*messageLog) {
	t.Helper()
	p, err := watchdog.ParsePolicyEnv([]byte(routedTiers+section), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]*messageLog{}
	ns := map[string]watchdog.Notifier{}
	for _, r := range receivers {
		logs[r] = &messageLog{}
		ns[r] = logs[r]
	}
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	h := watchdogtest.StartEngine(t, st, clock, &watchdog.Config{Policy: p, Notifiers: ns, SweepInterval: time.Hour})
	return h, logs
}

// deliveryStatuses maps "clock:stage" to the status of the ticket's
// delivery to receiver.
func deliveryStatuses(t *testing.T, h *watchdogtest.Harness, ticket, receiver string) map[string]watchdog.DeliveryStatus {
	t.Helper()
	out := map[string]watchdog.DeliveryStatus{}
	for _, a := range h.Alerts(ticket) {
		for _, d := range a.Deliveries {
			if d.Notifier == receiver {
				out[string(a.SLAClock)+":"+a.Stage] = d.Status
			}
		}
	}
	return out
}

func TestRoutesFirstMatchAndContinue(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    gold: {webhook: {url: "http://gold.test"}}
    audit: {webhook: {url: "http://audit.test"}}
    rest: {webhook: {url: "http://rest.test"}}
  routes:
    - match: {stage: breach}
      receivers: [audit]
      continue: true
      inhibit: false
    - match: {tier: gold}
      receivers: [gold]
      inhibit: false
    - receivers: [rest]
      inhibit: false
`, "gold", "audit", "rest")
	// Response clocks reach alert at +25m30s and breach at +30m.
	h.Ingest(event("g", "gold", "high", "open", t0, t0), event("s", "silver", "high", "open", t0, t0))
	h.Advance(31 * time.Minute)
	want := map[string][]string{
		"audit": {"g:response:breach", "s:response:breach"},
		"gold":  {"g:response:alert", "g:response:breach"},
		"rest":  {"s:response:alert", "s:response:breach"},
	}
	for r, w := range want {
		if got := logs[r].sent(); !slices.Equal(got, w) {
			t.Errorf("%s got %v, want %v", r, got, w)
		}
	}
	// One outbox row per (alert, receiver): g's breach has two.
	for _, a := range h.Alerts("g") {
		var names []string
		for _, d := range a.Deliveries {
			names = append(names, d.Notifier)
		}
		if w := map[string]string{"alert": "gold", "breach": "audit,gold"}[a.Stage]; strings.Join(names, ",") != w {
			t.Errorf("%s deliveries %v, want %s", a.Stage, names, w)
		}
	}
}

func TestInhibitionOfFourStageCatchUp(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    team: {webhook: {url: "http://team.test"}}
    everything: {webhook: {url: "http://all.test"}}
  routes:
    - receivers: [team]
      continue: true
    - receivers: [everything]
      inhibit: false
`, "team", "everything")
	// Imported a day after creation: each clock's four stages are long due.
	created := t0.Add(-24 * time.Hour)
	h.Ingest(event("old", "gold", "high", "open", created, created))
	h.Advance(time.Second)
	if got, want := logs["team"].sent(), []string{"old:resolution:escalation-2", "old:response:escalation-2"}; !slices.Equal(got, want) {
		t.Errorf("team got %v, want only each clock's highest stage %v", got, want)
	}
	if got := len(logs["everything"].sent()); got != 8 {
		t.Errorf("the route without inhibition sent %d entries, want 8", got)
	}
	st := deliveryStatuses(t, h, "old", "team")
	for _, c := range []string{"response", "resolution"} {
		for _, s := range []string{"alert", "breach", "escalation-1"} {
			if st[c+":"+s] != watchdog.DeliverySuperseded {
				t.Errorf("%s:%s is %q, want superseded", c, s, st[c+":"+s])
			}
		}
		if st[c+":escalation-2"] != watchdog.DeliveryDelivered {
			t.Errorf("%s:escalation-2 is %q", c, st[c+":escalation-2"])
		}
	}
	if lvl := h.Ticket("old").EscalationLevel; lvl != 8 {
		t.Errorf("escalation level %d, want 8: superseded stages are still recorded", lvl)
	}
}

func TestDeliveryHoursAcrossDST(t *testing.T) {
	// Saturday 28 March 2026, 10:00 UTC; Berlin moves to summer time on
	// the Sunday, so Monday 09:00 there is 07:00 UTC.
	sat := time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC)
	monday := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(sat)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    team: {webhook: {url: "http://team.test"}}
  routes:
    - receivers: [team]
      deliver_during: eu-business
      deliver_during_except: [breach]
      inhibit: false
`, "team")
	h.Ingest(event("a", "gold", "high", "open", sat, sat), event("b", "gold", "high", "open", sat.Add(time.Minute), sat.Add(time.Minute)))
	h.Advance(32 * time.Minute)
	if got, want := logs["team"].sent(), []string{"a:response:breach", "b:response:breach"}; !slices.Equal(got, want) {
		t.Fatalf("during the weekend team got %v, want the breaches only %v", got, want)
	}
	for _, id := range []string{"a", "b"} {
		for _, a := range h.Alerts(id) {
			if a.Stage != watchdog.StageAlert {
				continue
			}
			d := a.Deliveries[0]
			if d.Status != watchdog.DeliveryPending || d.HeldUntil == nil || !d.HeldUntil.Equal(monday) {
				t.Errorf("%s alert delivery %+v, want held until %s", id, d, monday)
			}
		}
	}
	h.AdvanceTo(monday.Add(-time.Second))
	if n := len(logs["team"].sent()); n != 4 {
		t.Fatalf("sent %d before the calendar opened, want the 4 breaches", n)
	}
	// Every other stage was due over the weekend too: at the opening the
	// held ones go out together.
	before, _ := logs["team"].all()
	h.AdvanceTo(monday)
	msgs, _ := logs["team"].all()
	if len(msgs)-len(before) != 1 || len(msgs[len(msgs)-1]) != 12 {
		t.Errorf("at the opening %d messages, want one grouped message: %v", len(msgs)-len(before), msgs[len(before):])
	}
	if st := deliveryStatuses(t, h, "a", "team"); st["response:alert"] != watchdog.DeliveryDelivered {
		t.Errorf("held delivery not delivered at the opening: %v", st)
	}
}

func TestDigestGroupInterval(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    team: {webhook: {url: "http://team.test"}}
  routes:
    - receivers: [team]
      group_interval: 5m
      match: {stage: alert}
`, "team")
	// Alerts at +25m30s, +26m30s, +27m30s, +28m30s; then after the
	// interval one at +40m30s on an idle route.
	for i, off := range []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 15 * time.Minute} {
		at := t0.Add(off)
		h.Ingest(event(fmt.Sprint("t", i), "gold", "high", "open", at, at))
	}
	h.AdvanceTo(t0.Add(25*time.Minute + 30*time.Second))
	if msgs, _ := logs["team"].all(); len(msgs) != 1 {
		t.Fatalf("the first alert on an idle route: %v", msgs)
	}
	h.AdvanceTo(t0.Add(30*time.Minute + 29*time.Second))
	if msgs, _ := logs["team"].all(); len(msgs) != 1 {
		t.Fatalf("a second message within the interval: %v", msgs)
	}
	h.AdvanceTo(t0.Add(30*time.Minute + 30*time.Second))
	msgs, digests := logs["team"].all()
	if len(msgs) != 2 || len(msgs[1]) != 3 || digests != 1 {
		t.Fatalf("at the interval's end want one digest of 3: %v (digests %d)", msgs, digests)
	}
	h.AdvanceTo(t0.Add(40*time.Minute + 30*time.Second))
	if msgs, _ := logs["team"].all(); len(msgs) != 3 || len(msgs[2]) != 1 {
		t.Fatalf("an alert after the interval goes at once: %v", msgs)
	}
}

func TestAcknowledgeStopsLaterStages(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    team: {webhook: {url: "http://team.test"}}
  routes:
    - receivers: [team]
`, "team")
	ctx := context.Background()
	h.Ingest(event("k", "gold", "high", "open", t0, t0))
	h.AdvanceTo(t0.Add(26 * time.Minute)) // response alert sent
	acks, err := h.Engine.Acknowledge(ctx, "k", watchdog.AckRequest{SLAClock: watchdog.Response, By: "alice", Note: "on it"})
	if err != nil || len(acks) != 1 || acks[0].By != "alice" {
		t.Fatalf("ack %+v %v", acks, err)
	}
	if got := h.Ticket("k").Acks; len(got) != 1 || got[0].SLAClock != watchdog.Response || got[0].Note != "on it" {
		t.Errorf("ticket acks %+v", got)
	}
	h.AdvanceTo(t0.Add(46 * time.Minute)) // response breach and escalation-1
	st := deliveryStatuses(t, h, "k", "team")
	if st["response:breach"] != watchdog.DeliveryAcknowledged || st["response:escalation-1"] != watchdog.DeliveryAcknowledged {
		t.Errorf("acknowledged clock's later stages: %v", st)
	}
	for _, a := range h.Alerts("k") {
		if want := map[string]string{"breach": "alice", "escalation-1": "alice"}[a.Stage]; a.AcknowledgedBy != want {
			t.Errorf("%s acknowledged by %q, want %q", a.Stage, a.AcknowledgedBy, want)
		}
	}
	if lvl := h.Ticket("k").EscalationLevel; lvl != 3 {
		t.Errorf("escalation level %d: acknowledged stages still raise it", lvl)
	}
	if n, err := h.Engine.Unacknowledge(ctx, "k", ""); err != nil || n != 1 {
		t.Fatalf("unack %d %v", n, err)
	}
	h.AdvanceTo(t0.Add(61 * time.Minute)) // response escalation-2
	if st := deliveryStatuses(t, h, "k", "team"); st["response:escalation-2"] != watchdog.DeliveryDelivered {
		t.Errorf("after DELETE the next stage goes: %v", st)
	}
	if got := logs["team"].sent(); !slices.Contains(got, "k:response:escalation-2") || slices.Contains(got, "k:response:breach") {
		t.Errorf("sent %v", got)
	}
	// Bad requests.
	past := t0
	if _, err := h.Engine.Acknowledge(ctx, "k", watchdog.AckRequest{By: "bob", Until: &past}); !errors.Is(err, watchdog.ErrInvalid) {
		t.Errorf("until in the past: %v", err)
	}
	if _, err := h.Engine.Acknowledge(ctx, "nope", watchdog.AckRequest{By: "bob"}); !errors.Is(err, watchdog.ErrNotFound) {
		t.Errorf("unknown ticket: %v", err)
	}
	h.Ingest(event("k", "gold", "high", "resolved", t0, t0.Add(62*time.Minute)))
	h.Ingest(event("k", "gold", "high", "open", t0, t0.Add(61*time.Minute)))
	if _, err := h.Engine.Acknowledge(ctx, "k", watchdog.AckRequest{By: "bob", SLAClock: watchdog.Resolution}); !errors.Is(err, watchdog.ErrClockStopped) {
		t.Errorf("stopped clock: %v", err)
	}
}

// A lower stage held outside delivery hours is superseded when a higher
// stage of its clock cycle is queued for the same receiver before the
// calendar opens: at the opening only what is still current goes.
func TestInhibitionOfHeldStage(t *testing.T) {
	sat := time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(sat)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    team: {webhook: {url: "http://team.test"}}
  routes:
    - receivers: [team]
      match: {sla_type: response}
      deliver_during: eu-business
      deliver_during_except: [breach]
`, "team")
	h.Ingest(event("a", "gold", "high", "open", sat, sat))
	h.Advance(26 * time.Minute) // the alert stage, held
	if st := deliveryStatuses(t, h, "a", "team"); st["response:alert"] != watchdog.DeliveryPending {
		t.Fatalf("alert stage %v, want held", st)
	}
	h.Advance(5 * time.Minute) // breach goes at once and supersedes the held alert
	st := deliveryStatuses(t, h, "a", "team")
	if st["response:alert"] != watchdog.DeliverySuperseded || st["response:breach"] != watchdog.DeliveryDelivered {
		t.Errorf("after the breach: %v", st)
	}
	if got := logs["team"].sent(); !slices.Equal(got, []string{"a:response:breach"}) {
		t.Errorf("sent %v", got)
	}
}

// A reload re-routes only what was not attempted: held deliveries of a
// receiver the routes no longer pick are cancelled, a receiver they now
// pick gains rows (held per its route), and what was delivered stays.
func TestReloadWhileHeld(t *testing.T) {
	sat := time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC)
	monday := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(sat)
	receivers := `notifications:
  receivers:
    day: {webhook: {url: "http://day.test"}}
    night: {webhook: {url: "http://night.test"}}
  routes:
`
	h, logs := startRouted(t, clock, receivers+`    - receivers: [day]
      deliver_during: eu-business
      deliver_during_except: [breach]
      inhibit: false
`, "day", "night")
	h.Ingest(event("a", "gold", "high", "open", sat, sat))
	h.Advance(31 * time.Minute) // alert held for day; breach sent to day
	p, err := watchdog.ParsePolicyEnv([]byte(routedTiers+receivers+`    - receivers: [night]
      inhibit: false
`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Engine.SetPolicyAndReplan(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	day, night := deliveryStatuses(t, h, "a", "day"), deliveryStatuses(t, h, "a", "night")
	if day["response:alert"] != watchdog.DeliveryCancelled || day["response:breach"] != watchdog.DeliveryDelivered {
		t.Errorf("day after the reload: %v, want the held alert cancelled and the breach kept", day)
	}
	if night["response:alert"] != watchdog.DeliveryDelivered || len(night) != 1 {
		t.Errorf("night after the reload: %v, want the unsent alert re-routed and sent, nothing else", night)
	}
	h.AdvanceTo(monday)
	if got := logs["day"].sent(); !slices.Equal(got, []string{"a:response:breach"}) {
		t.Errorf("day got %v", got)
	}
	if got := logs["night"].sent(); !slices.Contains(got, "a:response:alert") || slices.Contains(got, "a:response:breach") {
		t.Errorf("night got %v: the delivered breach is never re-sent", got)
	}
}

// A reload that changes the receivers swaps the engine's notifiers with
// the policy: a removed receiver's deliveries never attempted are
// cancelled, an added one gains rows for what its routes now pick (sent
// or held per its route), a changed one (same name, new notifier) sends
// from then on through the new notifier, and nothing delivered is sent
// again.
func TestReloadChangesReceivers(t *testing.T) {
	sat := time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC)
	monday := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)
	clock := watchdogtest.NewClock(sat)
	route := `      deliver_during: eu-business
      deliver_during_except: [breach]
      inhibit: false
`
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    day: {webhook: {url: "http://day.test"}}
    old: {webhook: {url: "http://old.test"}}
  routes:
    - receivers: [day, old]
`+route, "day", "old")
	h.Ingest(event("a", "gold", "high", "open", sat, sat))
	h.Advance(31 * time.Minute) // the alert held for both; the breach sent to both
	p, err := watchdog.ParsePolicyEnv([]byte(routedTiers+`notifications:
  receivers:
    day: {webhook: {url: "http://day-v2.test"}}
    added: {webhook: {url: "http://added.test"}}
  routes:
    - receivers: [day, added]
`+route), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	// The new policy needs its new receiver's notifier: alone it is refused.
	if err := h.Engine.SetPolicyAndReplan(context.Background(), p); err == nil {
		t.Fatal("SetPolicyAndReplan took a policy naming a receiver without a notifier")
	}
	dayV2, added := &messageLog{}, &messageLog{}
	if err := h.Engine.SetNotifiersAndPolicy(context.Background(), map[string]watchdog.Notifier{"day": dayV2}, p); err == nil {
		t.Fatal("SetNotifiersAndPolicy took a policy naming a receiver without a notifier")
	}
	if err := h.Engine.SetNotifiersAndPolicy(context.Background(), map[string]watchdog.Notifier{"day": dayV2, "added": added}, p); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	old, day, add := deliveryStatuses(t, h, "a", "old"), deliveryStatuses(t, h, "a", "day"), deliveryStatuses(t, h, "a", "added")
	if old["response:alert"] != watchdog.DeliveryCancelled || old["response:breach"] != watchdog.DeliveryDelivered {
		t.Errorf("old after the reload: %v, want the held alert cancelled and the breach kept", old)
	}
	if day["response:alert"] != watchdog.DeliveryPending || day["response:breach"] != watchdog.DeliveryDelivered {
		t.Errorf("day after the reload: %v, want the alert still held and the breach kept", day)
	}
	if add["response:alert"] != watchdog.DeliveryPending || len(add) != 1 {
		t.Errorf("added after the reload: %v, want the unsent alert re-routed (held), the delivered breach not", add)
	}
	h.AdvanceTo(monday)
	h.Settle()
	if got := logs["day"].sent(); !slices.Equal(got, []string{"a:response:breach"}) {
		t.Errorf("day's first notifier got %v, want only the breach sent before the reload", got)
	}
	if got := dayV2.sent(); !slices.Contains(got, "a:response:alert") || slices.Contains(got, "a:response:breach") {
		t.Errorf("day's new notifier got %v, want the held alert and not the breach", got)
	}
	if got := added.sent(); !slices.Contains(got, "a:response:alert") || slices.Contains(got, "a:response:breach") {
		t.Errorf("added got %v, want the held alert and not the breach", got)
	}
	if got := logs["old"].sent(); !slices.Equal(got, []string{"a:response:breach"}) {
		t.Errorf("old got %v, want only the breach sent before the reload", got)
	}
	if st := deliveryStatuses(t, h, "a", "day"); st["response:alert"] != watchdog.DeliveryDelivered {
		t.Errorf("day at the opening: %v", st)
	}
	// Removing every receiver's section falls back to the notifiers given:
	// a new alert goes to each of them.
	h.Ingest(event("b", "gold", "high", "open", monday, monday))
	plain, err := watchdog.ParsePolicyEnv([]byte(routedTiers), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	env := &messageLog{}
	if err := h.Engine.SetNotifiersAndPolicy(context.Background(), map[string]watchdog.Notifier{"env": env}, plain); err != nil {
		t.Fatal(err)
	}
	h.Advance(31 * time.Minute)
	if got := env.sent(); !slices.Equal(got, []string{"b:response:alert", "b:response:breach"}) {
		t.Errorf("env got %v", got)
	}
}

// A removed receiver's send in flight finishes and is recorded before
// SetNotifiersAndPolicy re-routes; it is never sent again, and the loop
// claims nothing more.
func TestRemovedReceiverFinishesInFlight(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	section := `notifications:
  receivers:
    slow: {webhook: {url: "http://slow.test"}}
    other: {webhook: {url: "http://other.test"}}
  routes:
    - receivers: [slow]
`
	p, err := watchdog.ParsePolicyEnv([]byte(routedTiers+section), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}, 10), make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock()
	var sends sync.Map
	slow := watchdog.NotifierFunc(func(_ context.Context, a watchdog.Alert) (bool, error) {
		n, _ := sends.LoadOrStore(a.DeliveryID, new(int))
		*n.(*int)++
		started <- struct{}{}
		<-release
		return false, nil
	})
	other := &messageLog{}
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	h := watchdogtest.StartEngine(t, st, clock, &watchdog.Config{Policy: p, Notifiers: map[string]watchdog.Notifier{"slow": slow, "other": other}, SweepInterval: time.Hour})
	h.Ingest(event("a", "gold", "high", "open", t0, t0))
	clock.Set(t0.Add(26 * time.Minute)) // the alert stage: its send blocks
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no send started")
	}
	p2, err := watchdog.ParsePolicyEnv([]byte(routedTiers+`notifications:
  receivers:
    other: {webhook: {url: "http://other.test"}}
  routes:
    - receivers: [other]
`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- h.Engine.SetNotifiersAndPolicy(context.Background(), map[string]watchdog.Notifier{"other": other}, p2)
	}()
	select {
	case err := <-done:
		t.Fatalf("returned (%v) while the removed receiver's send was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	unblock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.Advance(5 * time.Minute) // the breach goes to other alone
	slowSt, otherSt := deliveryStatuses(t, h, "a", "slow"), deliveryStatuses(t, h, "a", "other")
	if slowSt["response:alert"] != watchdog.DeliveryDelivered || len(slowSt) != 1 {
		t.Errorf("slow: %v, want the alert delivered, nothing more", slowSt)
	}
	if otherSt["response:breach"] != watchdog.DeliveryDelivered || len(otherSt) != 1 {
		t.Errorf("other: %v, want the breach alone (the alert was delivered elsewhere)", otherSt)
	}
	sends.Range(func(k, v any) bool {
		if *v.(*int) != 1 {
			t.Errorf("delivery %v sent %d times", k, *v.(*int))
		}
		return true
	})
}

// incidents is a notifier whose destination tracks incidents: it records
// acknowledge and resolve events.
type incidents struct {
	messageLog
	events chan string
}

var (
	_ watchdog.AckNotifier     = (*incidents)(nil)
	_ watchdog.ResolveNotifier = (*incidents)(nil)
)

func (n *incidents) Acknowledged(_ context.Context, a watchdog.Ack) error {
	n.events <- "ack " + a.TicketID + ":" + string(a.SLAClock) + " by " + a.By
	return nil
}

func (n *incidents) Resolved(_ context.Context, id string, c watchdog.SLAClock, cycle int64) error {
	n.events <- fmt.Sprintf("resolve %s:%s:%d", id, c, cycle)
	return nil
}

// An acknowledgement and a ticket closing are told to the notifiers that
// track incidents (AckNotifier, ResolveNotifier), once each.
func TestIncidentNotifiersToldOfAcksAndClosing(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	n := &incidents{events: make(chan string, 10)}
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	h := watchdogtest.StartEngine(t, st, clock, &watchdog.Config{Policy: testPolicy(), Notifiers: map[string]watchdog.Notifier{"pd": n}})
	h.Ingest(event("k", "gold", "high", "open", t0, t0))
	h.Advance(31 * time.Minute) // response alert and breach
	next := func() string {
		select {
		case e := <-n.events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10s")
			return ""
		}
	}
	if _, err := h.Engine.Acknowledge(context.Background(), "k", watchdog.AckRequest{SLAClock: watchdog.Response, By: "alice"}); err != nil {
		t.Fatal(err)
	}
	if e := next(); e != "ack k:response by alice" {
		t.Errorf("got %q", e)
	}
	h.Ingest(event("k", "gold", "high", "resolved", t0, t0.Add(32*time.Minute)))
	if e := next(); e != "resolve k:response:0" {
		t.Errorf("got %q: only the clock with alerts is resolved", e)
	}
	h.Ingest(event("k", "gold", "high", "resolved", t0, t0.Add(33*time.Minute)))
	h.Stop() // Run waits for the events being told
	select {
	case e := <-n.events:
		t.Errorf("an ingest of a closed ticket told %q again", e)
	default:
	}
}

// A clock cycle with alerts that stops is resolved at once, not only when
// the ticket closes: a first response resolves the response clock's
// incident, an agent reply the next-reply cycle's, each once; closing the
// ticket later resolves only the cycles still running.
func TestIncidentResolvedWhenClockStops(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	n := &incidents{events: make(chan string, 10)}
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	h := watchdogtest.StartEngine(t, st, clock, &watchdog.Config{Policy: cyclePolicy(t), Notifiers: map[string]watchdog.Notifier{"pd": n}})
	next := func() string {
		select {
		case e := <-n.events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10s")
			return ""
		}
	}
	none := func(when string) {
		t.Helper()
		h.Settle()
		select {
		case e := <-n.events:
			t.Errorf("%s: told %q", when, e)
		case <-time.After(50 * time.Millisecond):
		}
	}
	ev := func(status string, d time.Duration, msgs ...watchdog.Message) watchdog.Event {
		return watchdog.Event{ID: "R", Priority: "high", CustomerTier: "gold", Status: status, CreatedAt: t0, UpdatedAt: t0.Add(d), Messages: msgs}
	}
	h.Ingest(ev("open", 0))
	h.Advance(31 * time.Minute) // the response clock's alert and breach
	if len(h.Ticket("R").Alerts) == 0 {
		t.Fatal("no response alert")
	}
	none("before any clock stops")
	// The first response (an agent message) stops the response clock.
	h.Ingest(ev("open", 32*time.Minute, watchdog.Message{At: t0.Add(32 * time.Minute), Author: watchdog.AuthorAgent}))
	if e := next(); e != "resolve R:response:0" {
		t.Errorf("after the first response: %q", e)
	}
	none("after the first response")
	// A customer message starts a next-reply cycle; its stages fire; an
	// agent reply stops it.
	cycle := t0.Add(40 * time.Minute)
	h.Ingest(ev("open", 40*time.Minute, watchdog.Message{At: cycle, Author: watchdog.AuthorCustomer}))
	h.AdvanceTo(t0.Add(101 * time.Minute))
	none("while the next-reply cycle runs")
	h.Ingest(ev("open", 102*time.Minute, watchdog.Message{At: t0.Add(102 * time.Minute), Author: watchdog.AuthorAgent}))
	if e, want := next(), fmt.Sprintf("resolve R:next_reply:%d", cycle.UnixMicro()); e != want {
		t.Errorf("after the agent reply: %q, want %q", e, want)
	}
	// The same messages again end nothing new.
	h.Ingest(ev("open", 103*time.Minute, watchdog.Message{At: t0.Add(102 * time.Minute), Author: watchdog.AuthorAgent}))
	none("after a repeated ingest")
	// Closing resolves only what still runs: no clock with alerts does.
	alerted := map[watchdog.SLAClock]bool{}
	for _, a := range h.Ticket("R").Alerts {
		alerted[a.SLAClock] = true
	}
	h.Ingest(ev("resolved", 104*time.Minute))
	if alerted[watchdog.Resolution] {
		if e := next(); e != "resolve R:resolution:0" {
			t.Errorf("after closing: %q", e)
		}
	}
	h.Stop()
	select {
	case e := <-n.events:
		t.Errorf("after closing: told %q again", e)
	default:
	}
}

// A notifications section naming a receiver without a notifier is refused:
// its deliveries would wait for ever.
func TestReceiverWithoutNotifierRefused(t *testing.T) {
	p, err := watchdog.ParsePolicyEnv([]byte(routedTiers+`notifications:
  receivers:
    team: {webhook: {url: "http://team.test"}}
  routes:
    - receivers: [team]
`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, filepath.Join(t.TempDir(), "wd.db"))
	if _, err := watchdog.New(st, &watchdog.Config{Policy: p}); err == nil || !strings.Contains(err.Error(), `receiver "team" has no notifier`) {
		t.Errorf("New: %v", err)
	}
	eng, err := watchdog.New(st, &watchdog.Config{Notifiers: map[string]watchdog.Notifier{"other": &messageLog{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.SetPolicy(p); err == nil {
		t.Error("SetPolicy took a policy whose receiver has no notifier")
	}
}

// ack_timeout: a clock still breached that long after its acknowledgement
// reminds the route's receivers once (a new message, not a stage sent
// again); a clock that stopped meanwhile reminds nobody.
func TestAckTimeoutReminder(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    team: {webhook: {url: "http://team.test"}}
  routes:
    - receivers: [team]
      ack_timeout: 30m
`, "team")
	ctx := context.Background()
	h.Ingest(event("k", "gold", "high", "open", t0, t0), event("m", "gold", "high", "open", t0, t0))
	h.AdvanceTo(t0.Add(31 * time.Minute)) // both response clocks breached
	for _, id := range []string{"k", "m"} {
		if _, err := h.Engine.Acknowledge(ctx, id, watchdog.AckRequest{SLAClock: watchdog.Response, By: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	h.Ingest(event("m", "gold", "high", "pending", t0, t0.Add(32*time.Minute))) // m's response clock stops
	sent, _ := logs["team"].all()
	before := len(sent)
	h.AdvanceTo(t0.Add(61*time.Minute - time.Second))
	if sent, _ := logs["team"].all(); len(sent) != before {
		t.Fatalf("%d messages before the ack_timeout", len(sent)-before)
	}
	h.AdvanceTo(t0.Add(61 * time.Minute))
	msgs, _ := logs["team"].all()
	var reminders []string
	for _, m := range msgs[before:] {
		reminders = append(reminders, m...)
	}
	if !slices.Equal(reminders, []string{"k:response:escalation-2"}) {
		t.Fatalf("at the ack_timeout got %v, want one reminder about k's response clock (its latest stage)", reminders)
	}
	ack := h.Ticket("k").Acks[0]
	if ack.RemindedAt == nil || !ack.RemindedAt.Equal(t0.Add(61*time.Minute)) {
		t.Errorf("ack %+v, want reminded at the ack_timeout", ack)
	}
	h.AdvanceTo(t0.Add(5 * time.Hour))
	msgs2, _ := logs["team"].all()
	for _, m := range msgs2[len(msgs):] {
		for _, e := range m {
			if strings.HasPrefix(e, "k:response") || strings.HasPrefix(e, "m:response") {
				t.Errorf("a second message about an acknowledged clock: %v", e)
			}
		}
	}
}

// Routes match the ticket's attributes and tags, and the alert's policy,
// when the alert is recorded and when a reload re-routes it.
func TestRoutesOnAttributesAndPolicy(t *testing.T) {
	clock := watchdogtest.NewClock(t0)
	h, logs := startRouted(t, clock, `notifications:
  receivers:
    billing: {webhook: {url: "http://billing.test"}}
    vip: {webhook: {url: "http://vip.test"}}
    rest: {webhook: {url: "http://rest.test"}}
  routes:
    - match: {attributes.group: billing}
      receivers: [billing]
      continue: true
    - match: {tags: vip, policy: tiers.gold.high}
      receivers: [vip]
    - receivers: [rest]
`, "billing", "vip", "rest")
	b := event("b", "gold", "high", "open", t0, t0)
	b.Attributes = map[string]string{"group": "billing"}
	v := event("v", "gold", "high", "open", t0, t0)
	v.Tags = []string{"vip"}
	h.Ingest(b, v, event("p", "gold", "high", "open", t0, t0))
	h.AdvanceTo(t0.Add(26 * time.Minute))
	for r, want := range map[string][]string{
		"billing": {"b:response:alert"},
		"vip":     {"v:response:alert"},
		"rest":    {"b:response:alert", "p:response:alert"},
	} {
		if got := logs[r].sent(); !slices.Equal(got, want) {
			t.Errorf("%s got %v, want %v", r, got, want)
		}
	}
	if a := h.Alerts("v")[0]; a.Policy != "tiers.gold.high" {
		t.Errorf("alert policy %q: the route's policy key compares with it", a.Policy)
	}
}
