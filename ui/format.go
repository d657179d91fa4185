package ui

import (
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"strings"
	"time"
)

// parsePages parses each page's template with the layout, so that every
// page defines its own "content".
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when":     when,
		"duration": duration,
		"label":    stateLabel,
		"add":      func(a, b int) int { return a + b },
		"sub":      func(a, b int) int { return a - b },
		"marker": func(shape string, x, y int, title string) markerArgs {
			return markerArgs{Shape: shape, X: x, Y: y, Title: title}
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// markerArgs draws one chart marker.
type markerArgs struct {
	Shape string
	X, Y  int
	Title string
}

// when formats an instant for a page: UTC, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// duration formats a span as "1h 02m", "4m 10s" or "12s".
func duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	days, h, m, s := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %02dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// relative is a countdown: "in 4m 10s" ahead, "4m 10s ago" behind. The
// live script writes the same forms.
func relative(d time.Duration) string {
	if d >= 0 {
		return "in " + duration(d)
	}
	return duration(d) + " ago"
}

// stateLabel is a state's words with a symbol, so that colour is never
// the only sign of it.
func stateLabel(state string) string {
	switch state {
	case "ok":
		return "✓ ok"
	case "alert":
		return "▲ alert"
	case "breach":
		return "✖ breach"
	case "paused":
		return "‖ paused"
	case "met":
		return "✓ met"
	case "missed":
		return "✖ missed"
	case "untracked":
		return "– untracked"
	case "idle":
		return "○ idle"
	}
	return state
}

// percent formats a ratio as a percentage to one decimal.
func percent(r float64) string {
	return fmt.Sprintf("%.1f%%", math.Round(r*1000)/10)
}
