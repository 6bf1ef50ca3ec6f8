package diagram

import (
	"image"
	"image/color"
	"io"
	"math"
	"strconv"
)

// Chart is a line chart for slides: a measure against the number of
// streams run at once, as a concurrency sweep gives it (the same prompt on
// one model at 1, 2, 4 and 8 streams: tokens per second against streams).
// The x axis is on a log2 scale, so that doubling the streams is one step;
// the y axis is linear from 0. Under the title a legend names the series;
// under the plot the notes say what the lines mean.
type Chart struct {
	// Title is the line at the top; empty leaves it out.
	Title string
	// XLabel and YLabel are the axes' names, such as "streams at once"
	// and "tokens/s": XLabel under the x axis, YLabel above the y axis's
	// numbers. Empty leaves them out.
	XLabel, YLabel string
	// XTicks are where the x axis is labelled: the sweep's numbers of
	// streams (whole numbers ≥ 1, increasing). The axis runs from the
	// first to the last, and further if a point lies beyond them; ticks
	// that are not positive are left out.
	XTicks []float64
	// Series are the lines, drawn dashed ones first (the ideals under the
	// measures), each kind in order.
	Series []Series
	// Notes are sentences set under the plot, each wrapped to the plot's
	// width, in order.
	Notes []string
	// Dark draws on a dark background; the default is a light one.
	Dark bool
	// TextSize, if set, is the size of the body text in pixels, as on a
	// screen whose text has one size at every window size; unset, text
	// grows with the picture, as on a slide. Either way it shrinks where
	// the plot would get too little of the height.
	TextSize float64
}

// Series is one line of a Chart.
type Series struct {
	// Label names the line in the legend.
	Label string
	// Slot is the line's colour slot, as a lane's (palette.Of).
	Slot int
	// Dashed draws an ideal line: dashed, thinner and fainter, without
	// dots.
	Dashed bool
	// Points are the line's points, X increasing. A point whose Y is
	// negative or not a number, or whose X is not positive, is left out:
	// a gap in the line.
	Points []ChartPoint
}

// ChartPoint is one point of a Series.
type ChartPoint struct{ X, Y float64 }

// Picture is what Save writes: a Diagram or a Chart.
type Picture interface {
	// SVG writes the picture as an SVG document of width×height pixels.
	SVG(w io.Writer, width, height int) error
	// PNG writes the picture as a PNG image of width×height pixels.
	PNG(w io.Writer, width, height int) error
}

var (
	_ Picture = Diagram{}
	_ Picture = Chart{}
)

// SVG writes the chart as an SVG document of width×height pixels (its
// viewBox): text as text elements, a series as a polyline and its points
// as circles, colours in hex. It refuses a size outside
// MinWidth×MinHeight to MaxWidth×MaxHeight.
func (c Chart) SVG(w io.Writer, width, height int) error { return writeSVG(c, w, width, height) }

// Image draws the chart at width×height pixels, opaque, for the screen or
// a file. Any size from 1×1 to MaxWidth×MaxHeight is drawn as asked (below
// MinWidth×MinHeight parts do not fit); one outside is brought within it.
func (c Chart) Image(width, height int) *image.RGBA { return drawImage(c, width, height) }

// PNG writes the chart as a PNG image of width×height pixels. It refuses a
// size outside MinWidth×MinHeight to MaxWidth×MaxHeight.
func (c Chart) PNG(w io.Writer, width, height int) error { return writePNG(c, w, width, height) }

// A chart's sizes, besides the timeline's (layout.go).
const (
	// chartWidthDiv is as baseWidthDiv: a chart has little text, which a
	// slide's back row should read, so it is larger than a timeline's.
	chartWidthDiv = 72
	// minPlotShare is the least share of the height the plot gets before
	// the text shrinks.
	minPlotShare = 0.4
	// yHeadroom is how far above the highest point the y axis goes at
	// least, against that point: the top point is not on the frame.
	yHeadroom = 0.04
	// maxYLines is the most intervals of the y axis; with the nice steps
	// the least is 3 (see yScale).
	maxYLines = 5
	// maxChartY is the highest the y axis goes: a point above it is drawn
	// on the plot's top edge.
	maxChartY = 1e300
)

