package watchdog

import (
	"cmp"
	"time"
)

// routeAlerts decides the deliveries of the alerts a plan records for t
// under a notifications section: each alert goes to the receivers its routes
// pick, one row per receiver. A row is recorded without being sent when its
// clock is acknowledged (acknowledged) or when a higher stage of the same
// clock cycle goes to the same receiver of an inhibiting route in the same
// plan (superseded: a ticket imported long after its deadlines sends its
// highest stage per clock). A row outside its route's delivery hours waits
// for the calendar to open (held).
//
// It also names the deliveries of alerts recorded earlier that a new
// higher stage supersedes: those of lower stages of the same clock cycle
// to the same receiver of an inhibiting route (the store supersedes those
// not yet attempted).
func routeAlerts(n *Notifications, t *Ticket, due []Alert, now time.Time) (map[StageKey][]PlannedDelivery, []DeliveryRef) {
	out := make(map[StageKey][]PlannedDelivery, len(due))
	// The highest stage of each clock cycle per receiver, among inhibiting
	// routes.
	highest := map[clockReceiver]int{}
	routed := make([][]RoutedDelivery, len(due))
	for i := range due {
		a := due[i]
		a.Priority = cmp.Or(a.Priority, t.Priority)
		a.CustomerTier = cmp.Or(a.CustomerTier, t.CustomerTier)
		routed[i] = n.Resolve(a, t)
		for _, rd := range routed[i] {
			if !rd.Route.Inhibit {
				continue
			}
			k := clockReceiver{a.SLAClock, a.Key().Cycle, rd.Receiver}
			if r, ok := highest[k]; !ok || stageRank(a.Stage) > r {
				highest[k] = stageRank(a.Stage)
			}
		}
	}
	for i, a := range due {
		acked := t.ackFor(a.SLAClock, a.Key().Cycle, now) != nil
		pds := make([]PlannedDelivery, 0, len(routed[i]))
		for _, rd := range routed[i] {
			pd := PlannedDelivery{Notifier: rd.Receiver, Status: DeliveryPending}
			switch {
			case acked:
				pd.Status = DeliveryAcknowledged
			case rd.Route.Inhibit && stageRank(a.Stage) < highest[clockReceiver{a.SLAClock, a.Key().Cycle, rd.Receiver}]:
				pd.Status = DeliverySuperseded
			default:
				pd.HeldUntil = rd.Route.heldUntil(a, now)
			}
			pds = append(pds, pd)
		}
		out[a.Key()] = pds
	}
	return out, supersededEarlier(n, t, highest)
}

// supersededEarlier names the deliveries of t's recorded alerts below the
// highest new stage of their clock cycle for an inhibiting receiver.
func supersededEarlier(n *Notifications, t *Ticket, highest map[clockReceiver]int) []DeliveryRef {
	var refs []DeliveryRef
	for _, b := range t.Alerts {
		rank := stageRank(b.Stage)
		for _, rd := range n.Resolve(b, t) {
			if h, ok := highest[clockReceiver{b.SLAClock, b.Key().Cycle, rd.Receiver}]; ok && rd.Route.Inhibit && rank < h {
				refs = append(refs, DeliveryRef{AlertID: b.ID, Notifier: rd.Receiver})
			}
		}
	}
	return refs
}

// clockReceiver is one clock cycle's deliveries to one receiver.
type clockReceiver struct {
	clock    SLAClock
	cycle    int64 // StageKey.Cycle
	receiver string
}
