package widgets

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/base/paint"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
)

// legendItem is one entry of the timeline's legend: a phase's shading,
// exact or the live estimate.
type legendItem struct {
	diagram.LegendItem
	estimate bool
}

// legendItems name the phases in the order a stream goes through them, as
// pictures of the timeline do, then the look of a live stream's estimated
// phases.
var legendItems = func() []legendItem {
	var out []legendItem
	for _, it := range diagram.LegendItems {
		out = append(out, legendItem{LegendItem: it})
	}
	return append(out, legendItem{diagram.LegendItem{Phase: wire.PhasePrompt, Label: "estimate (live)"}, true})
}()

// Legend geometry, in device-independent pixels.
const (
	legendSwatchWidth  = 20
	legendSwatchHeight = 14
	legendGap          = 4  // between a swatch and its name
	legendSpacing      = 10 // between two items
)

// TimelineLegend says what the timeline's shading and ticks mean: each
// phase's name, in the theme's foreground colour, beside a swatch drawn as
// the timeline draws it, in the foreground colour standing for a stream's.
type TimelineLegend struct {
	widget.BaseWidget
}

// NewTimelineLegend makes the legend.
func NewTimelineLegend() *TimelineLegend {
	l := &TimelineLegend{}
	l.ExtendBaseWidget(l)
	return l
}

// CreateRenderer makes a swatch and a name per item.
func (l *TimelineLegend) CreateRenderer() fyne.WidgetRenderer {
	r := &legendRenderer{l: l}
	for _, it := range legendItems {
		r.swatches = append(r.swatches, canvas.NewRaster(func(w, h int) image.Image {
			fg, bg := l.colors()
			return legendSwatch(it, w, h, fg, bg)
		}))
		t := canvas.NewText(it.Label, nil)
		r.texts = append(r.texts, t)
	}
	r.Refresh()
	return r
}

// colors are the theme's foreground and background.
func (l *TimelineLegend) colors() (fg, bg color.NRGBA) {
	th, v := l.Theme(), fyne.CurrentApp().Settings().ThemeVariant()
	fg = color.NRGBAModel.Convert(th.Color(theme.ColorNameForeground, v)).(color.NRGBA)
	bg = color.NRGBAModel.Convert(th.Color(theme.ColorNameBackground, v)).(color.NRGBA)
	return fg, bg
}

// legendSwatch draws item's swatch at w×h pixels, opaque, for a theme of
// foreground fg on background bg, as the pictures' legend draws it: a
// frame (paint.Frame), and inside it the phase's shading made more opaque
// than a lane's (diagram.PhaseLook.Swatch), with the tick of the kind of
// token the phase brings.
func legendSwatch(it legendItem, w, h int, fg, bg color.NRGBA) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	paint.Fill(img, img.Rect, paint.Frame(bg, fg))
	inner := image.Rect(1, 1, w-1, h-1)
	paint.Fill(img, inner, bg)
	diagram.PaintPhase(img, inner, it.Phase, fg, diagram.PhaseLook{Estimate: it.estimate, Swatch: true})
	if it.Tick > 0 {
		c := fg
		if it.Dim {
			c = palette.Dim(fg, bg) // as SlotDimColor dims a slot's
		}
		half, tw := int(float64(h)*it.Tick/2), max(1, w/9)
		paint.Fill(img, image.Rect(w/2-tw/2, h/2-half, w/2-tw/2+tw, h/2+half), c)
	}
	return img
}

type legendRenderer struct {
	l        *TimelineLegend
	swatches []*canvas.Raster
	texts    []*canvas.Text
}

func (r *legendRenderer) Layout(s fyne.Size) {
	var x float32
	for i, sw := range r.swatches {
		sw.Move(fyne.NewPos(x, (s.Height-legendSwatchHeight)/2))
		sw.Resize(fyne.NewSize(legendSwatchWidth, legendSwatchHeight))
		x += legendSwatchWidth + legendGap
		ts := r.texts[i].MinSize()
		r.texts[i].Move(fyne.NewPos(x, (s.Height-ts.Height)/2))
		r.texts[i].Resize(ts)
		x += ts.Width + legendSpacing
	}
}

func (r *legendRenderer) MinSize() fyne.Size {
	var w, h float32 = 0, legendSwatchHeight
	for _, t := range r.texts {
		ts := t.MinSize()
		w += legendSwatchWidth + legendGap + ts.Width + legendSpacing
		h = max(h, ts.Height)
	}
	return fyne.NewSize(w-legendSpacing+theme.Padding(), h+theme.Padding())
}

// Refresh takes the theme's colours and text size.
func (r *legendRenderer) Refresh() {
	th := r.l.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	for _, t := range r.texts {
		t.Color = th.Color(theme.ColorNameForeground, v)
		t.TextSize = th.Size(theme.SizeNameCaptionText)
		t.Refresh()
	}
	for _, sw := range r.swatches {
		sw.Refresh()
	}
	r.Layout(r.l.Size())
}

func (r *legendRenderer) Objects() []fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, 0, 2*len(r.texts))
	for i := range r.texts {
		objs = append(objs, r.swatches[i], r.texts[i])
	}
	return objs
}

func (r *legendRenderer) Destroy() {}