// chartLayout is where a chart's parts go, in pixels.
type chartLayout struct {
	w, h                     float64
	base, small, titleSize   float64
	pad                      float64
	scale                    float64 // the unit of lines' widths and dots
	titleBaseline            float64 // 0: no title
	legend                   []chartLegendPlace
	sampleW                  float64 // a legend line's length
	yLabelBaseline           float64 // 0: no YLabel
	x0, plotW, top, bottom   float64 // the plot: its left, width, top and bottom (y = 0), whole pixels
	inset                    float64 // from the plot's sides to the first and last ticks
	lo, hi                   float64 // the log2 of the least and greatest X shown (see xRange)
	yTop                     float64 // the value at the plot's top
	yTicks                   []float64
	yLabels                  []string
	yLabelRight              float64 // the right edge of the y axis's numbers
	tickLen                  float64
	xTicks                   []float64 // the labelled ones
	xTickBaseline            float64
	xLabelBaseline           float64 // 0: no XLabel
	notes                    []string
	notesBaselines           []float64
	lineW, dashW, dotR, dash float64 // solid and dashed lines' widths, dots' radius, dashes' length
}

// chartLegendPlace is where a series' legend item goes: its sample line
// from x to x+sampleW at y, its label's start and baseline.
type chartLegendPlace struct {
	x, y, textX, baseline float64
}

// visible reports whether p is drawn: a positive X and a Y of 0 or more.
func visible(p ChartPoint) bool {
	return finite(p.X) && p.X > 0 && finite(p.Y) && p.Y >= 0
}

// most is the highest Y of the points drawn, 0 for none.
func (c Chart) most() float64 {
	m := 0.0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if visible(p) {
				m = max(m, p.Y)
			}
		}
	}
	return m
}

