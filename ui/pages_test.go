package ui_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/ui"
)

// The queue pages in the URL, says how many match, and stops counting at
// the count limit, saying so.
func TestQueuePagesAndCapsTheCount(t *testing.T) {
	t.Parallel()
	e := setup(t, &ui.Config{CountLimit: 4, PageSize: 2})
	var evs []watchdog.Event
	for i := range 6 {
		evs = append(evs, ev(fmt.Sprintf("Q-%d", i), "gold", "high", "open", start.Add(-time.Duration(i)*time.Minute)))
	}
	evs = append(evs, ev("L-1", "gold", "low", "open", start))
	e.ingest(t, evs...)
	c := client(t)
	p := get(t, c, e.srv.URL+"/ui/")
	if !strings.Contains(p.body, "Tickets 1–2 of more than 4") || !strings.Contains(p.body, `href="/ui/?page=2"`) {
		t.Errorf("first page: summary or next link missing:\n%s", p.body)
	}
	// Soonest breach first: the oldest high ticket.
	if i := strings.Index(p.body, `data-ticket="Q-5"`); i < 0 || i > strings.Index(p.body, `data-ticket="Q-4"`) {
		t.Error("Q-5 (soonest breach) is not first")
	}
	p = get(t, c, e.srv.URL+"/ui/?priority=high&page=3")
	if !strings.Contains(p.body, "Tickets 5–6 of more than 4") || !strings.Contains(p.body, `data-ticket="Q-0"`) {
		t.Errorf("page 3 of the high ones:\n%s", p.body)
	}
	p = get(t, c, e.srv.URL+"/ui/?priority=low")
	if !strings.Contains(p.body, "Tickets 1–1 of 1,") && !strings.Contains(p.body, "Tickets 1–1 of 1") {
		t.Errorf("low: %s", p.body)
	}
	if !strings.Contains(p.body, `<option value="low" selected>`) {
		t.Error("the form does not show the filter in force")
	}
	p = get(t, c, e.srv.URL+"/ui/?open=false")
	if !strings.Contains(p.body, "No tickets match") {
		t.Error("closed tickets listed")
	}
	if p := get(t, c, e.srv.URL+"/ui/?tier=%00"); p.code != http.StatusBadRequest {
		t.Errorf("a NUL tier: %d, want 400", p.code)
	}
	// The policy filter offers the policies in force (here the tiers
	// table's) and keeps the tickets under the one chosen.
	p = get(t, c, e.srv.URL+"/ui/?policy=tiers.gold.low")
	if !strings.Contains(p.body, `data-ticket="L-1"`) || strings.Contains(p.body, `data-ticket="Q-0"`) ||
		!strings.Contains(p.body, `<option value="tiers.gold.low" selected>`) || !strings.Contains(p.body, `<option value="tiers.gold.high">`) {
		t.Errorf("policy=tiers.gold.low:\n%s", p.body)
	}
}

// weekly is a ComplianceSource over fixed rows, recording its queries.
type weekly struct {
	mu    sync.Mutex
	rows  []ui.ComplianceRow
	asked []ui.ComplianceQuery
}

func (w *weekly) WeeklyCompliance(_ context.Context, q ui.ComplianceQuery) ([]ui.ComplianceRow, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked = append(w.asked, q)
	var out []ui.ComplianceRow
	for _, r := range w.rows {
		if !r.Week.Before(q.From) && r.Week.Before(q.To) {
			out = append(out, r)
		}
	}
	return out, nil
}

