package ui

import (
	"strconv"
	"time"
)

// chart is the compliance chart, drawn server-side as SVG: achieved % per
// tier per week, one line per tier, told apart by marker shape and dash
// pattern as well as colour.
type chart struct {
	Width, Height int
	Left, Top     int
	PlotW, PlotH  int
	YTicks        []tick
	XTicks        []tick
	Series        []series
}

type tick struct {
	Pos   int
	Label string
}

type series struct {
	Tier   string
	Class  string // colour and dash, from the stylesheet
	Shape  string // circle, square, triangle, diamond
	Lines  []string
	Points []point
}

type point struct {
	X, Y  int
	Title string
	week  int // index of the week
}

var shapes = []string{"circle", "square", "triangle", "diamond"}

func newChart(q ComplianceQuery, rows []ComplianceRow) *chart {
	c := &chart{Width: 800, Height: 320, Left: 56, Top: 16, PlotW: 720, PlotH: 256}
	var weeks []time.Time
	for w := q.From; w.Before(q.To); w = w.AddDate(0, 0, 7) {
		weeks = append(weeks, w)
	}
	x := func(i int) int {
		if len(weeks) == 1 {
			return c.Left + c.PlotW/2
		}
		return c.Left + i*c.PlotW/(len(weeks)-1)
	}
	y := func(ratio float64) int { return c.Top + c.PlotH - int(ratio*float64(c.PlotH)) }
	for p := 0; p <= 100; p += 25 {
		c.YTicks = append(c.YTicks, tick{Pos: y(float64(p) / 100), Label: strconv.Itoa(p) + "%"})
	}
	step := max(1, len(weeks)/8)
	for i, w := range weeks {
		if i%step == 0 {
			c.XTicks = append(c.XTicks, tick{Pos: x(i), Label: w.Format("Jan 2")})
		}
	}
	index := map[int64]int{}
	for i, w := range weeks {
		index[w.Unix()] = i
	}
	byTier := map[string]*series{}
	var order []string
	for _, r := range rows {
		s := byTier[r.Tier]
		if s == nil {
			n := len(order)
			s = &series{Tier: r.Tier, Class: "s" + strconv.Itoa(n%6), Shape: shapes[n%len(shapes)]}
			byTier[r.Tier], order = s, append(order, r.Tier)
		}
		i, ok := index[r.Week.Unix()]
		a, has := r.Achieved()
		if !ok || !has {
			continue
		}
		s.Points = append(s.Points, point{X: x(i), Y: y(a), Title: r.Tier + ", week of " + r.Week.Format("2006-01-02") + ": " + percent(a), week: i})
	}
	for _, tier := range order {
		s := byTier[tier]
		// Weeks without stopped clocks break the line.
		line := ""
		prev := -2
		for _, p := range s.Points {
			if p.week != prev+1 && line != "" {
				s.Lines, line = append(s.Lines, line), ""
			}
			line += strconv.Itoa(p.X) + "," + strconv.Itoa(p.Y) + " "
			prev = p.week
		}
		if line != "" {
			s.Lines = append(s.Lines, line)
		}
		c.Series = append(c.Series, *s)
	}
	return c
}
