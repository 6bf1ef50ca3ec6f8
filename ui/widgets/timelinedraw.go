package widgets

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
)

// draw renders lanes, phases and ticks at pixel size w×h.
func (t *Timeline) draw(w, h int) image.Image {
	// RGBA (premultiplied) is what the painter uploads as it is; any
	// other image it converts pixel by pixel in every frame. The painter
	// copies the image before draw returns again, so one image serves.
	img := t.img
	if img == nil || img.Rect.Dx() != w || img.Rect.Dy() != h {
		img = image.NewRGBA(image.Rect(0, 0, w, h))
		t.img = img
	} else {
		clear(img.Pix)
	}
	if len(t.lanes) == 0 || w == 0 || h == 0 {
		return img
	}
	size := t.Size()
	sx, sy := float64(w)/float64(size.Width), float64(h)/float64(size.Height)
	x0f, pw := t.plot()
	x0, plotW := int(float64(x0f)*sx), float64(pw)*sx
	axisH := int(timelineAxisHeight * sy)
	laneH := float64(h-axisH) / float64(len(t.lanes))
	span := t.span()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	grid := color.NRGBAModel.Convert(theme.Color(theme.ColorNameSeparator)).(color.NRGBA)

	laneBounds := func(i int) (top, bottom int) {
		return int(float64(i) * laneH), int(float64(i+1)*laneH) - 1
	}
	// Phases first: they do not overlap, so their pixels are set.
	for i, l := range t.lanes {
		top, bottom := laneBounds(i)
		c := SlotColor(l.slot, variant)
		for _, p := range l.phases {
			end := p.End
			if end < 0 {
				end = t.now
			}
			paintPhase(img, image.Rect(x0+int(p.Start/span*plotW), top+2, x0+int(end/span*plotW)+1, bottom-1), p.Phase, c, !l.ended)
		}
	}
	// Second lines over the phases.
	step := axisStep(span, plotW/sx)
	for s := 0.0; s <= span; s += step {
		x := x0 + int(s/span*plotW)
		fillRect(img, x, 0, x+1, h-axisH, grid)
	}
	// Ticks on top, bucketed per pixel column. A column's tick grows with
	// the tokens in it: from 60% of the lane for one to 90% for four or
	// more; the reasoning's ticks are half as tall, in the subdued colour.
	counts := make([]int, int(plotW)+1)
	for i, l := range t.lanes {
		top, bottom := laneBounds(i)
		mid := (top + bottom) / 2
		for _, kind := range []struct {
			ticks []float64
			color color.NRGBA
			scale float64
		}{{l.thinks, SlotDimColor(l.slot, variant), diagram.ThinkTickScale}, {l.ticks, SlotColor(l.slot, variant), 1}} {
			clear(counts)
			for _, tm := range kind.ticks {
				px := int(tm / span * plotW)
				if px >= 0 && px < len(counts) {
					counts[px]++
				}
			}
			for px, n := range counts {
				if n == 0 {
					continue
				}
				half := min(int(kind.scale*laneH*(0.3+0.05*float64(min(n, 4)-1))), (bottom-top)/2)
				setRect(img, x0+px, mid-half, x0+px+max(1, int(sx)), mid+half, kind.color)
			}
		}
	}
	return img
}

// setRect paints a rectangle with c, replacing what was there.
func setRect(img *image.RGBA, x0, y0, x1, y1 int, c color.NRGBA) {
	r := image.Rect(x0, y0, x1, y1).Intersect(img.Rect)
	if r.Empty() {
		return
	}
	p := premultiply(c)
	row := img.PixOffset(r.Min.X, r.Min.Y)
	for x := 0; x < r.Dx(); x++ {
		copy(img.Pix[row+4*x:], []uint8{p.R, p.G, p.B, p.A})
	}
	first := img.Pix[row : row+4*r.Dx()]
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		copy(img.Pix[img.PixOffset(r.Min.X, y):], first)
	}
}

