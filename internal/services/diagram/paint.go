package diagram

import (
	"image/color"
	"math"

	"github.com/tokenloom/tokenloom/internal/base/paint"
	"github.com/tokenloom/tokenloom/internal/base/palette"
)

// canvas is what a picture is drawn on: an SVG document or an image. The
// painter makes the same calls on both, so that both show the same; each
// call draws over what is there (alpha blends).
type canvas interface {
	// begin opens a group of what follows, of class (an SVG g element);
	// end closes it.
	begin(class string)
	end()
	// rect fills the rectangle from x0,y0 to x1,y1.
	rect(x0, y0, x1, y1 float64, c color.NRGBA, class string)
	// pattern marks the rectangle with pattern k in c, each of its pixels
	// scale pixels wide; the pattern is fixed to the picture, not to the
	// rectangle.
	pattern(x0, y0, x1, y1 float64, k paint.Pattern, scale int, c color.NRGBA)
	// ticks draws vertical ticks width wide, each from its x (its left
	// edge) and y0 to y1.
	ticks(ts []tick, width float64, c color.NRGBA, class string)
	// dashedV draws a dashed vertical line width wide from x (its left
	// edge) and y0 to y1, dash long dashes with gaps as long.
	dashedV(x, y0, y1, width, dash float64, c color.NRGBA)
	// text sets s with its baseline at y.
	text(x, y float64, s string, st textStyle)
	// line draws the polyline through pts width wide, with round joins
	// and ends; dash, if not 0, is the length of its dashes and of the
	// gaps between them, the pattern running on across the corners. It
	// is anti-aliased, and where it crosses itself it is drawn once (a
	// translucent line does not darken there).
	line(pts []point, width, dash float64, c color.NRGBA, class string)
	// dot fills the circle of radius r around x,y, anti-aliased.
	dot(x, y, r float64, c color.NRGBA, class string)
}

// tick is one tick of a lane: a pixel column with tokens in it.
type tick struct{ x, y0, y1 float64 }

// point is a position in the picture, in pixels (not rounded).
type point struct{ x, y float64 }

// painter draws a diagram's layout on a canvas.
type painter struct {
	d   Diagram
	l   *layout
	c   canvas
	f   *fonts
	col colours
}

// paintHead paints a picture's background, w×h, and its title, if any,
// on the baseline at size, pad from the edges: a timeline's and a
// chart's alike.
func paintHead(c canvas, f *fonts, col colours, title string, w, h, pad, baseline, size float64) {
	c.rect(0, 0, w, h, col.bg, "background")
	if title != "" {
		c.text(pad, baseline, f.fit(printable(title), size, true, w-2*pad),
			textStyle{size: size, bold: true, colour: col.fg, class: "title"})
	}
}

// paint draws d at width×height on c.
func (d Diagram) paint(c canvas, f *fonts, width, height int) {
	p := &painter{d: d, l: d.plan(f, width, height), c: c, f: f, col: coloursOf(d.Dark)}
	p.paint()
}

func (p *painter) paint() {
	l, c, col := p.l, p.c, p.col
	paintHead(c, p.f, col, p.d.Title, l.w, l.h, l.pad, l.titleBaseline, l.titleSize)
	p.spanBands()
	for gi, g := range p.d.Groups {
		gp := l.groups[gi]
		c.begin("group")
		c.text(l.pad, gp.headBaseline, p.f.fit(printable(g.Title), l.base, true, l.w-2*l.pad),
			textStyle{size: l.base, bold: true, colour: col.fg, class: "heading"})
		p.grid(gp.top, gp.bottom)
		if g.WallMs > 0 && finite(g.WallMs) {
			c.rect(l.px(g.WallMs), gp.top, l.px(g.WallMs)+float64(l.scale), gp.bottom, withAlpha(col.fg, 0x80), "wall")
		}
		free := math.Inf(-1) // the top of the room below the last lane name
		for i, ln := range g.Lanes {
			top := gp.top + float64(i)*l.pitch
			c.begin("lane")
			free = p.laneName(ln, top, gp, free)
			p.lane(ln, top)
			c.end()
		}
		c.end()
	}
	p.axis()
	p.spanBrackets()
	p.legend()
}

// withAlpha is c with alpha a.
func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}

