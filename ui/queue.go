package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/ticket-watchdog/watchdog"
)

// filter is one of the queue's filters: a query parameter, the choices the
// form offers, and what it sets in the dashboard query. Adding a filter is
// one entry in filters.
type filter struct {
	Param string
	Label string
	// Choices lists the values offered; the first is the default.
	Choices func(p *watchdog.Policy) []choice
	Apply   func(q *watchdog.DashboardQuery, v string)
}

// choice is one value of a filter.
type choice struct{ Value, Label string }

var filters = []filter{
	{Param: "open", Label: "Tickets", Choices: fixed(choice{"true", "Open"}, choice{"false", "Closed"}, choice{"all", "Open and closed"}),
		Apply: func(q *watchdog.DashboardQuery, v string) {
			if b, err := strconv.ParseBool(v); err == nil {
				q.Open = &b
			}
		}},
	{Param: "state", Label: "SLA state", Choices: fixed(choice{"", "Any"}, choice{"ok", "OK"}, choice{"alert", "Alert or breach"},
		choice{"breach", "Breach"}, choice{"untracked", "Untracked"}),
		Apply: func(q *watchdog.DashboardQuery, v string) { q.State = v }},
	{Param: "tier", Label: "Tier", Choices: policyTiers, Apply: func(q *watchdog.DashboardQuery, v string) { q.Tier = v }},
	{Param: "priority", Label: "Priority", Choices: policyPriorities, Apply: func(q *watchdog.DashboardQuery, v string) { q.Priority = v }},
	{Param: "policy", Label: "Policy", Choices: policyNames, Apply: func(q *watchdog.DashboardQuery, v string) { q.Policy = v }},
}

// policyNames offers the names of the SLA policies in force: the file's
// policies in order, then its tiers as policies tiers.<tier>.<priority>.
func policyNames(p *watchdog.Policy) []choice {
	out := []choice{{"", "Any"}}
	for _, sp := range p.Policies {
		out = append(out, choice{sp.Name, sp.Name})
	}
	for _, r := range p.Summary() {
		name := watchdog.TiersPolicyName(r.Tier, r.Priority)
		out = append(out, choice{name, name})
	}
	return out
}

func fixed(cs ...choice) func(*watchdog.Policy) []choice {
	return func(*watchdog.Policy) []choice { return cs }
}

// policyTiers and policyPriorities offer the tiers and the priorities of
// the policy in force, priorities most urgent first.
var (
	policyTiers      = policyChoices(func(r watchdog.PolicyRow) string { return r.Tier })
	policyPriorities = policyChoices(func(r watchdog.PolicyRow) string { return r.Priority })
)

// policyChoices offers "Any" and each distinct value of one column of the
// policy's summary, in its order.
func policyChoices(column func(watchdog.PolicyRow) string) func(*watchdog.Policy) []choice {
	return func(p *watchdog.Policy) []choice {
		out := []choice{{"", "Any"}}
		for _, r := range p.Summary() {
			v := column(r)
			if !slices.ContainsFunc(out, func(c choice) bool { return c.Value == v }) {
				out = append(out, choice{v, v})
			}
		}
		return out
	}
}

// formFilter is a filter as the form shows it.
type formFilter struct {
	Param, Label, Value string
	Choices             []choice
}

// queuePage is the queue's content.
type queuePage struct {
	Filters []formFilter
	Rows    []queueRow
	// From and To number the rows shown (1-based); Total is the count,
	// More set when more than Total match.
	From, To, Total int
	More            bool
	Prev, Next      string
	PageNum         int
	PerPage         int
}

// queueRow is one ticket of the queue.
type queueRow struct {
	ID, Tier, Priority, Status string
	State                      string
	Untracked                  string
	Escalation                 int
	Clocks                     []clockCell
	Next                       *instant
	NextWhat                   string
	Breach                     *instant
}

// clockCell is one SLA clock of a row: its state and the instants at which
// it turns to alert and to breach (zero when it is not running).
type clockCell struct {
	Name     string
	State    string
	AlertAt  *instant
	BreachAt *instant
}

// instant is a moment the page shows as a time and a live countdown.
type instant struct {
	At time.Time
	// Ms is At in Unix milliseconds, for the script.
	Ms int64
	// Rel is the countdown at render ("in 4m 10s", "2m ago").
	Rel string
}