// phaseShade is the fill of a phase in a lane of colour c: its ground and,
// for the phases drawn with a pattern, the pattern's marks.
func phaseShade(phase string, c color.NRGBA) (ground, mark color.NRGBA, p *pattern) {
	switch phase {
	case wire.PhaseWaiting:
		return color.NRGBA{0x80, 0x80, 0x80, 0x30}, color.NRGBA{}, nil
	case wire.PhaseQueued:
		// Grey hatching: held up by another stream, not by this one.
		return color.NRGBA{0x80, 0x80, 0x80, 0x20}, color.NRGBA{0x80, 0x80, 0x80, 0x80}, &hatched
	case wire.PhaseLoading:
		return color.NRGBA{c.R, c.G, c.B, 0x50}, color.NRGBA{}, nil
	case wire.PhasePrompt:
		return color.NRGBA{c.R, c.G, c.B, 0x38}, color.NRGBA{}, nil
	case wire.PhaseThinking:
		// Dotted in the lane's colour: working, but not on the answer.
		return color.NRGBA{c.R, c.G, c.B, 0x18}, color.NRGBA{c.R, c.G, c.B, 0x70}, &dotted
	default: // generating
		return color.NRGBA{c.R, c.G, c.B, 0x20}, color.NRGBA{}, nil
	}
}

// pattern marks, in every rows-th row of pixels, width pixels of every
// period, shifted by shift(y) (in image coordinates, so that a pattern
// stays put from one drawing to the next).
type pattern struct {
	rows, period, width int
	shift               func(y int) int
}

var (
	// hatched is diagonal stripes, two pixels of every six.
	hatched = pattern{rows: 1, period: 6, width: 2, shift: func(y int) int { return y }}
	// dotted is a dot every four pixels of every third row, rows staggered.
	dotted = pattern{rows: 3, period: 4, width: 1, shift: func(y int) int { return 2 * (y / 3 % 2) }}
)

// paintPhase fills r with the shade of phase in a lane of colour c,
// replacing what was there. A pattern costs its marks, not its area. An
// estimate (a live stream's phase, until its end says the exact one) is
// half as opaque, between dashed edges in the lane's colour.
func paintPhase(img *image.RGBA, r image.Rectangle, phase string, c color.NRGBA, estimate bool) {
	ground, mark, pat := phaseShade(phase, c)
	if estimate {
		ground.A /= 2
		mark.A /= 2
		edge := premultiply(color.NRGBA{c.R, c.G, c.B, 0xa0})
		er := r.Intersect(img.Rect)
		for _, y := range []int{er.Min.Y, er.Max.Y - 1} {
			for x := er.Min.X; x < er.Max.X && y >= er.Min.Y; x++ {
				if x%6 < 3 { // 3 px on, 3 off, fixed in the image
					i := img.PixOffset(x, y)
					img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = edge.R, edge.G, edge.B, edge.A
				}
			}
		}
		r = image.Rect(er.Min.X, er.Min.Y+1, er.Max.X, er.Max.Y-1)
	}
	setRect(img, r.Min.X, r.Min.Y, r.Max.X, r.Max.Y, ground)
	if pat == nil {
		return
	}
	r = r.Intersect(img.Rect)
	m := premultiply(mark)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if y%pat.rows != 0 {
			continue
		}
		s := pat.shift(y)
		for x := r.Min.X; x < r.Max.X; {
			if ph := (x + s) % pat.period; ph >= pat.width {
				x += pat.period - ph
				continue
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = m.R, m.G, m.B, m.A
			x++
		}
	}
}

// axisStep picks the seconds between axis labels so that they are at least
// 60 px apart.
func axisStep(spanMs float64, widthPx float64) float64 {
	for _, s := range []float64{100, 250, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000, 600000} {
		if widthPx*s/spanMs >= 60 {
			return s
		}
	}
	return 1_200_000
}

// fillRect draws c over a rectangle.
func fillRect(img *image.RGBA, x0, y0, x1, y1 int, c color.NRGBA) {
	r := image.Rect(x0, y0, x1, y1).Intersect(img.Rect)
	src := premultiply(c)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := img.PixOffset(x, y)
			blend(img.Pix[i:i+4], src)
		}
	}
}