// grid draws the seconds' lines from top to bottom.
func (p *painter) grid(top, bottom float64) {
	l := p.l
	for s := 0.0; s <= l.spanMs; s += l.stepMs {
		x := l.px(s)
		p.c.rect(x, top, x+float64(l.scale), bottom, p.col.grid, "grid")
	}
}

// band is the part of a lane at top that its phases fill: a little less
// than its pitch, so that lanes stay apart.
func (p *painter) band(top float64) (y0, y1 float64) {
	gap := max(1, math.Floor(p.l.pitch*0.07))
	y0, y1 = math.Round(top+gap), math.Round(top+p.l.pitch-gap)
	return y0, max(y1, y0+1)
}

// lane draws a lane's phases and ticks.
func (p *painter) lane(ln Lane, top float64) {
	l, c := p.l, p.c
	slot := p.col.slotColour(ln.Slot)
	y0, y1 := p.band(top)
	for _, ph := range ln.Phases {
		if !finite(ph.StartMs) || !finite(ph.EndMs) || ph.EndMs < ph.StartMs {
			continue
		}
		x0, x1 := l.px(ph.StartMs), l.px(ph.EndMs)
		if x1 <= x0 {
			x1 = x0 + 1 // a phase shorter than a pixel still shows
		}
		sh := phaseShade(ph.Name, slot)
		c.rect(x0, y0, x1, y1, sh.ground, "phase "+printable(ph.Name))
		if sh.pattern != paint.None {
			c.pattern(x0, y0, x1, y1, sh.pattern, l.scale, sh.mark)
		}
	}
	// Ticks bucketed per pixel column. A column's tick grows with the
	// tokens in it: from 60% of the lane for one to 90% for four or more;
	// the reasoning's are half as tall, in the subdued colour.
	mid := (y0 + y1) / 2
	counts := make([]int, int(l.plotW)+1)
	var ts []tick
	for _, kind := range []struct {
		ticks  []float64
		colour color.NRGBA
		scale  float64
		class  string
	}{
		{ln.Thinks, palette.Dim(slot, p.col.bg), ThinkTickScale, "ticks thinking"},
		{ln.Ticks, slot, 1, "ticks answer"},
	} {
		if len(kind.ticks) == 0 {
			continue
		}
		clear(counts)
		for _, tm := range kind.ticks {
			if !finite(tm) {
				continue
			}
			if px := int(math.Round(l.x(tm) - l.x0)); px >= 0 && px < len(counts) {
				counts[px]++
			}
		}
		ts = ts[:0]
		for px, n := range counts {
			if n == 0 {
				continue
			}
			half := min(kind.scale*l.pitch*paint.TickReach(n), (y1-y0)/2)
			half = max(math.Round(half*2)/2, 0.5)
			ts = append(ts, tick{x: l.x0 + float64(px), y0: mid - half, y1: mid + half})
		}
		c.ticks(ts, float64(l.scale), kind.colour, kind.class)
	}
}

// laneName sets a lane's name in its colour, vertically in the middle of
// the lane, unless it would run into the name above, whose bottom is
// free; it returns the new free.
func (p *painter) laneName(ln Lane, top float64, gp groupPlace, free float64) float64 {
	l, f := p.l, p.f
	size := l.labelSize
	lh := f.lineHeight(size, true)
	y := min(max(top+(l.pitch-lh)/2, gp.top), gp.bottom-lh)
	if y < free || y < 0 {
		return free
	}
	name := f.fit(printable(ln.Label), size, true, l.x0-l.pad-0.4*l.base)
	if name == "" {
		return free
	}
	p.c.text(l.pad, y+f.ascent(size, true), name, textStyle{size: size, bold: true, colour: p.col.slotColour(ln.Slot), class: "label"})
	return y + lh + labelGapScale*size
}

// axis draws the axis line, a mark and a label per step.
func (p *painter) axis() {
	l, c := p.l, p.c
	s := float64(l.scale)
	c.begin("axis")
	c.rect(l.x0, l.axisY, l.x0+l.plotW+s, l.axisY+s, p.col.frame, "axis-line")
	for ms := 0.0; ms <= l.spanMs; ms += l.stepMs {
		x := l.px(ms)
		c.rect(x, l.axisY, x+s, l.axisY+l.tickLen, p.col.frame, "axis-mark")
		c.text(l.x(ms), l.axisBaseline, secondsLabel(ms), textStyle{size: l.small, colour: p.col.fg, anchor: anchorMiddle, class: "axis"})
	}
	c.end()
}

