package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// tokenRow draws one row as a canvas.Text per span of one slot.
type tokenRow struct {
	widget.BaseWidget
	view  *TokenView
	id    int // the row shown, -1 when none
	texts []*canvas.Text
	used  int
	objs  []fyne.CanvasObject
}

func newTokenRow(v *TokenView) *tokenRow {
	r := &tokenRow{view: v, id: -1}
	r.ExtendBaseWidget(r)
	return r
}

// set shows a row, reusing the row's text objects and refreshing only
// those that changed (a refreshed text is drawn again).
func (r *tokenRow) set(src *row) {
	th := r.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	size := r.view.size
	height := r.MinSize().Height
	wasUsed := r.used
	r.used = 0
	var x float32
	src.segments(func(seg []byte, s style) {
		var t *canvas.Text
		if r.used < len(r.texts) {
			t = r.texts[r.used]
		} else {
			t = canvas.NewText("", nil)
			t.TextStyle = fyne.TextStyle{Monospace: true}
			r.texts = append(r.texts, t)
		}
		r.used++
		w := r.view.textWidth(seg)
		name := SlotColorName(int(s &^ dimStyle))
		if s&dimStyle != 0 {
			name = SlotDimColorName(int(s &^ dimStyle))
		}
		color, pos := th.Color(name, variant), fyne.NewPos(x, 0)
		if t.Text != string(seg) || t.Color != color || t.TextSize != size || t.Position() != pos || t.Size().Height != height {
			t.Text, t.Color, t.TextSize = string(seg), color, size
			t.Move(pos)
			t.Resize(fyne.NewSize(w, height))
			t.Refresh()
		}
		x += w
	})
	r.objs = r.objs[:0]
	for _, t := range r.texts[:r.used] {
		r.objs = append(r.objs, t)
	}
	if r.used != wasUsed {
		canvas.Refresh(r) // texts came or went
	}
}

func (r *tokenRow) MinSize() fyne.Size {
	return fyne.NewSize(0, r.view.rowHeight())
}

func (r *tokenRow) CreateRenderer() fyne.WidgetRenderer { return &tokenRowRenderer{row: r} }

type tokenRowRenderer struct{ row *tokenRow }

func (rr *tokenRowRenderer) Layout(fyne.Size)             {}
func (rr *tokenRowRenderer) MinSize() fyne.Size           { return rr.row.MinSize() }
func (rr *tokenRowRenderer) Refresh()                     {}
func (rr *tokenRowRenderer) Objects() []fyne.CanvasObject { return rr.row.objs }
func (rr *tokenRowRenderer) Destroy()                     {}
