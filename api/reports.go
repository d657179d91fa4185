package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/internal/query"
)

// slaReportBody is GET /reports/sla's JSON answer.
type slaReportBody struct {
	From    time.Time               `json:"from"`
	To      time.Time               `json:"to"`
	By      string                  `json:"by"`
	TZ      string                  `json:"tz"`
	GroupBy []string                `json:"group_by"`
	Rows    []watchdog.SLAReportRow `json:"rows"`
}

// slaReport answers GET /reports/sla: outcomes aggregated by group.
func (h *Handler) slaReport(w http.ResponseWriter, r *http.Request) {
	q, tz, csvOut, errs := parseReportQuery(r)
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid query: "+(&watchdog.ValidationError{Errors: errs}).Error(), errs)
		return
	}
	ctx, cancel := h.storeContext(r)
	defer cancel()
	rows, err := h.svc.SLAReport(ctx, q)
	if h.reportError(w, r, err) {
		return
	}
	h.health.answered(false)
	// The engine filled the defaults; answer with them.
	_ = q.Validate()
	if rows == nil {
		rows = []watchdog.SLAReportRow{}
	}
	if csvOut {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="sla-report.csv"`)
		w.WriteHeader(http.StatusOK)
		if err := watchdog.WriteSLAReportCSV(w, &q, rows); err != nil {
			h.log.Debug("sla report: write", "err", err)
		}
		return
	}
	for i := range rows {
		if rows[i].Period != nil {
			p := rows[i].Period.In(q.Location)
			rows[i].Period = &p
		}
	}
	groupBy := q.GroupBy
	if groupBy == nil {
		groupBy = []string{}
	}
	writeJSON(w, http.StatusOK, slaReportBody{From: q.From.In(q.Location), To: q.To.In(q.Location), By: q.By, TZ: tz, GroupBy: groupBy, Rows: rows})
}

// reportError answers err, if any: a query the engine refuses is the
// caller's 400, the rest as any store error. It reports whether it did.
func (h *Handler) reportError(w http.ResponseWriter, r *http.Request, err error) bool {
	var ve *watchdog.ValidationError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, "invalid query: "+ve.Error(), ve.Errors)
	default:
		h.storeError(w, r, err)
	}
	return true
}

// outcomeJSON is one outcome of GET /reports/sla/outcomes.
type outcomeJSON struct {
	TicketID          string     `json:"ticket_id"`
	SLAType           string     `json:"sla_type"`
	Cycle             int        `json:"cycle"`
	Policy            string     `json:"policy"`
	Tier              string     `json:"tier"`
	Priority          string     `json:"priority"`
	Calendar          string     `json:"calendar"`
	Result            string     `json:"result"`
	TargetSeconds     int64      `json:"target_seconds"`
	StartedAt         time.Time  `json:"started_at"`
	StoppedAt         *time.Time `json:"stopped_at"`
	BusinessSeconds   int64      `json:"business_seconds"`
	PausedSeconds     int64      `json:"paused_seconds"`
	Breached          bool       `json:"breached"`
	BreachAt          *time.Time `json:"breach_at"`
	PastTargetSeconds int64      `json:"past_target_seconds"`
	CycleStartedAt    *time.Time `json:"cycle_started_at"`
}

func newOutcomeJSON(o *watchdog.Outcome) outcomeJSON {
	return outcomeJSON{TicketID: o.TicketID, SLAType: string(o.SLAClock), Cycle: o.Cycle, Policy: o.Policy, Tier: o.Tier,
		Priority: o.Priority, Calendar: o.Calendar, Result: o.Result(), TargetSeconds: int64(o.Target / time.Second),
		StartedAt: o.StartedAt, StoppedAt: o.StoppedAt, BusinessSeconds: int64(o.Business / time.Second),
		PausedSeconds: int64(o.Paused / time.Second), Breached: o.Breached, BreachAt: o.BreachAt,
		PastTargetSeconds: int64(o.Overrun / time.Second), CycleStartedAt: o.CycleStartedAt()}
}

// exportDeadline is how long each part of an export may take to write:
// the server's write timeout is pushed back by it as rows go out, so a
// large export is bounded by its progress, not by its size.
const exportDeadline = 30 * time.Second

// slaOutcomes answers GET /reports/sla/outcomes: the selected outcomes,
// streamed as a JSON array or CSV, in constant memory.
func (h *Handler) slaOutcomes(w http.ResponseWriter, r *http.Request) {
	q, _, csvOut, errs := parseReportQuery(r)
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, "invalid query: "+(&watchdog.ValidationError{Errors: errs}).Error(), errs)
		return
	}
	rc := http.NewResponseController(w)
	n := 0
	var started atomic.Bool
	var out outcomeWriter
	// The store has the request timeout to send the first row; from then
	// on the export is bounded by its progress (the write deadline).
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	timer := time.AfterFunc(h.cfg.RequestTimeout, func() {
		if !started.Load() {
			cancel()
		}
	})
	defer timer.Stop()
	err := h.svc.SLAOutcomes(ctx, q, func(o *watchdog.Outcome) error {
		if !started.Load() {
			started.Store(true)
			out = newOutcomeWriter(w, csvOut, q.Location)
		}
		if n%10000 == 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(exportDeadline))
		}
		n++
		return out.write(o)
	})
	if !started.Load() && err == nil {
		out = newOutcomeWriter(w, csvOut, q.Location)
		started.Store(true)
	}
	if !started.Load() {
		if ctx.Err() != nil && r.Context().Err() == nil {
			err = fmt.Errorf("first outcome: %w", context.DeadlineExceeded)
		}
		h.reportError(w, r, err)
		return
	}
	if err == nil {
		err = out.close()
	}
	if err != nil {
		// The status is sent: cut the answer short so the client sees an
		// incomplete body rather than a complete-looking one.
		h.log.Error("sla outcomes export failed", "correlation_id", CorrelationID(r.Context()), "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	h.health.answered(false)
}

// outcomeWriter writes outcomes as CSV or as the elements of a JSON array.
type outcomeWriter struct {
	w     http.ResponseWriter
	csv   *watchdog.OutcomeCSV
	enc   *json.Encoder
	first bool
}

func newOutcomeWriter(w http.ResponseWriter, csvOut bool, loc *time.Location) outcomeWriter {
	ow := outcomeWriter{w: w, first: true}
	if csvOut {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="sla-outcomes.csv"`)
		w.WriteHeader(http.StatusOK)
		ow.csv, _ = watchdog.NewOutcomeCSV(w, loc)
		return ow
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("["))
	ow.enc = json.NewEncoder(w)
	return ow
}