// premultiply turns c into premultiplied RGBA.
func premultiply(c color.NRGBA) color.RGBA {
	return color.RGBAModel.Convert(c).(color.RGBA)
}

// blend draws the premultiplied colour c over the premultiplied pixel p.
func blend(p []uint8, c color.RGBA) {
	keep := 255 - uint32(c.A)
	for k, v := range []uint8{c.R, c.G, c.B, c.A} {
		p[k] = v + uint8((uint32(p[k])*keep+127)/255)
	}
}

// CreateRenderer draws the raster under the labels and the tip.
func (t *Timeline) CreateRenderer() fyne.WidgetRenderer {
	return &timelineRenderer{t: t}
}

type timelineRenderer struct {
	t *Timeline
}

func (r *timelineRenderer) Layout(s fyne.Size) {
	if s == r.t.size && r.t.raster.Size() == s {
		return
	}
	r.t.raster.Resize(s)
	r.t.size = s
	r.rebuildLabels()
}

func (r *timelineRenderer) MinSize() fyne.Size { return r.t.MinSize() }

func (r *timelineRenderer) Refresh() {
	r.rebuildLabels()
	r.t.raster.Refresh()
}

// rebuildLabels places the lane names and the seconds of the axis.
func (r *timelineRenderer) rebuildLabels() {
	t := r.t
	used := 0
	text := func(s string, c color.Color, pos fyne.Position, bold bool, textSize float32) {
		var tx *canvas.Text
		if used < len(t.texts) {
			tx = t.texts[used]
		} else {
			tx = canvas.NewText("", c)
			t.texts = append(t.texts, tx)
		}
		used++
		style := fyne.TextStyle{Bold: bold}
		if tx.Text == s && tx.Color == c && tx.TextSize == textSize && tx.TextStyle == style && tx.Position() == pos {
			return // unchanged: refreshing would draw its texture again
		}
		tx.Text, tx.Color = s, c
		tx.TextSize, tx.TextStyle = textSize, style
		tx.Move(pos)
		tx.Resize(tx.MinSize())
		tx.Refresh()
	}
	size := t.Size()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	fg := theme.Color(theme.ColorNameForeground)
	laneH := t.laneHeight()
	// The lanes' names: in the caption size where the lanes have room for
	// it, smaller where they have not (down to timelineMinLabelSize), and
	// where even that does not fit, a name only where it does not run into
	// the one above: never one over another.
	labelSize := theme.CaptionTextSize()
	labelH := laneLabelHeight(labelSize)
	for labelH > laneH && labelSize > timelineMinLabelSize {
		labelSize = max(labelSize-0.5, timelineMinLabelSize)
		labelH = laneLabelHeight(labelSize)
	}
	lanesH := size.Height - timelineAxisHeight
	free := float32(math.Inf(-1)) // the top of the room left below the last name
	for i, l := range t.lanes {
		y := min(max(float32(i)*laneH+(laneH-labelH)/2, 0), lanesH-labelH)
		if y < free || y < 0 {
			continue
		}
		free = y + labelH
		name := fitLabel(l.label, labelSize, timelineLabelWidth-2*theme.Padding())
		text(name, SlotColor(l.slot, variant), fyne.NewPos(theme.Padding(), y), true, labelSize)
	}
	x0, w := t.plot()
	span := t.span()
	step := axisStep(span, float64(w))
	for s := 0.0; s <= span; s += step {
		label := fmt.Sprintf("%g s", s/1000)
		x := x0 + float32(s/span)*w
		text(label, fg, fyne.NewPos(x-8, size.Height-timelineAxisHeight+3), false, theme.CaptionTextSize())
	}
	for _, tx := range t.texts[used:] {
		if tx.Text != "" {
			tx.Text = ""
			tx.Refresh()
		}
	}
}

func (r *timelineRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.t.raster}
	for _, tx := range r.t.texts {
		objs = append(objs, tx)
	}
	return append(objs, r.t.tipBg, r.t.tip)
}

func (r *timelineRenderer) Destroy() {}