// spanBands shades each span across the lanes, between dashed edges.
func (p *painter) spanBands() {
	l, c := p.l, p.c
	for _, s := range p.d.Spans {
		from, to, ok := spanEnds(s)
		if !ok {
			continue
		}
		x0, x1 := l.px(from), l.px(to)
		c.begin("span")
		for _, gp := range l.groups {
			c.rect(x0, gp.top, x1, gp.bottom, withAlpha(p.col.fg, 0x0c), "span-band")
		}
		for _, x := range []float64{x0, x1} {
			c.dashedV(x, l.lanesTop, l.axisY, float64(l.scale), math.Round(0.35*l.base), withAlpha(p.col.fg, 0x90))
		}
		c.end()
	}
}

// spanEnds are a span's ends in order, or not ok when it has none.
func spanEnds(s Span) (from, to float64, ok bool) {
	if !finite(s.FromMs) || !finite(s.ToMs) {
		return 0, 0, false
	}
	return min(s.FromMs, s.ToMs), max(s.FromMs, s.ToMs), true
}

// spanBrackets draws each span's bracket under the axis, with its label
// under the bracket's middle (kept inside the picture).
func (p *painter) spanBrackets() {
	l, c, f := p.l, p.c, p.f
	sc := float64(l.scale)
	for i, s := range p.d.Spans {
		from, to, ok := spanEnds(s)
		if !ok {
			continue
		}
		top := math.Round(l.spanTops[i])
		capH := math.Round(0.5 * l.base)
		x0, x1 := l.px(from), l.px(to)
		c.begin("span")
		c.rect(x0, top, x0+sc, top+capH, p.col.fg, "bracket")
		c.rect(x1, top, x1+sc, top+capH, p.col.fg, "bracket")
		c.rect(x0, top+capH-sc, x1+sc, top+capH, p.col.fg, "bracket")
		label := f.fit(printable(s.Label), l.small, true, l.w-2*l.pad)
		tw := f.width(label, l.small, true)
		mid := min(max((x0+x1)/2, l.pad+tw/2), l.w-l.pad-tw/2)
		c.text(mid, top+capH+0.1*l.base+f.ascent(l.small, true), label,
			textStyle{size: l.small, bold: true, colour: p.col.fg, anchor: anchorMiddle, class: "span-label"})
		c.end()
	}
}

// legend draws a swatch and a word per legend item: the shading made
// legendBoost times as opaque, in the foreground colour standing for a
// stream's, framed, with the tick of the kind of token the phase brings.
func (p *painter) legend() {
	l, c, col := p.l, p.c, p.col
	c.begin("legend")
	for i, it := range LegendItems {
		pl := l.legend[i]
		x0, y0 := math.Round(pl.x), pl.y
		x1, y1 := x0+l.swatchW, y0+l.swatchH
		b := float64(l.scale)
		c.rect(x0, y0, x1, y1, col.frame, "swatch-frame")
		c.rect(x0+b, y0+b, x1-b, y1-b, col.bg, "swatch")
		sh := phaseShade(it.Phase, col.fg).boosted()
		c.rect(x0+b, y0+b, x1-b, y1-b, sh.ground, "swatch phase "+it.Phase)
		if sh.pattern != paint.None {
			c.pattern(x0+b, y0+b, x1-b, y1-b, sh.pattern, l.scale, sh.mark)
		}
		if it.Tick > 0 {
			tc := col.fg
			if it.Dim {
				tc = palette.Dim(col.fg, col.bg) // as the app dims a slot's
			}
			half := math.Round(l.swatchH * it.Tick / 2)
			tw := max(b, math.Round(l.swatchW/9))
			mx, my := math.Round((x0+x1)/2-tw/2), math.Round((y0+y1)/2)
			c.ticks([]tick{{x: mx, y0: my - half, y1: my + half}}, tw, tc, "swatch-tick")
		}
		c.text(pl.textX, pl.baseline, it.Label, textStyle{size: l.small, colour: col.fg, class: "legend"})
	}
	c.end()
}
