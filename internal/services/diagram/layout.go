package diagram

import (
	"math"
	"strconv"

	"github.com/tokenloom/tokenloom/internal/base/paint"
)

// Text sizes, in units of the body text size (base), which follows the
// picture's size: base is the smaller of width/baseWidthDiv and
// height/baseHeightDiv, from minBase to maxBase pixels.
const (
	baseWidthDiv, baseHeightDiv = 90, 36
	minBase, maxBase            = 7, 48
	// shrinkBase is the least base when the lanes would get less than
	// minLanesShare of the height.
	shrinkBase    = 5
	minLanesShare = 0.45

	titleScale = 1.3 // the title's size against base
	smallScale = 0.9 // the axis's, the spans' and the legend's

	// minLabelSize is the least size, in pixels, of a lane's name: below
	// it, names that would overlap are left out.
	minLabelSize = 6
	// labelGapScale is the least room between two lane names, against
	// their size.
	labelGapScale = 0.12
	// maxLabelColumn is the widest the column of lane names gets, against
	// the picture's width.
	maxLabelColumn = 0.3
)

// layout is where everything goes, in pixels. The lanes, phases, ticks,
// seconds and the axis are on whole pixels, so that neither format blurs
// their edges.
type layout struct {
	w, h      float64
	base      float64 // body text size: headings
	small     float64 // axis, spans, legend
	titleSize float64
	labelSize float64 // lane names
	pad       float64
	scale     int // a pattern's pixel and a tick's width

	titleBaseline float64 // 0: no title
	groups        []groupPlace
	pitch         float64 // the height of a lane

	x0, plotW        float64 // the plot's left edge and width, whole pixels
	spanMs, stepMs   float64
	lanesTop         float64 // the top of the first group's lanes
	axisY            float64 // the axis line's top: the last lanes' bottom
	tickLen          float64 // of the axis's marks
	axisBaseline     float64 // of the seconds
	spanTops         []float64
	legend           []legendPlace
	swatchW, swatchH float64
}

// groupPlace is where a group goes: its heading's baseline and its lanes.
type groupPlace struct {
	headBaseline float64
	top, bottom  float64 // of its lanes
}

// legendPlace is where a legend item goes: its swatch's top left corner
// and its word's baseline.
type legendPlace struct {
	x, y, textX, baseline float64
}

// lanes is the number of lanes in all groups.
func (d Diagram) lanes() int {
	n := 0
	for _, g := range d.Groups {
		n += len(g.Lanes)
	}
	return n
}

// lastMs is the latest time the picture shows: of its phases, ticks, wall
// times and spans.
func (d Diagram) lastMs() float64 {
	last := 0.0
	see := func(v float64) {
		if finite(v) {
			last = max(last, v)
		}
	}
	for _, g := range d.Groups {
		see(g.WallMs)
		for _, l := range g.Lanes {
			for _, p := range l.Phases {
				see(p.StartMs)
				see(p.EndMs)
			}
			for _, v := range l.Ticks {
				see(v)
			}
			for _, v := range l.Thinks {
				see(v)
			}
		}
	}
	for _, s := range d.Spans {
		see(s.FromMs)
		see(s.ToMs)
	}
	return last
}

// secondsLabel is the axis's label of ms.
func secondsLabel(ms float64) string {
	return strconv.FormatFloat(ms/1000, 'f', -1, 64) + " s"
}

// plan lays the picture out at width×height.
func (d Diagram) plan(f *fonts, width, height int) *layout {
	w, h := float64(width), float64(height)
	n := d.lanes()
	base := min(max(min(w/baseWidthDiv, h/baseHeightDiv), minBase), maxBase)
	if d.TextSize > 0 {
		base = d.TextSize
	}
	var l *layout
	for {
		l = d.planAt(f, w, h, base)
		if l.pitch*float64(max(n, 1)) >= minLanesShare*h || base <= shrinkBase {
			break
		}
		base = max(base*0.9, shrinkBase)
	}
	return l
}