// xRange is the log2 of the least and the greatest X the axis shows: of
// the ticks and of the points drawn; 0, 0 for none.
func (c Chart) xRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	see := func(x float64) {
		if finite(x) && x > 0 {
			lo, hi = min(lo, math.Log2(x)), max(hi, math.Log2(x))
		}
	}
	for _, x := range c.XTicks {
		see(x)
	}
	for _, s := range c.Series {
		for _, p := range s.Points {
			if visible(p) {
				see(p.X)
			}
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// yScale is the top of the y axis and the step between its lines for
// values up to most: a nice step (1, 2, 2.5 or 5 times a power of ten)
// such that from 3 to maxYLines steps reach just above most (by
// yHeadroom), and at least 1.
func yScale(most float64) (top, step float64) {
	// Capped far above any measure, so that the steps stay finite.
	target := 1.0
	if finite(most) && most > 0 {
		target = min(max(most*(1+yHeadroom), 1), maxChartY)
	}
	for k := math.Floor(math.Log10(target)) - 1; ; k++ {
		p := math.Pow(10, k)
		for _, m := range []float64{1, 2, 2.5, 5} {
			step := m * p
			// The tolerance keeps 1/0.2 five steps, not six.
			if n := math.Ceil(target/step - 1e-9); n <= maxYLines {
				return n * step, step
			}
		}
	}
}

// numberLabel is v as an axis says it, rounded to the decimals of step
// (so that 3×0.2 says 0.6), without trailing zeros or thousands
// separators; from 1e15 up, with an exponent (a nice step's multiples
// have at most four digits), so that the label stays short.
func numberLabel(v, step float64) string {
	if math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	d := 0
	for ; d < 12; d++ {
		scaled := step * math.Pow(10, float64(d))
		if math.Abs(scaled-math.Round(scaled)) < 1e-6*scaled {
			break
		}
	}
	p := math.Pow(10, float64(d))
	v = math.Round(v*p) / p
	if v == 0 {
		v = 0 // not -0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// plan lays the chart out at width×height.
func (c Chart) plan(f *fonts, width, height int) *chartLayout {
	w, h := float64(width), float64(height)
	base := min(max(min(w/chartWidthDiv, h/baseHeightDiv), minBase), maxBase)
	if c.TextSize > 0 && finite(c.TextSize) {
		base = min(c.TextSize, MaxHeight) // shrinking from far above would take long
	}
	for {
		l := c.planAt(f, w, h, base)
		if l.bottom-l.top >= minPlotShare*h || base <= shrinkBase {
			return l
		}
		base = max(base*0.9, shrinkBase)
	}
}

// planAt lays the chart out with body text of size base.
func (c Chart) planAt(f *fonts, w, h, base float64) *chartLayout {
	l := &chartLayout{w: w, h: h, base: base, small: smallScale * base, titleSize: titleScale * base, pad: math.Round(0.8 * base)}
	l.scale = max(1, math.Round(base/10))
	l.lineW, l.dashW = 2*l.scale, 1.2*l.scale
	l.dotR, l.dash = 3*l.scale, 4*l.scale
	small := l.small
	smallLH := f.lineHeight(small, false)
	l.tickLen = math.Round(0.35 * base)

	// Across: the y axis's numbers, the plot, room for the last x label.
	top, step := yScale(c.most())
	l.yTop = top
	yw := 0.0
	for i := 0; float64(i)*step <= top*(1+1e-9); i++ {
		v := float64(i) * step
		l.yTicks = append(l.yTicks, v)
		l.yLabels = append(l.yLabels, numberLabel(v, step))
		yw = max(yw, f.width(l.yLabels[i], small, false))
	}
	l.yLabelRight = l.pad + yw
	l.x0 = math.Round(l.yLabelRight + 0.5*base)
	l.lo, l.hi = c.xRange()
	for _, x := range c.XTicks {
		if finite(x) && x > 0 {
			l.xTicks = append(l.xTicks, x)
		}
	}
	avail := max(w-l.pad-l.x0, 1)
	l.inset = math.Round(max(1.2*base, 0.04*avail))
	right := l.pad
	if n := len(l.xTicks); n > 0 {
		// The last tick's label is centred on it, inset from the plot's
		// right side: the picture's edge must not cut it.
		last := f.width(numberLabel(l.xTicks[n-1], 1e-6), small, false)
		right = max(right, last/2-l.inset+0.3*base)
	}
	l.plotW = max(math.Round(w-right-l.x0), 1)
	l.inset = min(l.inset, math.Floor(l.plotW/4))

	// Down from the top: the title, the legend, the y axis's name.
	y := l.pad
	if c.Title != "" {
		l.titleBaseline = y + f.ascent(l.titleSize, true)
		y += f.lineHeight(l.titleSize, true) + 0.5*base
	}
	if len(c.Series) > 0 {
		l.sampleW = math.Round(2.4 * base)
		rowH := f.lineHeight(base, false)
		rowGap := 0.3 * base
		x, row := l.pad, 0.0
		for _, s := range c.Series {
			iw := l.sampleW + 0.4*base + f.width(printable(s.Label), base, false)
			if x > l.pad && x+iw > w-l.pad {
				x, row = l.pad, row+1
			}
			rowTop := y + row*(rowH+rowGap)
			l.legend = append(l.legend, chartLegendPlace{
				x: x, y: rowTop + rowH/2,
				textX:    x + l.sampleW + 0.4*base,
				baseline: rowTop + f.ascent(base, false),
			})
			x += iw + 1.2*base
		}
		y += (row+1)*rowH + row*rowGap + 0.6*base
	}
	if c.YLabel != "" {
		l.yLabelBaseline = y + f.ascent(small, false)
		y += smallLH + 0.2*base
	}
	// The top number is centred on the plot's top edge: room for its
	// upper half.
	l.top = math.Round(y + 0.6*small)

	// Up from the bottom: the notes, the x axis's name, its numbers.
	y = h - l.pad
	// Notes' lines are apart by a little more than the font's height:
	// sentences read better with some leading.
	bodyLH := f.lineHeight(base, false) + 0.15*base
	var lines []string
	var gaps []int // how many notes' gaps are above each line
	for i, n := range c.Notes {
		for _, ln := range f.wrap(n, base, false, l.plotW) {
			lines = append(lines, ln)
			gaps = append(gaps, i)
		}
	}
	if len(lines) > 0 {
		noteGap := 0.3 * base
		blockH := float64(len(lines))*bodyLH + float64(gaps[len(gaps)-1])*noteGap
		blockTop := y - blockH
		for i, ln := range lines {
			l.notes = append(l.notes, ln)
			l.notesBaselines = append(l.notesBaselines, blockTop+float64(i)*bodyLH+float64(gaps[i])*noteGap+f.ascent(base, false))
		}
		y = blockTop - 0.6*base
	}
	if c.XLabel != "" {
		l.xLabelBaseline = y - f.descent(small, false)
		y -= smallLH + 0.15*base
	}
	l.xTickBaseline = y - f.descent(small, false)
	y -= smallLH + 0.2*base + l.tickLen
	l.bottom = max(math.Round(y), l.top+1)
	return l
}

// xAt is where X is across the plot: on a log2 scale from the first tick,
// inset from the plot's left side, to the last, inset from its right; in
// the middle when they are one.
func (l *chartLayout) xAt(x float64) float64 {
	if l.hi <= l.lo {
		return l.x0 + l.plotW/2
	}
	return l.x0 + l.inset + (math.Log2(x)-l.lo)/(l.hi-l.lo)*(l.plotW-2*l.inset)
}

// yAt is where Y is up the plot: 0 at its bottom, yTop (or more) at its
// top.
func (l *chartLayout) yAt(y float64) float64 {
	return l.bottom - min(y/l.yTop, 1)*(l.bottom-l.top)
}

// runs are a series' points as drawn, split where a point is left out.
func (l *chartLayout) runs(s Series) [][]point {
	var out [][]point
	var run []point
	for _, p := range s.Points {
		if !visible(p) {
			if len(run) > 0 {
				out = append(out, run)
			}
			run = nil
			continue
		}
		run = append(run, point{l.xAt(p.X), l.yAt(p.Y)})
	}
	if len(run) > 0 {
		out = append(out, run)
	}
	return out
}

// chartPainter draws a chart's layout on a canvas.
type chartPainter struct {
	ch  Chart
	l   *chartLayout
	c   canvas
	f   *fonts
	col colours
}

// paint draws c at width×height on cv.
func (c Chart) paint(cv canvas, f *fonts, width, height int) {
	p := &chartPainter{ch: c, l: c.plan(f, width, height), c: cv, f: f, col: coloursOf(c.Dark)}
	p.paint()
}

func (p *chartPainter) paint() {
	l, c, col := p.l, p.c, p.col
	paintHead(c, p.f, col, p.ch.Title, l.w, l.h, l.pad, l.titleBaseline, l.titleSize)
	p.legend()
	p.axes()
	c.begin("series")
	for _, dashed := range []bool{true, false} {
		for _, s := range p.ch.Series {
			if s.Dashed == dashed {
				p.series(s)
			}
		}
	}
	c.end()
	if len(l.notes) > 0 {
		c.begin("notes")
		for i, ln := range l.notes {
			c.text(l.x0, l.notesBaselines[i], ln, textStyle{size: l.base, colour: col.fg, class: "note"})
		}
		c.end()
	}
}

// seriesColour is the colour of s's line: its slot's, fainter if dashed.
func (p *chartPainter) seriesColour(s Series) color.NRGBA {
	sc := p.col.slotColour(s.Slot)
	if s.Dashed {
		return withAlpha(sc, dashedAlpha)
	}
	return sc
}

// dashedAlpha is the opacity of an ideal line: it is the reference, not
// the measure.
const dashedAlpha = 0xa0

// line draws s's line through pts: solid or dashed.
func (p *chartPainter) line(s Series, pts []point) {
	l := p.l
	if s.Dashed {
		p.c.line(pts, l.dashW, l.dash, p.seriesColour(s), "line dashed")
		return
	}
	p.c.line(pts, l.lineW, 0, p.seriesColour(s), "line")
}

// series draws s's lines and, unless it is dashed, its dots.
func (p *chartPainter) series(s Series) {
	runs := p.l.runs(s)
	for _, run := range runs {
		p.line(s, run)
	}
	if s.Dashed {
		return
	}
	for _, run := range runs {
		for _, pt := range run {
			p.c.dot(pt.x, pt.y, p.l.dotR, p.seriesColour(s), "dot")
		}
	}
}

// legend draws a sample of each series' line and its label.
func (p *chartPainter) legend() {
	l, c := p.l, p.c
	if len(l.legend) == 0 {
		return
	}
	c.begin("legend")
	for i, s := range p.ch.Series {
		pl := l.legend[i]
		p.line(s, []point{{pl.x + l.lineW/2, pl.y}, {pl.x + l.sampleW - l.lineW/2, pl.y}})
		if !s.Dashed {
			c.dot(pl.x+l.sampleW/2, pl.y, l.dotR, p.seriesColour(s), "dot")
		}
		label := p.f.fit(printable(s.Label), l.base, false, l.w-l.pad-pl.textX)
		c.text(pl.textX, pl.baseline, label, textStyle{size: l.base, colour: p.col.fg, class: "legend"})
	}
	c.end()
}

// axes draws the grid, the axes' lines, numbers and names.
func (p *chartPainter) axes() {
	l, c, f, col := p.l, p.c, p.f, p.col
	s := l.scale
	right := l.x0 + l.plotW
	c.begin("axes")
	for i, v := range l.yTicks {
		y := math.Round(l.yAt(v) - s/2)
		if v > 0 {
			c.rect(l.x0, y, right, y+s, col.grid, "grid")
		}
		// Centred on the line: digits stand about 0.7 of the size tall.
		c.text(l.yLabelRight, l.yAt(v)+0.35*l.small, l.yLabels[i],
			textStyle{size: l.small, colour: col.fg, anchor: anchorEnd, class: "y-tick"})
	}
	label := math.Inf(-1) // the right edge of the last x label drawn
	for _, x := range l.xTicks {
		px := math.Round(l.xAt(x) - s/2)
		c.rect(px, l.top, px+s, l.bottom, col.grid, "grid")
		c.rect(px, l.bottom, px+s, l.bottom+l.tickLen, col.frame, "axis-mark")
		// Ticks too close to read apart (3 and 4 on a narrow picture)
		// keep the first's label.
		text := numberLabel(x, 1e-6)
		tw := f.width(text, l.small, false)
		if mid := l.xAt(x); mid-tw/2 >= label+0.6*l.small {
			c.text(mid, l.xTickBaseline, text, textStyle{size: l.small, colour: col.fg, anchor: anchorMiddle, class: "x-tick"})
			label = mid + tw/2
		}
	}
	// The axes' lines on whole pixels, centred on x0 and on y = 0.
	ax, ay := math.Round(l.x0-s/2), math.Round(l.bottom-s/2)
	c.rect(ax, l.top, ax+s, ay+s, col.frame, "axis-line")
	c.rect(ax, ay, right, ay+s, col.frame, "axis-line")
	if p.ch.YLabel != "" {
		c.text(l.pad, l.yLabelBaseline, f.fit(printable(p.ch.YLabel), l.small, true, l.w-2*l.pad),
			textStyle{size: l.small, bold: true, colour: col.fg, class: "y-label"})
	}
	if p.ch.XLabel != "" {
		text := f.fit(printable(p.ch.XLabel), l.small, true, l.w-2*l.pad)
		tw := f.width(text, l.small, true)
		mid := min(max(l.x0+l.plotW/2, l.pad+tw/2), l.w-l.pad-tw/2)
		c.text(mid, l.xLabelBaseline, text, textStyle{size: l.small, bold: true, colour: col.fg, anchor: anchorMiddle, class: "x-label"})
	}
	c.end()
}
