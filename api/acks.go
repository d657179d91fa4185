package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/query"
)

// Acknowledger is the part of a Service that acknowledges SLA clocks: the
// POST and DELETE /tickets/{id}/ack routes are served when the Service
// implements it (watchdog.Engine does).
type Acknowledger interface {
	Acknowledge(ctx context.Context, id string, req watchdog.AckRequest) ([]watchdog.Ack, error)
	Unacknowledge(ctx context.Context, id string, c watchdog.SLAClock) (int, error)
}

// maxAckBody bounds an acknowledgement's body.
const maxAckBody = 16 << 10

// ackRequest is POST /tickets/{id}/ack's body.
type ackRequest struct {
	SLAType *string `json:"sla_type"`
	By      string  `json:"by"`
	Note    string  `json:"note"`
	Until   *string `json:"until"`
}

// ackResponse answers both ack routes.
type ackResponse struct {
	TicketID string         `json:"ticket_id"`
	Acks     []watchdog.Ack `json:"acks"`
	Removed  *int           `json:"removed,omitempty"`
}

func (h *Handler) postAck(w http.ResponseWriter, r *http.Request) {
	id, ok := h.ackTicketID(w, r)
	if !ok {
		return
	}
	if msg := jsonContentType(r); msg != "" {
		writeError(w, http.StatusUnsupportedMediaType, msg, nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAckBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxAckBody), nil)
		return
	}
	var in ackRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "request body must be a JSON object with by, and optionally sla_type, note and until: "+err.Error(), nil)
		return
	}
	req := watchdog.AckRequest{By: in.By, Note: in.Note}
	if in.SLAType != nil {
		req.SLAClock = watchdog.SLAClock(*in.SLAType)
	}
	if in.Until != nil {
		until, err := time.Parse(time.RFC3339Nano, *in.Until)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "invalid input",
				[]watchdog.FieldError{{Field: "until", Message: "must be an RFC 3339 time such as 2026-12-03T18:00:00Z"}})
			return
		}
		req.Until = &until
	}
	ctx, cancel := h.storeContext(r)
	defer cancel()
	acks, err := h.svc.(Acknowledger).Acknowledge(ctx, id, req)
	if err != nil {
		h.ackError(w, r, id, err)
		return
	}
	h.health.answered(true)
	writeJSON(w, http.StatusOK, ackResponse{TicketID: id, Acks: acks})
}

func (h *Handler) deleteAck(w http.ResponseWriter, r *http.Request) {
	id, ok := h.ackTicketID(w, r)
	if !ok {
		return
	}
	q, err := query.Parse(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	c := watchdog.SLAClock(q.Get("sla_type"))
	if c != "" && !slices.Contains(watchdog.AllSLAClocks[:], c) {
		const msg = "must be response, resolution, next_reply or periodic_update"
		writeError(w, http.StatusBadRequest, "query parameter \"sla_type\": "+msg,
			[]watchdog.FieldError{{Field: "sla_type", Message: msg}})
		return
	}
	ctx, cancel := h.storeContext(r)
	defer cancel()
	n, err := h.svc.(Acknowledger).Unacknowledge(ctx, id, c)
	if err != nil {
		h.ackError(w, r, id, err)
		return
	}
	h.health.answered(true)
	writeJSON(w, http.StatusOK, ackResponse{TicketID: id, Acks: []watchdog.Ack{}, Removed: &n})
}

// ackTicketID reads the path's ticket id, answering 400 for one no ticket
// can have.
func (h *Handler) ackTicketID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if strings.TrimSpace(id) == "" || len(id) > watchdog.MaxIDBytes {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("ticket id must be 1 to %d bytes", watchdog.MaxIDBytes), nil)
		return "", false
	}
	return id, true
}

// ackError answers the ack routes' errors: a stopped clock is 409, an
// unknown ticket 404, a bad field 422.
func (h *Handler) ackError(w http.ResponseWriter, r *http.Request, id string, err error) {
	var ve *watchdog.ValidationError
	switch {
	case errors.Is(err, watchdog.ErrClockStopped):
		h.health.answered(false)
		writeError(w, http.StatusConflict, "nothing to acknowledge: "+strings.TrimPrefix(err.Error(), "watchdog: "), nil)
	case errors.As(err, &ve):
		writeError(w, http.StatusUnprocessableEntity, "invalid input", ve.Errors)
	case errors.Is(err, watchdog.ErrNotFound):
		h.health.answered(false)
		writeError(w, http.StatusNotFound, "ticket "+strconv.Quote(id)+" not found", nil)
	default:
		h.storeError(w, r, err)
	}
}
