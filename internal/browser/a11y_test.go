package browser

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ticket-watchdog/watchdog/server"
)

// The pages are usable with the keyboard (a skip link first, a visible
// focus ring), at phone width (nothing wider than the screen), in a dark
// scheme, and say every state in words, not colour alone.
func TestPagesAccessible(t *testing.T) {
	ctx := newBrowser(t)
	s := startService(t, filepath.Join(t.TempDir(), "wd.db"), "127.0.0.1:0", server.Config{})
	now := time.Now()
	ingest(t, s.URL, "", newEvent("A-1", "gold", "high", now.Add(-40*time.Minute)), newEvent("A-2", "gold", "low", now))
	waitAlerts(t, s, 2)

	run(t, ctx, "open the queue", chromedp.Navigate(s.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`tbody tr`)))
	run(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
	if got := eval[string](t, ctx, `document.activeElement.className + " " + getComputedStyle(document.activeElement).outlineStyle`); got != "skip solid" {
		t.Errorf("first Tab focuses %q, want the skip link with a solid outline", got)
	}
	run(t, ctx, "press Tab", chromedp.KeyEvent(kb.Tab))
	if got := eval[string](t, ctx, `document.activeElement.textContent + " " + getComputedStyle(document.activeElement).outlineStyle`); got != "Ticket Watchdog solid" {
		t.Errorf("second Tab focuses %q, want the home link with a solid outline", got)
	}
	words := eval[[]string](t, ctx, `[...document.querySelectorAll(".state")].map(e => e.textContent.trim())`)
	for _, w := range words {
		if len(strings.Fields(w)) != 2 {
			t.Errorf("state %q is not a symbol and a word", w)
		}
	}
	light := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	if dark := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); dark == light {
		t.Errorf("the dark scheme keeps the light background %s", light)
	}
	screenshot(t, ctx, "queue-dark")

	run(t, ctx, "phone width", chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"/ui/", "/ui/tickets/A-1", "/ui/feed", "/ui/policy"} {
		run(t, ctx, "open "+path, chromedp.Navigate(s.URL+path))
		if w := eval[float64](t, ctx, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("%s at 390px is %vpx wider than the screen", path, w)
		}
	}
	run(t, ctx, "the queue on a phone", chromedp.Navigate(s.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`tbody tr`)))
	screenshot(t, ctx, "queue-phone")
}
