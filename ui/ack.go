package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// Acknowledger records that someone is on a ticket, so that its later
// stages stop being sent (the notification policy's acknowledgement).
// Config.Acks takes one; until the server has it, the ticket page shows no
// acknowledgement section.
type Acknowledger interface {
	// Acks lists the ticket's acknowledgements in force.
	Acks(ctx context.Context, ticketID string) ([]Ack, error)
	// Acknowledge acknowledges one clock of the ticket ("" for every
	// running clock).
	Acknowledge(ctx context.Context, ticketID string, a Ack) error
	// Withdraw undoes the ticket's acknowledgements.
	Withdraw(ctx context.Context, ticketID string) error
}

// Ack is one acknowledgement.
type Ack struct {
	// Clock is the SLA clock acknowledged; "" means every running clock.
	Clock string
	By    string
	Note  string
	// At is when it was made (set by the Acknowledger).
	At time.Time
}

// ackSection is the ticket page's acknowledgement part.
type ackSection struct {
	Acks   []Ack
	Clocks []clockDetail
}

// acknowledge serves the ticket page's acknowledge and withdraw forms.
func (h *Handler) acknowledge(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Acks == nil {
		h.fail(w, r, http.StatusNotFound, "Acknowledgements are not available on this server.")
		return
	}
	if !h.checkForm(w, r) {
		return
	}
	id := r.PathValue("id")
	var err error
	switch r.PostForm.Get("action") {
	case "withdraw":
		err = h.cfg.Acks.Withdraw(r.Context(), id)
	case "acknowledge":
		a := Ack{Clock: r.PostForm.Get("sla_type"), By: strings.TrimSpace(r.PostForm.Get("by")), Note: strings.TrimSpace(r.PostForm.Get("note"))}
		if a.By == "" {
			h.fail(w, r, http.StatusBadRequest, "Say who acknowledges.")
			return
		}
		err = h.cfg.Acks.Acknowledge(r.Context(), id, a)
	default:
		h.fail(w, r, http.StatusBadRequest, "Unknown action.")
		return
	}
	var ve *watchdog.ValidationError
	switch {
	case errors.As(err, &ve):
		h.fail(w, r, http.StatusUnprocessableEntity, "Not acknowledged: "+ve.Error())
	case err != nil:
		h.serviceError(w, r, err)
	default:
		http.Redirect(w, r, "/ui/tickets/"+url.PathEscape(id), http.StatusSeeOther)
	}
}
