package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/ui"
)

// newUI builds the web UI over the engine, or returns nil when
// Config.DisableUI leaves it out.
func (s *Server) newUI(eng *watchdog.Engine) (*ui.Handler, error) {
	if s.cfg.DisableUI {
		return nil, nil
	}
	return ui.New(eng, &ui.Config{
		APIToken:       s.cfg.APIToken,
		Clock:          s.cfg.Clock,
		AllowHost:      s.hosts.allow,
		PolicyStatus:   s.policy.status,
		Compliance:     complianceSource{eng},
		Acks:           engineAcks{eng},
		Logger:         s.cfg.Logger,
		Observer:       s.metrics,
		RequestTimeout: s.cfg.RequestTimeout,
	})
}

// complianceSource is what the compliance page reads: the SLA report
// grouped by tier and week (GET /reports/sla?group_by=tier,week), as
// ui.ComplianceSource.
type complianceSource struct{ eng *watchdog.Engine }

// WeeklyCompliance reports the weeks of q by tier.
func (c complianceSource) WeeklyCompliance(ctx context.Context, q ui.ComplianceQuery) ([]ui.ComplianceRow, error) {
	rows, err := c.eng.SLAReport(ctx, watchdog.SLAReportQuery{From: q.From, To: q.To, Location: q.Location,
		GroupBy: []string{"tier", watchdog.PeriodWeek}})
	if err != nil {
		return nil, err
	}
	out := make([]ui.ComplianceRow, 0, len(rows))
	for _, r := range rows {
		if r.Period == nil || r.Stopped == 0 {
			continue
		}
		out = append(out, ui.ComplianceRow{Tier: r.Tier, Week: r.Period.In(q.Location), Stopped: r.Stopped, Met: r.Met})
	}
	return out, nil
}

// engineAcks is the ticket page's acknowledgement section over the
// engine's acknowledgements (ui.Acknowledger).
type engineAcks struct{ eng *watchdog.Engine }

// Acks lists the ticket's acknowledgements in force.
func (a engineAcks) Acks(ctx context.Context, id string) ([]ui.Ack, error) {
	v, err := a.eng.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []ui.Ack
	for _, ack := range v.Acks {
		if ack.Active(v.EvaluatedAt) {
			out = append(out, ui.Ack{Clock: string(ack.SLAClock), By: ack.By, Note: ack.Note, At: ack.At})
		}
	}
	return out, nil
}

// Acknowledge acknowledges one clock, or every running one; a clock that
// is not running is refused as a bad field, as the API's 409 says.
func (a engineAcks) Acknowledge(ctx context.Context, id string, ack ui.Ack) error {
	_, err := a.eng.Acknowledge(ctx, id, watchdog.AckRequest{SLAClock: watchdog.SLAClock(ack.Clock), By: ack.By, Note: ack.Note})
	if errors.Is(err, watchdog.ErrClockStopped) {
		return &watchdog.ValidationError{Errors: []watchdog.FieldError{{Field: "sla_type", Message: "the clock is not running: nothing to acknowledge"}}}
	}
	return err
}

// Withdraw removes every acknowledgement of the ticket.
func (a engineAcks) Withdraw(ctx context.Context, id string) error {
	_, err := a.eng.Unacknowledge(ctx, id, "")
	return err
}

// withUI serves the pages under /ui/ and redirects / to them; everything
// else goes to the API.
func withUI(apiHandler http.Handler, pages *ui.Handler) http.Handler {
	if pages == nil {
		return apiHandler
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", pages)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusFound)
	})
	mux.Handle("/", apiHandler)
	return mux
}

// sessionAuth is api.Config.SessionAuth: the UI's session cookie, when
// the UI is served.
func sessionAuth(pages *ui.Handler) func(*http.Request) bool {
	if pages == nil {
		return nil
	}
	return pages.Authorized
}
