package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/query"
)

func (h *Handler) postTickets(w http.ResponseWriter, r *http.Request) {
	if msg := jsonContentType(r); msg != "" {
		writeError(w, http.StatusUnsupportedMediaType, msg, nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes; send smaller batches", h.cfg.MaxBodyBytes), nil)
			return
		}
		writeError(w, http.StatusBadRequest, "reading the request body failed: "+err.Error(), nil)
		return
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	isArray := len(trimmed) > 0 && trimmed[0] == '['
	if isArray && h.cfg.MaxBatch > 0 {
		if n, ok := countArray(trimmed, h.cfg.MaxBatch); ok && n > h.cfg.MaxBatch {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("batch has more than %d events; send at most %d per request", h.cfg.MaxBatch, h.cfg.MaxBatch), nil)
			return
		}
	}
	events, err := watchdog.DecodeEventsBytes(body)
	if err != nil {
		var ve *watchdog.ValidationError
		if errors.As(err, &ve) {
			code := http.StatusUnprocessableEntity
			if structural(ve) {
				code = http.StatusBadRequest
			}
			writeError(w, code, ve.Error(), ve.Errors)
			return
		}
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	ctx, cancel := h.storeContext(r)
	defer cancel()
	tickets, err := h.svc.Ingest(ctx, events)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	h.health.answered(true)
	h.log.Info("events ingested", "correlation_id", CorrelationID(r.Context()), "events", len(events), "tickets", len(tickets))
	writeTickets(w, http.StatusOK, tickets, !isArray && len(tickets) == 1)
}

// jsonContentType says why a body's Content-Type is not JSON, or returns
// "" when it is: application/json or any application/*+json, in UTF-8. A
// body with another type or none is refused, since a browser sends
// text/plain, form and multipart bodies cross-site without a preflight.
// A request without a body has no type to check.
func jsonContentType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if r.ContentLength == 0 {
			return ""
		}
		return "Content-Type is missing: send the body as application/json"
	}
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case err != nil || mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")):
		return "Content-Type must be application/json, got " + strconv.Quote(ct)
	case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
		return "JSON must be UTF-8, got charset " + strconv.Quote(params["charset"])
	}
	return ""
}

// structural reports whether a validation error is about the document as a
// whole (malformed JSON, wrong shape) rather than fields of items.
func structural(ve *watchdog.ValidationError) bool {
	for _, fe := range ve.Errors {
		if fe.Field != "" {
			return false
		}
	}
	return true
}

// countArray counts the top-level elements of a JSON array, stopping once
// it has seen more than limit; ok is false when the text is not a
// well-formed array (the decoder reports that).
func countArray(b []byte, limit int) (n int, ok bool) {
	depth, inString, escaped := 0, false, false
	nonEmpty := false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 {
				nonEmpty = true
			}
		case '[', '{':
			if depth == 1 {
				nonEmpty = true
			}
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				if nonEmpty {
					n++
				}
				return n, true
			}
		case ',':
			if depth == 1 {
				n++
				if n > limit {
					return n, true
				}
			}
		case ' ', '\t', '\r', '\n':
		default:
			if depth == 1 {
				nonEmpty = true
			}
		}
	}
	return n, false
}

// ticketBody is GET /tickets/{id}'s answer: the ticket's fields, its
// history and alerts in the seed's shape, and its clocks.
type ticketBody struct {
	*watchdog.Ticket
	StatusHistory []watchdog.StatusChange                      `json:"status_history"`
	Alerts        []watchdog.Alert                             `json:"alerts"`
	Messages      []watchdog.Message                           `json:"messages,omitempty"`
	SLA           map[watchdog.SLAClock]*watchdog.SLAClockView `json:"sla"`
	EvaluatedAt   string                                       `json:"evaluated_at"`
	// Acks are the ticket's acknowledgements, one per clock at most.
	Acks []watchdog.Ack `json:"acks"`
}

