package widgets

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/base/paint"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
)

// draw renders lanes, phases and ticks at pixel size w×h: the phases'
// shading and the ticks' heights as the pictures of a run draw them
// (diagram.PaintPhase, paint.TickReach).
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
	grid := t.color(theme.ColorNameSeparator)
	column := func(ms float64) int { return int(along(ms, span) * plotW) } // from x0

	laneBounds := func(i int) (top, bottom int) {
		return int(float64(i) * laneH), int(float64(i+1)*laneH) - 1
	}
	// Phases first: they do not overlap.
	for i, l := range t.lanes {
		top, bottom := laneBounds(i)
		c := t.slotColor(l.slot, false)
		for _, p := range l.phases {
			end := p.End
			if end < 0 {
				end = t.now
			}
			r := image.Rect(x0+column(p.Start), top+2, x0+column(end)+1, bottom-1)
			diagram.PaintPhase(img, r, p.Phase, c, diagram.PhaseLook{Estimate: !l.ended})
		}
	}
	// Second lines over the phases.
	step := axisStep(span, plotW/sx)
	for s := 0.0; s <= span; s += step {
		x := x0 + column(s)
		paint.Fill(img, image.Rect(x, 0, x+1, h-axisH), grid)
	}
	// Ticks on top, bucketed per pixel column. A column's tick grows with
	// the tokens in it; the reasoning's ticks are half as tall, in the
	// subdued colour.
	counts := make([]int, int(plotW)+1)
	for i, l := range t.lanes {
		top, bottom := laneBounds(i)
		mid := (top + bottom) / 2
		for _, kind := range []struct {
			ticks []float64
			color color.NRGBA
			scale float64
		}{{l.thinks, t.slotColor(l.slot, true), diagram.ThinkTickScale}, {l.ticks, t.slotColor(l.slot, false), 1}} {
			clear(counts)
			for _, tm := range kind.ticks {
				if px := column(tm); px >= 0 && px < len(counts) {
					counts[px]++
				}
			}
			for px, n := range counts {
				if n == 0 {
					continue
				}
				half := min(int(kind.scale*laneH*paint.TickReach(n)), (bottom-top)/2)
				paint.Fill(img, image.Rect(x0+px, mid-half, x0+px+max(1, int(sx)), mid+half), kind.color)
			}
		}
	}
	return img
}

// color is the colour name of the timeline's theme, on the variant in use.
func (t *Timeline) color(name fyne.ThemeColorName) color.NRGBA {
	c := t.Theme().Color(name, fyne.CurrentApp().Settings().ThemeVariant())
	if c == nil {
		return color.NRGBA{}
	}
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}

// slotColor is the colour of slot in the timeline's theme, subdued with
// dim, as text and tokens have it; a theme without the slot colours (not
// the app's) leaves it to SlotColor and SlotDimColor.
func (t *Timeline) slotColor(slot int, dim bool) color.NRGBA {
	name, fallback := SlotColorName, SlotColor
	if dim {
		name, fallback = SlotDimColorName, SlotDimColor
	}
	if c := t.color(name(slot)); c.A != 0 {
		return c
	}
	return fallback(slot, fyne.CurrentApp().Settings().ThemeVariant())
}

// axisStep picks the milliseconds between axis labels so that they are at
// least 60 px apart on a plot widthPx wide that spans spanMs.
func axisStep(spanMs, widthPx float64) float64 {
	return paint.AxisStep(func(s float64) bool { return widthPx*s/spanMs >= 60 })
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
	fg := t.color(theme.ColorNameForeground)
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
		text(name, t.slotColor(l.slot, false), fyne.NewPos(theme.Padding(), y), true, labelSize)
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
