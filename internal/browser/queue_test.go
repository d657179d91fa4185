package browser

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ticket-watchdog/watchdog"
	"github.com/ticket-watchdog/watchdog/server"
)

// The queue shows an ingested ticket; a ticket whose breach falls 2 s
// ahead turns to breach on the open page and appears in the open feed
// within 3 s, without a reload, and the server's record shows it fired
// within 1 s of its due instant.
func TestQueueTurnsToBreachLive(t *testing.T) {
	// Three browsers, as three people (tabs of one chromium do not all
	// answer chromedp here), started before the clock starts running.
	ctx, feed, ticket := newBrowser(t), newBrowser(t), newBrowser(t)
	s := startService(t, filepath.Join(t.TempDir(), "wd.db"), "127.0.0.1:0", server.Config{})
	now := time.Now()
	// A queue as a desk sees it: a paused ticket, one on no policy, one
	// already past its resolution alert, one with hours left.
	waiting := newEvent("waiting", "gold", "medium", now.Add(-50*time.Minute))
	waiting.Status, waiting.UpdatedAt = "pending", now.Add(-20*time.Minute).UTC().Truncate(time.Millisecond)
	ingest(t, s.URL, "",
		newEvent("calm", "gold", "low", now.Add(-10*time.Minute)),
		newEvent("late", "gold", "high", now.Add(-160*time.Minute)),
		newEvent("T-1017", "silver", "high", now.Add(-5*time.Minute)),
		newEvent("waiting", "gold", "medium", now.Add(-50*time.Minute)), waiting)
	// Gold/high: response 30m, alert at 85%. "soon" is past its alert
	// stage and breaches 2 s from now.
	now = time.Now()
	ingest(t, s.URL, "", newEvent("soon", "gold", "high", now.Add(-30*time.Minute+2*time.Second)))
	breachAt := now.Add(-30*time.Minute + 2*time.Second).Truncate(time.Millisecond).Add(30 * time.Minute)
	connected := `document.querySelector("[data-live-status]").textContent.includes("connected")`
	openAll(t,
		page{ctx, s.URL + "/", `document.querySelector('tr[data-ticket="soon"]') !== null && (window.notReloaded = true) && ` + connected},
		page{feed, s.URL + "/ui/feed", connected},
		page{ticket, s.URL + "/ui/tickets/soon", connected})
	t.Logf("pages open %s before the breach", time.Until(breachAt).Round(time.Millisecond))
	if u := eval[string](t, ctx, `location.pathname`); u != "/ui/" {
		t.Errorf("/ redirected to %s, want /ui/", u)
	}
	for _, id := range []string{"calm", "soon"} {
		if !eval[bool](t, ctx, has(`tr[data-ticket="`+id+`"] a[href="/ui/tickets/`+id+`"]`)) {
			t.Errorf("the queue does not list %s", id)
		}
	}
	// Soonest breach first: late's response breach is long past.
	order := eval[[]string](t, ctx, `[...document.querySelectorAll("tbody tr")].map(r => r.dataset.ticket)`)
	if strings.Join(order, " ") != "late soon calm T-1017 waiting" && strings.Join(order, " ") != "late soon calm waiting T-1017" {
		t.Errorf("rows %v, want late, soon, calm, then those without a breach instant", order)
	}
	if st := text(t, ctx, `tr[data-ticket="waiting"] [data-clock="resolution"] [data-clock-state]`); !strings.Contains(st, "paused") {
		t.Errorf("waiting's resolution clock shows %q, want paused", st)
	}
	if st := text(t, ctx, `tr[data-ticket="soon"] [data-clock="response"] [data-clock-state]`); time.Until(breachAt) > 200*time.Millisecond && !strings.Contains(st, "alert") {
		t.Errorf("soon's response clock shows %q before its breach, want alert", st)
	}

	breached := `document.querySelector('tr[data-ticket="soon"] [data-clock="response"]').dataset.state === "breach" && ` +
		`document.querySelector('tr[data-ticket="soon"] [data-ticket-state]').textContent.includes("breach")`
	waitFor(t, ctx, "the queue shows the breach", breached, time.Until(breachAt)+3*time.Second)
	inFeed := `[...document.querySelectorAll("[data-feed] li")].some(li => li.textContent.includes("soon") && li.textContent.includes("response breach"))`
	waitFor(t, feed, "the feed shows the breach", inFeed, time.Until(breachAt)+3*time.Second)
	onPage := `document.querySelector('article[data-clock="response"]').dataset.state === "breach" && ` +
		`document.querySelector("[data-live-status]").textContent.includes("New alert: response breach")`
	waitFor(t, ticket, "the ticket page shows the breach", onPage, time.Until(breachAt)+3*time.Second)
	if time.Since(breachAt) > 3*time.Second {
		t.Errorf("the breach showed %s after its instant, want within 3s", time.Since(breachAt))
	}
	if !eval[bool](t, ctx, `window.notReloaded === true`) {
		t.Error("the queue reloaded")
	}
	var fired *watchdog.Alert
	for _, a := range alertsOf(t, s, "soon") {
		if a.SLAClock == watchdog.Response && a.Stage == watchdog.StageBreach {
			fired = &a
		}
	}
	if fired == nil {
		t.Fatal("the server recorded no response breach for soon")
	}
	if late := fired.FiredAt.Sub(fired.DueAt); late < 0 || late > time.Second {
		t.Errorf("the breach fired %s after its due instant %s, want within 1s", late, fired.DueAt)
	}
	if !fired.DueAt.Equal(breachAt) {
		t.Errorf("breach due at %s, want %s", fired.DueAt, breachAt)
	}
	screenshot(t, ctx, "queue")
	screenshot(t, feed, "feed")
}

