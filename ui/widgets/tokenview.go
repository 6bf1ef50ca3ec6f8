package widgets

import (
	"image/color"
	"math"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Span is a piece of text in one stream slot's colour.
type Span struct {
	Text string
	Slot int
	// Dim subdues the colour: the span is a stream's reasoning, not its
	// answer.
	Dim bool
	// User draws the span in the text's colour, not the slot's: the
	// user's line in a conversation. Dim, a note about a turn (its
	// figures).
	User bool
}

// TokenView shows a growing text of coloured spans. It is virtualised: the
// text is kept as wrapped rows and only the rows in sight have widgets, so
// an Append costs the same at any length. It follows the newest text unless
// the user has scrolled up (wheel or scroll bar), and resumes following when
// they scroll back to the end. Use it on the Fyne thread only.
//
// It scrolls by itself rather than in a widget.List: its MinSize never
// changes as the text grows. Fyne lays out the parent of an object whose
// MinSize changed while it paints, and a scroll container's layout asks for
// one more frame, so a growing list cost a second full-window paint per
// update.
type TokenView struct {
	widget.BaseWidget

	rows   []row
	width  float32 // wrap width the rows were laid out for
	widths map[rune]float32
	ascii  [128]float32
	size   float32 // text size of the measurements (widths, rowH) and the rows
	rowH   float32
	runes  int

	offset float32 // scrolled, from the top of the text
	follow bool
	// rowWidgets show the rows in sight: row id shows in
	// rowWidgets[id%len(rowWidgets)], so scrolling by a row rebinds one
	// widget, not all.
	rowWidgets []*tokenRow
	bar        *scrollBar
	focus      *canvas.Rectangle // outline while the view has the keyboard
	objs       []fyne.CanvasObject
	// colors are the rows' colours in the theme last drawn with.
	colors styleColors
}

// rowGap is the space between two rows.
const rowGap = 2

// NewTokenView returns an empty view.
func NewTokenView() *TokenView {
	v := &TokenView{rows: []row{{}}, follow: true}
	v.bar = newScrollBar(v)
	v.focus = canvas.NewRectangle(color.Transparent)
	v.focus.StrokeWidth = 1
	v.focus.Hide()
	v.objs = []fyne.CanvasObject{v.bar, v.focus}
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer shows the rows in sight and the scroll bar.
func (v *TokenView) CreateRenderer() fyne.WidgetRenderer { return &tokenViewRenderer{v: v} }

// MinSize is one row, whatever the length of the text.
func (v *TokenView) MinSize() fyne.Size {
	return fyne.NewSize(theme.ScrollBarSize()*2, v.pitch()+rowGap)
}

// Resize re-wraps the text when the width changes.
func (v *TokenView) Resize(s fyne.Size) {
	if s == v.Size() {
		return
	}
	v.BaseWidget.Resize(s)
	v.measure()
	if w := v.wrapWidth(); w != v.width {
		v.rewrap(w)
	}
	v.place(true)
}

// Scrolled scrolls by a mouse wheel or touchpad.
func (v *TokenView) Scrolled(ev *fyne.ScrollEvent) {
	v.ScrollToOffset(v.offset - ev.Scrolled.DY)
}

// ScrollToOffset shows the text from offset (clamped) down; the view follows
// new text when that is the end.
func (v *TokenView) ScrollToOffset(offset float32) {
	v.offset = min(max(offset, 0), v.maxOffset())
	v.follow = v.offset >= v.maxOffset()-1
	v.place(false)
}

// Tapped takes the keyboard, for scrolling with keys.
func (v *TokenView) Tapped(*fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(v); c != nil {
		c.Focus(v)
	}
}

// FocusGained outlines the view.
func (v *TokenView) FocusGained() {
	v.focus.StrokeColor = v.Theme().Color(theme.ColorNameFocus, fyne.CurrentApp().Settings().ThemeVariant())
	v.focus.Show()
	v.focus.Refresh()
}

// FocusLost removes the outline.
func (v *TokenView) FocusLost() { v.focus.Hide() }

// TypedRune does nothing: the view is read-only.
func (v *TokenView) TypedRune(rune) {}

// TypedKey scrolls: arrows by a row, Page Up and Page Down by a view less
// a row, Home to the start, End to the end (following again).
func (v *TokenView) TypedKey(k *fyne.KeyEvent) {
	page := max(v.Size().Height-v.pitch(), v.pitch())
	switch k.Name {
	case fyne.KeyUp:
		v.ScrollToOffset(v.offset - v.pitch())
	case fyne.KeyDown:
		v.ScrollToOffset(v.offset + v.pitch())
	case fyne.KeyPageUp:
		v.ScrollToOffset(v.offset - page)
	case fyne.KeyPageDown:
		v.ScrollToOffset(v.offset + page)
	case fyne.KeyHome:
		v.ScrollToOffset(0)
	case fyne.KeyEnd:
		v.ScrollToBottom()
	}
}

// Following reports whether the view scrolls to new text.
func (v *TokenView) Following() bool { return v.follow }

// ScrollOffset is how far the view is scrolled from the top.
func (v *TokenView) ScrollOffset() float32 { return v.offset }

// ScrollToBottom shows the end of the text and follows it.
func (v *TokenView) ScrollToBottom() { v.ScrollToOffset(v.maxOffset()) }

// WholeRows is the height, up to h, of whole rows of the text and no more
// than all of them: a view that tall, scrolled to the end, shows no row
// cut at its top.
func (v *TokenView) WholeRows(h float32) float32 {
	h = min(h, v.contentHeight())
	return rowGap + float32(int((h-rowGap)/v.pitch()))*v.pitch()
}

// pitch is the distance from one row to the next.
func (v *TokenView) pitch() float32 { return v.rowHeight() + rowGap }

func (v *TokenView) contentHeight() float32 {
	return float32(len(v.rows))*v.pitch() + rowGap
}

func (v *TokenView) maxOffset() float32 {
	return max(v.contentHeight()-v.Size().Height, 0)
}

// wrapWidth is the width rows may take: the view less padding and the
// scroll bar.
func (v *TokenView) wrapWidth() float32 {
	w := v.Size().Width - 2*theme.Padding() - theme.ScrollBarSize()
	return max(w, 0)
}

// Append adds spans at the end and scrolls to them when following.
func (v *TokenView) Append(spans ...Span) {
	if len(spans) == 0 {
		return
	}
	v.measure()
	before := len(v.rows)
	for _, sp := range spans {
		v.appendText(sp.Text, styleOf(sp))
	}
	// Only the last row of before can have changed; the new rows are bound
	// as they come into sight. place scrolls to the end when following.
	if s := v.widgetOf(before - 1); s != nil {
		s.set(&v.rows[before-1])
	}
	v.place(false)
}

// Clear empties the view.
func (v *TokenView) Clear() {
	v.rows = []row{{}}
	v.runes = 0
	v.offset = 0
	v.follow = true
	v.place(true)
}

// Text returns the text shown, with the newlines of the original (not
// those of wrapping).
func (v *TokenView) Text() string {
	var b strings.Builder
	b.Grow(v.runes)
	for i, r := range v.rows {
		b.Write(r.text)
		if r.hard && i < len(v.rows)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Spans returns the text as spans, adjacent spans of one slot and
// dimness merged.
func (v *TokenView) Spans() []Span {
	var out []Span
	var b strings.Builder
	var cur style
	flush := func() {
		if b.Len() > 0 {
			out = append(out, cur.span(b.String()))
			b.Reset()
		}
	}
	for i, r := range v.rows {
		r.segments(func(text []byte, s style) {
			if s != cur {
				flush()
				cur = s
			}
			b.Write(text)
		})
		if r.hard && i < len(v.rows)-1 {
			if r.nl != cur {
				flush()
				cur = r.nl
			}
			b.WriteByte('\n')
		}
	}
	flush()
	return out
}

// widgetOf is the widget showing row id, if one does.
func (v *TokenView) widgetOf(id int) *tokenRow {
	if len(v.rowWidgets) == 0 {
		return nil
	}
	if s := v.rowWidgets[id%len(v.rowWidgets)]; s.id == id {
		return s
	}
	return nil
}

// place binds and positions the row widgets for the rows in sight, and the
// scroll bar. With rebind every row in sight is set again (after a rewrap,
// a theme change or a new size).
func (v *TokenView) place(rebind bool) {
	v.measure()
	size := v.Size()
	pitch := v.pitch()
	n := int(size.Height/pitch) + 2
	if size.Height <= 0 {
		n = 0
	}
	if n != len(v.rowWidgets) {
		for len(v.rowWidgets) < n {
			v.rowWidgets = append(v.rowWidgets, newTokenRow(v))
		}
		v.rowWidgets = v.rowWidgets[:n]
		v.objs = v.objs[:0]
		for _, s := range v.rowWidgets {
			s.id = -1
			v.objs = append(v.objs, s)
		}
		v.objs = append(v.objs, v.bar, v.focus)
		canvas.Refresh(v) // row widgets came or went
	}
	if v.follow {
		v.offset = v.maxOffset() // also when the view got shorter
	}
	v.offset = min(max(v.offset, 0), v.maxOffset())
	v.follow = v.offset >= v.maxOffset()-1
	first := int(v.offset / pitch)
	last := int(math.Ceil(float64((v.offset + size.Height - rowGap) / pitch))) // exclusive
	last = min(last, first+n, len(v.rows))
	pad := theme.Padding()
	rowSize := fyne.NewSize(max(size.Width-pad-theme.ScrollBarSize(), 0), v.rowHeight())
	for _, s := range v.rowWidgets {
		if s.id < first || s.id >= last {
			s.id = -1
		}
	}
	for id := first; id < last; id++ {
		s := v.rowWidgets[id%n]
		if s.id != id || rebind {
			s.id = id
			s.set(&v.rows[id])
		}
		s.Resize(rowSize)
		s.Move(fyne.NewPos(pad, rowGap+float32(id)*pitch-v.offset))
		if !s.Visible() {
			s.Show()
		}
	}
	for _, s := range v.rowWidgets {
		if s.id < 0 && s.Visible() {
			s.Hide()
		}
	}
	v.bar.place(size, v.contentHeight(), v.offset)
	if v.focus.Size() != size {
		v.focus.Resize(size)
	}
}

type tokenViewRenderer struct{ v *TokenView }

func (r *tokenViewRenderer) Layout(fyne.Size)             { r.v.place(false) }
func (r *tokenViewRenderer) MinSize() fyne.Size           { return r.v.MinSize() }
func (r *tokenViewRenderer) Objects() []fyne.CanvasObject { return r.v.objs }
func (r *tokenViewRenderer) Destroy()                     {}

// Refresh draws the rows again, after a theme change (place lays the text
// out again when the text size changed).
func (r *tokenViewRenderer) Refresh() {
	v := r.v
	v.bar.Refresh()
	if v.focus.Visible() {
		v.FocusGained() // the outline in the theme's colour
	}
	v.place(true)
}