func (h *Handler) getTicket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if strings.TrimSpace(id) == "" || len(id) > watchdog.MaxIDBytes {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("ticket id must be 1 to %d bytes", watchdog.MaxIDBytes), nil)
		return
	}
	ctx, cancel := h.storeContext(r)
	defer cancel()
	v, err := h.svc.Ticket(ctx, id)
	if err != nil {
		var ve *watchdog.ValidationError
		if errors.As(err, &ve) {
			// A malformed id (NUL, invalid UTF-8) is a bad path.
			writeError(w, http.StatusBadRequest, "invalid ticket id: "+ve.Error(), ve.Errors)
			return
		}
		if errors.Is(err, watchdog.ErrNotFound) {
			h.health.answered(false)
			writeError(w, http.StatusNotFound, "ticket "+strconv.Quote(id)+" not found", nil)
			return
		}
		h.storeError(w, r, err)
		return
	}
	h.health.answered(false)
	body := ticketBody{Ticket: v.Ticket, StatusHistory: v.History(), Alerts: v.Alerts, Messages: v.Messages, SLA: v.SLAClocks,
		EvaluatedAt: v.EvaluatedAt.UTC().Format("2006-01-02T15:04:05.999999Z07:00")}
	if body.Alerts == nil {
		body.Alerts = []watchdog.Alert{}
	}
	body.Acks = v.Acks
	if body.Acks == nil {
		body.Acks = []watchdog.Ack{}
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	q, tierParam, errs := parseDashboardQuery(r)
	if len(errs) == 0 {
		if err := q.Validate(); err != nil {
			var ve *watchdog.ValidationError
			if errors.As(err, &ve) {
				errs = ve.Errors
			}
		}
	}
	for i := range errs {
		if errs[i].Field == "tier" && tierParam != "" {
			errs[i].Field = tierParam // name the parameter the client sent
		}
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid query: "+(&watchdog.ValidationError{Errors: errs}).Error(), errs)
		return
	}
	ctx, cancel := h.storeContext(r)
	defer cancel()
	page, err := h.svc.Dashboard(ctx, q)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	h.health.answered(false)
	w.Header().Set("X-Total-Count", strconv.Itoa(page.Total))
	tickets := page.Tickets
	if tickets == nil {
		tickets = []*watchdog.Ticket{}
	}
	writeJSON(w, http.StatusOK, tickets)
}

// parseDashboardQuery reads the dashboard's parameters; tierParam is the
// name the tier filter came under (tier, or the seed's customer_tier).
func parseDashboardQuery(r *http.Request) (q watchdog.DashboardQuery, tierParam string, errs []watchdog.FieldError) {
	vals, err := query.Parse(r.URL.RawQuery)
	if err != nil {
		var qe *query.Error
		errors.As(err, &qe)
		return q, "", []watchdog.FieldError{{Field: qe.Param, Message: qe.Message}}
	}
	intParam := func(name string, dst *int) {
		s := vals.Get(name)
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, watchdog.FieldError{Field: name, Message: "must be an integer, got " + strconv.Quote(s)})
			return
		}
		*dst = n
	}
	intParam("offset", &q.Offset)
	intParam("limit", &q.Limit)
	if vals.Has("limit") && q.Limit == 0 && len(errs) == 0 {
		errs = append(errs, watchdog.FieldError{Field: "limit", Message: "must be between 1 and 1000"})
	}
	q.State = strings.ToLower(vals.Get("state"))
	q.Tier, tierParam = vals.Get("tier"), "tier"
	if q.Tier == "" {
		q.Tier, tierParam = vals.Get("customer_tier"), "customer_tier"
	}
	q.Priority = vals.Get("priority")
	q.Policy = vals.Get("policy")
	if s := vals.Get("open"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, watchdog.FieldError{Field: "open", Message: "must be true or false, got " + strconv.Quote(s)})
		} else {
			q.Open = &b
		}
	}
	q.Order = watchdog.DashboardOrder(strings.ToLower(vals.Get("order")))
	return q, tierParam, errs
}