// The compliance page draws achieved % per tier per week from its source,
// lists the figures, and serves them as CSV, cells that a spreadsheet
// would run neutralised.
func TestCompliancePage(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	monday := time.Date(2026, 11, 30, 0, 0, 0, 0, berlin) // start's week
	src := &weekly{rows: []ui.ComplianceRow{
		{Tier: "gold", Week: monday.AddDate(0, 0, -14), Stopped: 10, Met: 9},
		{Tier: "gold", Week: monday.AddDate(0, 0, -7), Stopped: 4, Met: 1},
		{Tier: "gold", Week: monday, Stopped: 0, Met: 0},
		{Tier: "=cmd", Week: monday, Stopped: 3, Met: 3},
	}}
	e := setup(t, &ui.Config{Compliance: src})
	c := client(t)
	p := get(t, c, e.srv.URL+"/ui/compliance?weeks=3&tz=Europe/Berlin")
	if p.code != http.StatusOK {
		t.Fatalf("%d: %s", p.code, p.body)
	}
	q := src.asked[0]
	if !q.From.Equal(monday.AddDate(0, 0, -14)) || !q.To.Equal(monday.AddDate(0, 0, 7)) || q.Location.String() != "Europe/Berlin" {
		t.Errorf("asked %+v, want the three weeks to next Monday in Berlin", q)
	}
	for _, w := range []string{"<polyline", "90.0%", "25.0%", "100.0%", `href="/ui/compliance.csv?tz=Europe%2FBerlin&amp;weeks=3"`, "(circle)", "(square)", "<title>gold, week of 2026-11-16: 90.0%</title>"} {
		if !strings.Contains(p.body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	// gold's week without stopped clocks is a gap, not a zero.
	if strings.Count(p.body, "<polyline") != 2 {
		t.Errorf("%d lines, want gold's and =cmd's", strings.Count(p.body, "<polyline"))
	}
	cp := get(t, c, e.srv.URL+"/ui/compliance.csv?weeks=3&tz=Europe/Berlin")
	if cp.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(cp.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("CSV headers %v", cp.header)
	}
	recs, err := csv.NewReader(strings.NewReader(cp.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"tier", "week_start", "stopped", "met", "missed", "achieved_percent"},
		{"'=cmd", "2026-11-30", "3", "3", "0", "100.00"},
		{"gold", "2026-11-16", "10", "9", "1", "90.00"},
		{"gold", "2026-11-23", "4", "1", "3", "25.00"},
		{"gold", "2026-11-30", "0", "0", "0", ""},
	}
	if fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Errorf("CSV\n%v\nwant\n%v", recs, want)
	}
	for _, bad := range []string{"weeks=0", "weeks=500", "weeks=x", "tz=Mars/Base"} {
		if p := get(t, c, e.srv.URL+"/ui/compliance?"+bad); p.code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, p.code)
		}
	}
	none := setup(t, nil)
	if p := get(t, client(t), none.srv.URL+"/ui/compliance.csv"); p.code != http.StatusNotFound {
		t.Errorf("CSV without reports: %d", p.code)
	}
}

// The policy page shows the last failed reload: its summary when the
// pages are open to anyone, the whole error to signed-in operators.
func TestPolicyPageShowsTheFailedReload(t *testing.T) {
	t.Parallel()
	status := func() ui.PolicyStatus {
		return ui.PolicyStatus{Path: "/etc/sla.yaml", Source: "file", LoadedAt: start.Add(-time.Hour), Generation: 3, Hash: "abc123",
			LastAttempt: start, LastError: `line 4: tiers.gold.high.response: "soon" is not a duration`, LastErrorSummary: "line 4: tiers.gold.high.response"}
	}
	open := setup(t, &ui.Config{PolicyStatus: status})
	p := get(t, client(t), open.srv.URL+"/ui/policy")
	if !strings.Contains(p.body, "The last reload failed") || !strings.Contains(p.body, "line 4: tiers.gold.high.response") ||
		strings.Contains(p.body, "not a duration") || !strings.Contains(p.body, "/etc/sla.yaml") || !strings.Contains(p.body, "(load 3)") {
		t.Errorf("open policy page:\n%s", p.body)
	}
	signed := setup(t, &ui.Config{PolicyStatus: status, APIToken: token})
	c := client(t)
	signIn(t, signed, c, token)
	if p := get(t, c, signed.srv.URL+"/ui/policy"); !strings.Contains(p.body, "is not a duration") {
		t.Errorf("signed-in policy page lacks the error:\n%s", p.body)
	}
}

// acks is an Acknowledger in memory, for the seam's test.
type acks struct {
	mu   sync.Mutex
	list map[string][]ui.Ack
}

func (a *acks) Acks(_ context.Context, id string) ([]ui.Ack, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.list[id], nil
}