// planAt lays the picture out with body text of size base.
func (d Diagram) planAt(f *fonts, w, h, base float64) *layout {
	l := &layout{w: w, h: h, base: base, small: smallScale * base, titleSize: titleScale * base, pad: math.Round(0.8 * base)}
	l.scale = max(1, int(math.Round(base/10)))
	small := l.small
	smallLH := f.lineHeight(small, false)

	// The legend's rows, from the bottom up: how many the width needs.
	l.swatchW, l.swatchH = math.Round(1.65*small), math.Round(1.15*small)
	rowH := max(smallLH, l.swatchH)
	rowGap := 0.35 * base
	type item struct{ x, row float64 }
	items := make([]item, len(LegendItems))
	x, row := l.pad, 0.0
	for i, it := range LegendItems {
		iw := l.swatchW + 0.35*small + f.width(it.Label, small, false)
		if x > l.pad && x+iw > w-l.pad {
			x, row = l.pad, row+1
		}
		items[i] = item{x, row}
		x += iw + small
	}
	rows := row + 1
	legendH := rows*rowH + (rows-1)*rowGap

	// Heights from the top: title, per group a heading over its lanes,
	// the axis, the spans' brackets, the legend.
	y := l.pad
	if d.Title != "" {
		l.titleBaseline = y + f.ascent(l.titleSize, true)
		y += f.lineHeight(l.titleSize, true) + 0.7*base
	}
	headLH := f.lineHeight(base, true)
	headH := headLH + 0.3*base
	l.tickLen = math.Round(0.4 * base)
	axisH := l.tickLen + 0.15*base + smallLH
	spanH := 0.3*base + 0.5*base + 0.1*base + smallLH
	fixed := y + float64(len(d.Groups))*headH + axisH + float64(len(d.Spans))*spanH + 0.7*base + legendH + l.pad
	n := d.lanes()
	lanesH := max(h-fixed, 0)
	l.pitch = lanesH / float64(max(n, 1))

	for _, g := range d.Groups {
		var gp groupPlace
		gp.headBaseline = y + f.ascent(base, true)
		y += headH
		gp.top = math.Round(y)
		y += float64(len(g.Lanes)) * l.pitch
		gp.bottom = math.Round(y)
		l.groups = append(l.groups, gp)
	}
	l.lanesTop = math.Round(y)
	if len(l.groups) > 0 {
		l.lanesTop = l.groups[0].top
	}
	if n == 0 {
		y += l.pitch // room where lanes would be
	}
	l.axisY = math.Round(y)
	l.axisBaseline = l.axisY + l.tickLen + 0.15*base + f.ascent(small, false)
	y = l.axisY + axisH
	for range d.Spans {
		l.spanTops = append(l.spanTops, y+0.3*base)
		y += spanH
	}
	y += 0.7 * base
	for i := range items {
		it := &items[i]
		top := y + it.row*(rowH+rowGap)
		l.legend = append(l.legend, legendPlace{
			x: it.x, y: math.Round(top + (rowH-l.swatchH)/2),
			textX:    it.x + l.swatchW + 0.35*small,
			baseline: top + (rowH-smallLH)/2 + f.ascent(small, false),
		})
	}

	// Lane names: as big as the body text where the lanes have room, down
	// to minLabelSize where they have not.
	l.labelSize = base
	for f.lineHeight(l.labelSize, true)*(1+labelGapScale) > l.pitch && l.labelSize > minLabelSize {
		l.labelSize = max(l.labelSize-0.5, minLabelSize)
	}
	column := 0.0
	for _, g := range d.Groups {
		for _, ln := range g.Lanes {
			column = max(column, f.width(printable(ln.Label), l.labelSize, true))
		}
	}
	if n > 0 {
		column = min(column+0.6*base, maxLabelColumn*w)
	}

	// The plot: after the names, up to half a label from the right edge.
	l.spanMs = paint.AxisSpan(d.lastMs())
	l.x0 = math.Round(l.pad + column)
	right := f.width(secondsLabel(l.spanMs), small, false)/2 + 0.2*base
	l.plotW = max(math.Round(w-max(l.pad, right)-l.x0), 1)
	l.stepMs = l.axisStep(f)
	return l
}

// axisStep picks the time between the axis's labels so that they are
// clear of each other: at least 5.5 times the text size apart, and the
// widest label and two more characters.
func (l *layout) axisStep(f *fonts) float64 {
	return paint.AxisStep(func(s float64) bool {
		widest := f.width(secondsLabel(math.Floor(l.spanMs/s)*s), l.small, false)
		return l.plotW*s/l.spanMs >= max(5.5*l.small, widest+2*l.small)
	})
}

// x is the position of run time ms on the axis (not rounded).
func (l *layout) x(ms float64) float64 {
	return l.x0 + min(max(ms, 0), l.spanMs)/l.spanMs*l.plotW
}

// px is x(ms) on a whole pixel.
func (l *layout) px(ms float64) float64 { return math.Round(l.x(ms)) }