func newInstant(at, now time.Time) *instant {
	return &instant{At: at.UTC(), Ms: at.UnixMilli(), Rel: relative(at.Sub(now))}
}

func (h *Handler) queue(w http.ResponseWriter, r *http.Request) {
	vals := r.URL.Query()
	q := watchdog.DashboardQuery{Order: watchdog.OrderUrgency, Clocks: true, CountLimit: h.cfg.CountLimit}
	p := h.svc.Policy()
	page := queuePage{PerPage: h.cfg.PageSize}
	for _, f := range filters {
		cs := f.Choices(p)
		v := cs[0].Value
		if vals.Has(f.Param) {
			v = vals.Get(f.Param)
		}
		if !slices.ContainsFunc(cs, func(c choice) bool { return c.Value == v }) {
			cs = append(cs, choice{v, v}) // a value the policy no longer lists
		}
		f.Apply(&q, v)
		page.Filters = append(page.Filters, formFilter{Param: f.Param, Label: f.Label, Value: v, Choices: cs})
	}
	if n, err := strconv.Atoi(vals.Get("per_page")); err == nil && n >= 1 && n <= MaxPageSize {
		page.PerPage = n
	}
	page.PageNum = 1
	if n, err := strconv.Atoi(vals.Get("page")); err == nil && n >= 1 {
		page.PageNum = n
	}
	q.Limit, q.Offset = page.PerPage, (page.PageNum-1)*page.PerPage
	res, err := h.svc.Dashboard(r.Context(), q)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	for _, v := range res.Views {
		page.Rows = append(page.Rows, newQueueRow(v))
	}
	page.Total, page.More = res.Total, res.TotalCapped
	if len(page.Rows) > 0 {
		page.From, page.To = q.Offset+1, q.Offset+len(page.Rows)
	}
	if page.PageNum > 1 {
		page.Prev = pageURL(vals, page.PageNum-1)
	}
	if page.To < page.Total || page.More && len(page.Rows) == page.PerPage {
		page.Next = pageURL(vals, page.PageNum+1)
	}
	h.render(w, r, http.StatusOK, "queue", layout{Title: "Queue", Nav: "queue", Live: true, Page: page})
}

// pageURL is the queue's URL with the same filters on another page.
func pageURL(vals url.Values, n int) string {
	v := url.Values{}
	for k, vs := range vals {
		v[k] = vs
	}
	v.Set("page", strconv.Itoa(n))
	return "/ui/?" + v.Encode()
}

// newQueueRow is one ticket's row: its clocks' states and instants, the
// next stage due and the soonest breach.
func newQueueRow(v *watchdog.TicketView) queueRow {
	now := v.EvaluatedAt
	row := queueRow{ID: v.ID, Tier: v.CustomerTier, Priority: v.Priority, Status: v.Status, State: string(v.State),
		Untracked: v.Untracked, Escalation: v.EscalationLevel}
	var next, breach time.Time
	for _, name := range watchdog.AllSLAClocks {
		c := v.SLAClocks[name]
		if c == nil {
			continue
		}
		cell := clockCell{Name: string(name), State: string(c.State)}
		if c.AlertAt != nil {
			cell.AlertAt = newInstant(*c.AlertAt, now)
			if c.AlertAt.After(now) && (next.IsZero() || c.AlertAt.Before(next)) {
				next, row.NextWhat = *c.AlertAt, string(name)+" alert"
			}
		}
		if c.BreachAt != nil {
			cell.BreachAt = newInstant(*c.BreachAt, now)
			if c.BreachAt.After(now) && (next.IsZero() || c.BreachAt.Before(next)) {
				next, row.NextWhat = *c.BreachAt, string(name)+" breach"
			}
			if breach.IsZero() || c.BreachAt.Before(breach) {
				breach = *c.BreachAt
			}
		}
		row.Clocks = append(row.Clocks, cell)
	}
	if next.IsZero() && v.NextDueAt != nil {
		next, row.NextWhat = *v.NextDueAt, "escalation"
	}
	if !next.IsZero() {
		row.Next = newInstant(next, now)
	}
	if !breach.IsZero() {
		row.Breach = newInstant(breach, now)
	}
	return row
}