func (a *acks) Acknowledge(_ context.Context, id string, ack ui.Ack) error {
	if ack.Clock == "nonsense" {
		return &watchdog.ValidationError{Errors: []watchdog.FieldError{{Field: "sla_type", Message: "unknown clock"}}}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ack.At = start
	a.list[id] = append(a.list[id], ack)
	return nil
}

func (a *acks) Withdraw(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.list[id] == nil {
		return errors.New("nothing to withdraw")
	}
	delete(a.list, id)
	return nil
}

// With an Acknowledger, the ticket page shows acknowledgements and its
// forms change them, each only with its CSRF token; without one the
// section is hidden and the route refuses.
func TestAcknowledgementSeam(t *testing.T) {
	t.Parallel()
	store := &acks{list: map[string][]ui.Ack{}}
	e := setup(t, &ui.Config{Acks: store})
	e.ingest(t, ev("A-1", "gold", "high", "open", start))
	c := client(t)
	p := get(t, c, e.srv.URL+"/ui/tickets/A-1")
	if !strings.Contains(p.body, "Not acknowledged") {
		t.Fatalf("no acknowledgement section:\n%s", p.body)
	}
	form := url.Values{"csrf_token": {csrf(t, p)}, "action": {"acknowledge"}, "sla_type": {"resolution"}, "by": {"alice"}, "note": {"on it"}}
	noToken := url.Values{"action": {"acknowledge"}, "by": {"mallory"}}
	if r := post(t, c, e.srv.URL+"/ui/tickets/A-1/ack", noToken); r.code != http.StatusForbidden {
		t.Errorf("without a CSRF token: %d", r.code)
	}
	if r := post(t, c, e.srv.URL+"/ui/tickets/A-1/ack", form); r.code != http.StatusSeeOther || r.header.Get("Location") != "/ui/tickets/A-1" {
		t.Errorf("acknowledge: %d to %q", r.code, r.header.Get("Location"))
	}
	got, _ := store.Acks(context.Background(), "A-1")
	if len(got) != 1 || got[0].By != "alice" || got[0].Clock != "resolution" || got[0].Note != "on it" {
		t.Fatalf("acks %+v", got)
	}
	if p := get(t, c, e.srv.URL+"/ui/tickets/A-1"); !strings.Contains(p.body, "resolution: acknowledged by alice") {
		t.Error("the page does not show the acknowledgement")
	}
	form.Set("sla_type", "nonsense")
	if r := post(t, c, e.srv.URL+"/ui/tickets/A-1/ack", form); r.code != http.StatusUnprocessableEntity {
		t.Errorf("a refused acknowledgement: %d", r.code)
	}
	form.Set("action", "withdraw")
	if r := post(t, c, e.srv.URL+"/ui/tickets/A-1/ack", form); r.code != http.StatusSeeOther {
		t.Errorf("withdraw: %d", r.code)
	}
	if got, _ := store.Acks(context.Background(), "A-1"); len(got) != 0 {
		t.Errorf("after withdrawing: %+v", got)
	}

	plain := setup(t, nil)
	plain.ingest(t, ev("A-1", "gold", "high", "open", start))
	pc := client(t)
	pp := get(t, pc, plain.srv.URL+"/ui/tickets/A-1")
	if strings.Contains(pp.body, "Acknowledgement") {
		t.Error("the acknowledgement section shows without an Acknowledger")
	}
	if r := post(t, pc, plain.srv.URL+"/ui/tickets/A-1/ack", url.Values{}); r.code != http.StatusNotFound {
		t.Errorf("ack without an Acknowledger: %d", r.code)
	}
}

// The policy page lists the file's policies before the tiers, and a ticket
// under one shows its cycle clocks.
func TestPoliciesOnThePages(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	p, err := watchdog.ParsePolicy([]byte(`
policies:
  - name: vip
    match: {tags: vip, not: {priority: low}}
    targets: {response: 30m, next_reply: 1h}
tiers:
  gold:
    high: {response: 30m, resolution: 3h}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	pg := get(t, c, e.srv.URL+"/ui/policy")
	if !strings.Contains(pg.body, "<td>vip</td><td><code>{tags: vip, not: {priority: low}}</code></td><td>30m") ||
		strings.Index(pg.body, "Policies") > strings.Index(pg.body, "Targets") {
		t.Errorf("policy page:\n%s", pg.body)
	}
	vip := ev("V-1", "gold", "high", "open", start)
	vip.Tags = []string{"vip"}
	vip.Messages = []watchdog.Message{{At: start.Add(time.Minute), Author: watchdog.AuthorAgent}, {At: start.Add(2 * time.Minute), Author: watchdog.AuthorCustomer}}
	e.ingest(t, vip)
	pg = get(t, c, e.srv.URL+"/ui/tickets/V-1")
	if pg.code != http.StatusOK || !strings.Contains(pg.body, "next_reply") {
		t.Errorf("ticket page lacks the next reply clock:\n%s", pg.body)
	}
	if !strings.Contains(pg.body, "<dt>Policy</dt><dd>vip</dd>") || !strings.Contains(pg.body, "Cycle 1, since "+start.Add(2*time.Minute).Format("2006-01-02 15:04:05 UTC")) {
		t.Errorf("ticket page lacks the policy in force or the cycle:\n%s", pg.body)
	}
	pg = get(t, c, e.srv.URL+"/ui/?policy=vip")
	if !strings.Contains(pg.body, `data-ticket="V-1"`) || !strings.Contains(pg.body, `<option value="vip" selected>`) {
		t.Errorf("queue filtered by policy:\n%s", pg.body)
	}
}
