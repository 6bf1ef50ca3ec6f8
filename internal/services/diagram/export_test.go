package diagram

import "math"

// ChartMarks are where c, drawn at width×height, puts its series' points,
// in pixels (NaN for a point left out), the radius of its dots and the
// length of its dashes: for the external tests to look for the lines in a
// PNG.
func ChartMarks(c Chart, width, height int) (at [][]ChartPoint, dotR, dash float64) {
	l := c.plan(newFonts(), width, height)
	for _, s := range c.Series {
		var pts []ChartPoint
		for _, p := range s.Points {
			if !visible(p) {
				pts = append(pts, ChartPoint{math.NaN(), math.NaN()})
				continue
			}
			pts = append(pts, ChartPoint{l.xAt(p.X), l.yAt(p.Y)})
		}
		at = append(at, pts)
	}
	return at, l.dotR, l.dash
}
