package ui

import (
	"net/http"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// feedSize is how many recent alerts the feed renders; the script adds
// those that fire while it is open.
const feedSize = 50

// feedPage is the live feed's content.
type feedPage struct {
	Alerts []feedRow
	// LastID is the newest alert's id: the script fills a gap after it.
	LastID int64
}

// feedRow is one alert of the feed (and of the ticket page).
type feedRow struct {
	ID                     int64
	TicketID, Clock, Stage string
	State, Tier, Priority  string
	Message                string
	Escalation             int
	DueAt, FiredAt         time.Time
	Late                   time.Duration
	Deliveries             []watchdog.Delivery
}

func newFeedRow(a watchdog.Alert) feedRow {
	return feedRow{ID: a.ID, TicketID: a.TicketID, Clock: string(a.SLAClock), Stage: a.Stage, State: a.State,
		Tier: a.CustomerTier, Priority: a.Priority, Message: a.Message, Escalation: a.EscalationLevel,
		DueAt: a.DueAt, FiredAt: a.FiredAt, Late: a.FiredAt.Sub(a.DueAt), Deliveries: a.Deliveries}
}

func (h *Handler) feed(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Alerts(r.Context(), watchdog.AlertsQuery{Limit: feedSize})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	page := feedPage{}
	for _, a := range list {
		page.Alerts = append(page.Alerts, newFeedRow(a))
	}
	if len(list) > 0 {
		page.LastID = list[0].ID
	}
	h.render(w, r, http.StatusOK, "feed", layout{Title: "Live feed", Nav: "feed", Live: true, Page: page})
}
