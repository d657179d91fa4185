package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/query"
)

// alerts answers GET /alerts: recorded alerts, newest first, after and
// before an id.
func (h *Handler) alerts(w http.ResponseWriter, r *http.Request) {
	q, errs := parseAlertsQuery(r)
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid query: "+(&watchdog.ValidationError{Errors: errs}).Error(), errs)
		return
	}
	switch list, err := h.svc.Alerts(r.Context(), q); {
	case err != nil:
		h.storeError(w, r, err)
	case list == nil:
		writeJSON(w, http.StatusOK, []watchdog.Alert{})
	default:
		writeJSON(w, http.StatusOK, list)
	}
}

// parseAlertsQuery reads and checks GET /alerts's parameters.
func parseAlertsQuery(r *http.Request) (q watchdog.AlertsQuery, errs []watchdog.FieldError) {
	vals, err := query.Parse(r.URL.RawQuery)
	if err != nil {
		var qe *query.Error
		errors.As(err, &qe)
		return q, []watchdog.FieldError{{Field: qe.Param, Message: qe.Message}}
	}
	intParam := func(name string, dst *int64) {
		s := vals.Get(name)
		if s == "" {
			return
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs = append(errs, watchdog.FieldError{Field: name, Message: "must be an integer, got " + strconv.Quote(s)})
			return
		}
		*dst = n
	}
	var limit int64
	intParam("after_id", &q.AfterID)
	intParam("before_id", &q.BeforeID)
	intParam("limit", &limit)
	if vals.Has("limit") && limit == 0 && len(errs) == 0 || limit < 0 || limit > watchdog.MaxAlertsLimit {
		errs = append(errs, watchdog.FieldError{Field: "limit", Message: "must be between 1 and 1000"})
	}
	q.Limit = int(limit)
	var ve *watchdog.ValidationError
	if len(errs) == 0 && errors.As(q.Validate(), &ve) {
		errs = ve.Errors
	}
	return q, errs
}
