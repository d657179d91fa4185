package server

import (
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
		Compliance:     complianceSource(s),
		Acks:           acknowledger(s),
		Logger:         s.cfg.Logger,
		Observer:       s.metrics,
		RequestTimeout: s.cfg.RequestTimeout,
	})
}

// complianceSource is what the compliance page reads: nil until the
// service records SLA outcomes and reports them (the reports issue); then
// an adapter of the report grouped by tier and week to
// ui.ComplianceSource.
func complianceSource(*Server) ui.ComplianceSource { return nil }

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
