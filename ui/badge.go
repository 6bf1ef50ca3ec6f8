package ui

import (
	"image/color"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// paneBadge is a pane's number on its colour. The number is the pane's
// slot, counted from 1: it stays with the pane while others close, and the
// timeline, the stats and the wire name the stream by it.
type paneBadge struct {
	widget.BaseWidget
	app  *App
	slot int
}

func newPaneBadge(a *App, slot int) *paneBadge {
	b := &paneBadge{app: a, slot: slot}
	b.ExtendBaseWidget(b)
	return b
}

// paneNumber is how a pane in slot is named: "3".
func paneNumber(slot int) string { return strconv.Itoa(slot + 1) }

// streamLabel names a stream by its pane's number and its model: three
// panes of one model stay apart.
func streamLabel(slot int, model string) string { return paneNumber(slot) + " " + model }

func (b *paneBadge) CreateRenderer() fyne.WidgetRenderer {
	r := &badgeRenderer{b: b, bg: canvas.NewRectangle(color.Transparent), text: canvas.NewText(paneNumber(b.slot), color.Black)}
	r.text.TextStyle = fyne.TextStyle{Bold: true}
	r.text.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type badgeRenderer struct {
	b    *paneBadge
	bg   *canvas.Rectangle
	text *canvas.Text
}

func (r *badgeRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	ts := r.text.MinSize()
	r.text.Move(fyne.NewPos(0, (s.Height-ts.Height)/2))
	r.text.Resize(fyne.NewSize(s.Width, ts.Height))
}

func (r *badgeRenderer) MinSize() fyne.Size {
	side := max(r.text.MinSize().Height, theme.IconInlineSize()+4)
	return fyne.NewSize(side, side)
}

// Refresh takes the slot's colour of the current theme, and the number in
// black or white, whichever reads better on it.
func (r *badgeRenderer) Refresh() {
	c := widgets.SlotColor(r.b.slot, r.b.app.variant())
	r.bg.FillColor = c
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.text.TextSize = theme.Size(theme.SizeNameCaptionText) + 1
	r.text.Color = color.Black
	if palette.Contrast(c, color.NRGBA{A: 0xff}) < palette.Contrast(c, color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}) {
		r.text.Color = color.White
	}
	r.bg.Refresh()
	r.text.Refresh()
}

func (r *badgeRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.text} }

func (r *badgeRenderer) Destroy() {}
