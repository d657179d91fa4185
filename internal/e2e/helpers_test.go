package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/mockslack"
	"github.com/ticket-watchdog/watchdog/store/postgres"
	"github.com/ticket-watchdog/watchdog/store/sqlite"
)

// Store kinds the crash test runs on.
const (
	kindSQLite   = "sqlite"
	kindPostgres = "postgres"
)

// openStore opens the store of the given kind: a file path for SQLite, a
// DSN for PostgreSQL. Both migrate on open.
func openStore(ctx context.Context, kind, dsn string) (watchdog.Store, error) {
	switch kind {
	case kindSQLite:
		st, err := sqlite.Open(ctx, dsn, nil)
		if err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
		return st, nil
	case kindPostgres:
		st, err := postgres.Open(ctx, dsn, nil)
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("unknown store kind %q", kind)
}

// stageKey names one stage of one clock of one ticket, the unit that must
// be alerted and delivered exactly once.
type stageKey struct {
	Ticket string
	Clock  watchdog.SLAClock
	Stage  string
}

func (k stageKey) String() string { return k.Ticket + "/" + string(k.Clock) + "/" + k.Stage }

func keyOf(a watchdog.Alert) stageKey {
	return stageKey{Ticket: a.TicketID, Clock: a.SLAClock, Stage: a.Stage}
}

// slackKeys reads which stages a mock Slack message is about from the
// attachment fields the Slack notifier writes (Ticket, SLA, State): one
// attachment per alert, several when alerts were sent together.
func slackKeys(m mockslack.Message) ([]stageKey, error) {
	atts, err := m.AttachmentFields()
	if err != nil {
		return nil, err
	}
	if len(atts) == 0 {
		return nil, fmt.Errorf("message %d: no attachment", m.Seq)
	}
	keys := make([]stageKey, 0, len(atts))
	for _, f := range atts {
		k := stageKey{Ticket: f["Ticket"], Clock: watchdog.SLAClock(f["SLA"])}
		switch f["State"] {
		case "ALERT":
			k.Stage = watchdog.StageAlert
		case "BREACH":
			k.Stage = watchdog.StageBreach
		case "":
		default:
			return nil, fmt.Errorf("message %d: unexpected state %q", m.Seq, f["State"])
		}
		if k.Ticket == "" || k.Clock == "" || k.Stage == "" {
			return nil, fmt.Errorf("message %d: missing ticket, SLA or state field: %s", m.Seq, m.Payload)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// slackCounts counts the alerts in the mock's messages by stage.
func slackCounts(msgs []mockslack.Message) (map[stageKey]int, error) {
	counts := make(map[stageKey]int, len(msgs))
	for _, m := range msgs {
		keys, err := slackKeys(m)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			counts[k]++
		}
	}
	return counts, nil
}

// policy is a 24x7 policy with one tier/priority, gold/high, whose targets
// are short enough for real time.
func policy(th watchdog.Thresholds, response, resolution time.Duration) *watchdog.Policy {
	return &watchdog.Policy{
		Thresholds: th,
		Statuses:   watchdog.DefaultStatuses,
		Tiers: map[string]*watchdog.TierPolicy{
			"gold": {Priorities: map[string]watchdog.Targets{
				"high": {Response: response, Resolution: resolution},
			}},
		},
	}
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive integer", name, v)
	}
	return n, nil
}

// countingObserver counts what one engine did, to show how work was split.
type countingObserver struct {
	watchdog.NopObserver
	mu        sync.Mutex
	fired     int
	delivered int
	other     map[watchdog.DeliveryStatus]int
	maxLate   time.Duration
}

func (o *countingObserver) AlertFired(_ watchdog.Alert, late time.Duration, _ bool) {
	o.mu.Lock()
	o.fired++
	o.maxLate = max(o.maxLate, late)
	o.mu.Unlock()
}

func (o *countingObserver) DeliveryFinished(_ string, st watchdog.DeliveryStatus, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if st == watchdog.DeliveryDelivered {
		o.delivered++
		return
	}
	if o.other == nil {
		o.other = map[watchdog.DeliveryStatus]int{}
	}
	o.other[st]++
}

func (o *countingObserver) snapshot() (fired, delivered int, other map[watchdog.DeliveryStatus]int, maxLate time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fired, o.delivered, maps.Clone(o.other), o.maxLate
}