// Filters and paging change the rows and the URL, and the URL brings the
// same view back.
func TestQueueFiltersAndPaging(t *testing.T) {
	ctx := newBrowser(t)
	s := startService(t, filepath.Join(t.TempDir(), "wd.db"), "127.0.0.1:0", server.Config{})
	now := time.Now()
	var evs []event
	for i := range 5 {
		evs = append(evs, newEvent(fmt.Sprintf("g%d", i), "gold", "high", now.Add(-time.Duration(i)*time.Minute)))
	}
	evs = append(evs, newEvent("m1", "gold", "medium", now), newEvent("s1", "silver", "high", now))
	ingest(t, s.URL, "", evs...)

	rows := func() []string {
		return eval[[]string](t, ctx, `[...document.querySelectorAll("tbody tr")].map(r => r.dataset.ticket)`)
	}
	run(t, ctx, "open the queue", chromedp.Navigate(s.URL+"/ui/?per_page=3"), chromedp.WaitVisible(chromedp.CSS(`tbody tr`)))
	if got := rows(); len(got) != 3 {
		t.Fatalf("first page rows %v, want 3", got)
	}
	if sum := text(t, ctx, "#queue-summary"); !strings.Contains(sum, "1–3 of 7") {
		t.Errorf("summary %q, want 1–3 of 7", sum)
	}
	// Choose priority high with the keyboard-reachable form and apply.
	run(t, ctx, "filter", chromedp.SetValue(chromedp.CSS(`select[name="priority"]`), "high"))
	clickAndLoad(t, ctx, `form.filters button[type="submit"]`)
	loc := eval[string](t, ctx, `location.href`)
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("priority") != "high" || u.Query().Get("per_page") != "" {
		t.Errorf("URL after filtering %s, want priority=high", loc)
	}
	// The form has no per_page field, so the page size is the default.
	high := rows()
	if len(high) != 6 || contains(high, "m1") {
		t.Errorf("priority high rows %v, want the 6 high tickets", high)
	}
	run(t, ctx, "narrow to gold, 2 a page", chromedp.Navigate(s.URL+"/ui/?priority=high&tier=gold&per_page=2"), chromedp.WaitVisible(chromedp.CSS(`tbody tr`)))
	page1 := rows()
	clickAndLoad(t, ctx, `a[rel="next"]`)
	page2 := rows()
	loc = eval[string](t, ctx, `location.href`)
	if u, _ := url.Parse(loc); u.Query().Get("page") != "2" || u.Query().Get("tier") != "gold" {
		t.Errorf("URL after paging %s, want page=2 with the filters", loc)
	}
	if len(page1) != 2 || len(page2) != 2 || contains(page2, page1[0]) || contains(page2, page1[1]) || contains(append(page1, page2...), "s1") {
		t.Errorf("pages %v then %v, want two different pairs of gold high tickets", page1, page2)
	}
	// The URL is the view: opened afresh it shows the same rows.
	tab := newBrowser(t)
	run(t, tab, "open the shared URL", chromedp.Navigate(loc), chromedp.WaitVisible(chromedp.CSS(`tbody tr`)))
	if again := eval[[]string](t, tab, `[...document.querySelectorAll("tbody tr")].map(r => r.dataset.ticket)`); strings.Join(again, ",") != strings.Join(page2, ",") {
		t.Errorf("the shared URL shows %v, want %v", again, page2)
	}
	screenshot(t, ctx, "queue-filtered")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
