package server

import (
	"context"
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
		Acks:           acknowledger(s),
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

// acknowledger is what the ticket page's acknowledgement section uses:
// nil until the service has acknowledgements (the notification issue);
// then an adapter of its ack operations to ui.Acknowledger.
func acknowledger(*Server) ui.Acknowledger { return nil }

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