func (ow *outcomeWriter) write(o *watchdog.Outcome) error {
	if ow.csv != nil {
		return ow.csv.Write(o)
	}
	if !ow.first {
		if _, err := ow.w.Write([]byte(",")); err != nil {
			return err
		}
	}
	ow.first = false
	return ow.enc.Encode(newOutcomeJSON(o))
}

func (ow *outcomeWriter) close() error {
	if ow.csv != nil {
		return ow.csv.Flush()
	}
	_, err := ow.w.Write([]byte("]\n"))
	return err
}

// parseReportQuery reads the report routes' parameters: from, to (RFC 3339
// or a date in tz), by, group_by (comma-separated), tz and format (json,
// csv; or Accept: text/csv). Defaults are left to the engine.
func parseReportQuery(r *http.Request) (q watchdog.SLAReportQuery, tz string, csvOut bool, errs []watchdog.FieldError) {
	vals, err := query.Parse(r.URL.RawQuery)
	if err != nil {
		var qe *query.Error
		errors.As(err, &qe)
		return q, "", false, []watchdog.FieldError{{Field: qe.Param, Message: qe.Message}}
	}
	tz = vals.Get("tz")
	loc, err := watchdog.ParseTimeZone(tz)
	if err != nil {
		errs = append(errs, watchdog.FieldError{Field: "tz", Message: err.Error() + ": use an IANA name such as Europe/Berlin, or an offset such as +05:30"})
		loc = time.UTC
	}
	if tz == "" {
		tz = "UTC"
	}
	q.Location = loc
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := vals.Get(p.name); s != "" {
			t, err := watchdog.ParseReportTime(s, loc)
			if err != nil {
				errs = append(errs, watchdog.FieldError{Field: p.name, Message: err.Error()})
			}
			*p.dst = t
		}
	}
	q.By = vals.Get("by")
	if g := vals.Get("group_by"); g != "" {
		for _, k := range strings.Split(g, ",") {
			q.GroupBy = append(q.GroupBy, strings.TrimSpace(k))
		}
	}
	switch f := vals.Get("format"); f {
	case "csv":
		csvOut = true
	case "json":
	case "":
		csvOut = acceptsCSV(r.Header.Get("Accept"))
	default:
		errs = append(errs, watchdog.FieldError{Field: "format", Message: "must be json or csv"})
	}
	// What the engine would refuse, named now (it checks again with the
	// defaults it fills from its clock).
	check := q
	check.Now = time.Now()
	if len(errs) == 0 {
		var ve *watchdog.ValidationError
		if errors.As(check.Validate(), &ve) {
			errs = ve.Errors
		}
	}
	return q, tz, csvOut, errs
}

// acceptsCSV reports whether an Accept header asks for text/csv before
// JSON.
func acceptsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/csv":
			return true
		case "application/json", "*/*":
			return false
		}
	}
	return false
}
