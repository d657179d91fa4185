package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// Workload describes the ticket events an ingest run sends. The same
// Workload always yields the same events, so the ceiling mode can copy
// exactly the rows the ingest mode posted.
type Workload struct {
	// Events is the total number of events.
	Events int
	// Batch is how many events one POST /tickets carries.
	Batch int
	// Streams is how many independent streams (one per connection) the
	// events are split into. A stream only updates tickets it created, so
	// concurrent batches never touch the same ticket.
	Streams int
	// UpdateFraction is the share of events that update a ticket created
	// earlier in the same stream (status changes, first responses).
	UpdateFraction float64
	// RunID makes ticket ids unique per run so runs can share a database.
	RunID string
	// Seed makes the events reproducible.
	Seed uint64
	// Base is the instant event times are laid out from; tickets are
	// created in the two hours before it.
	Base time.Time
}

// Weighted choices: the tier, priority and status mix of a helpdesk.
var (
	tiers      = weighted{{"gold", 15}, {"silver", 30}, {"bronze", 53}, {"trial", 2}} // trial has no policy: untracked
	priorities = weighted{{"high", 20}, {"medium", 50}, {"low", 30}}
	newStatus  = weighted{{"new", 75}, {"open", 20}, {"pending", 5}}
	nextStatus = weighted{{"open", 30}, {"pending", 20}, {"waiting_on_customer", 10}, {"resolved", 30}, {"closed", 10}}
)

type weighted []struct {
	v string
	w int
}

func (ws weighted) pick(r *rand.Rand) string {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.w {
			return w.v
		}
		n -= w.w
	}
	return ws[len(ws)-1].v
}

// Stream returns stream s's events split into batches. Update events carry
// a later updated_at than every earlier event of their ticket.
func (w Workload) Stream(s int) [][]watchdog.Event {
	n := w.Events / w.Streams
	if s < w.Events%w.Streams {
		n++
	}
	r := rand.New(rand.NewPCG(w.Seed, uint64(s)+1))
	var created []watchdog.Event // latest event of each ticket this stream created
	batches := make([][]watchdog.Event, 0, (n+w.Batch-1)/w.Batch)
	cur := make([]watchdog.Event, 0, w.Batch)
	for i := range n {
		// Times step by a millisecond per event so that every event of
		// a ticket has a distinct updated_at.
		at := w.Base.Add(-2 * time.Hour).Add(time.Duration(i) * time.Millisecond).Truncate(time.Microsecond)
		var ev watchdog.Event
		if len(created) > 0 && r.Float64() < w.UpdateFraction {
			k := r.IntN(len(created))
			ev = created[k]
			ev.Status = nextStatus.pick(r)
			ev.UpdatedAt = at
			if ev.FirstResponseAt == nil && r.IntN(2) == 0 {
				fr := at
				ev.FirstResponseAt = &fr
			}
			created[k] = ev
		} else {
			ev = watchdog.Event{
				ID:           fmt.Sprintf("ZD-%s-%d-%07d", w.RunID, s, len(created)),
				Priority:     priorities.pick(r),
				CustomerTier: tiers.pick(r),
				Status:       newStatus.pick(r),
				CreatedAt:    at,
				UpdatedAt:    at,
			}
			created = append(created, ev)
		}
		cur = append(cur, ev)
		if len(cur) == w.Batch {
			batches = append(batches, cur)
			cur = make([]watchdog.Event, 0, w.Batch)
		}
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// PolicyYAML is the SLA file the harness gives the server. Regular tiers
// have targets of hours, so nothing ingested comes due during a run; the
// "lateness" tier's response target is a few seconds long, so that the
// lateness mode's tickets, created as they are sent, come due within
// seconds in real time. The "lateness-cycles" tier's policy tracks only a
// next reply, 5s long, for the lateness run whose half of the tickets wait
// for a reply to a customer message.
const PolicyYAML = `# Written by watchdog-bench.
thresholds: {alert: 0.85, breach: 1.0}
policies:
  - name: lateness-cycles
    match: {tier: lateness-cycles}
    targets: {next_reply: 5s}
tiers:
  gold:
    high: {response: 4h, resolution: 24h}
    medium: {response: 8h, resolution: 48h}
    low: {response: 12h, resolution: 72h}
  silver:
    high: {response: 6h, resolution: 36h}
    medium: {response: 12h, resolution: 72h}
    low: {response: 24h, resolution: 96h}
  bronze:
    high: {response: 8h, resolution: 48h}
    medium: {response: 24h, resolution: 96h}
    low: {response: 48h, resolution: 168h}
  lateness:
    high: {response: 5s, resolution: 240h}
`

// Lateness-tier timing, matching PolicyYAML.
const (
	latenessTarget    = 5 * time.Second
	latenessAlertFrac = 0.85
)
