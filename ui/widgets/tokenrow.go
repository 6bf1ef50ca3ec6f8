package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/base/palette"
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
	colors := r.view.colors.forTheme(r.Theme(), fyne.CurrentApp().Settings().ThemeVariant())
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
		color, pos := colors.of(s), fyne.NewPos(x, 0)
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

// styleColors are the colours of the styles (slot, subdued or not) in one
// theme and variant, each asked of the theme once: a row takes one per
// segment each time it is set, and a theme colour name made and parsed
// back for each cost more than the rest of the segment.
type styleColors struct {
	theme   fyne.Theme
	variant fyne.ThemeVariant
	colors  [2][]color.Color // [dim][slot], nil until asked
	user    [2]color.Color   // [dim]
}

// forTheme is c for theme th and variant v, emptied when either is another
// (themes are compared as interface values: a theme's type must be
// comparable, as pointers are).
func (c *styleColors) forTheme(th fyne.Theme, v fyne.ThemeVariant) *styleColors {
	if c.colors[0] == nil || c.theme != th || c.variant != v {
		*c = styleColors{theme: th, variant: v}
		c.colors[0] = make([]color.Color, len(palette.Slots))
		c.colors[1] = make([]color.Color, len(palette.Slots))
	}
	return c
}

// of is the colour of style s: the theme's colour named by SlotColorName,
// or by SlotDimColorName for a subdued style.
func (c *styleColors) of(s style) color.Color {
	if s&userStyle != 0 {
		dim, name := 0, theme.ColorNameForeground
		if s&dimStyle != 0 {
			dim, name = 1, theme.ColorNamePlaceHolder
		}
		if c.user[dim] == nil {
			c.user[dim] = c.theme.Color(name, c.variant)
		}
		return c.user[dim]
	}
	slot, dim, name := int(s&slotBits)%len(palette.Slots), 0, SlotColorName
	if s&dimStyle != 0 {
		dim, name = 1, SlotDimColorName
	}
	col := c.colors[dim][slot]
	if col == nil {
		col = c.theme.Color(name(slot), c.variant)
		c.colors[dim][slot] = col
	}
	return col
}
