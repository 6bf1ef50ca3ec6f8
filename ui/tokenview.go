package ui

import (
	"bytes"
	"image/color"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Run is a piece of text in one stream slot's colour.
type Run struct {
	Text string
	Slot int
}

// row is one visual (wrapped) line: its text in UTF-8 and where each
// slot's run starts. A row costs a byte per ASCII character, not a struct
// per rune: the views hold every token of a run.
type row struct {
	text  []byte
	spans []span // in order; the first starts at 0 when text is not empty
	width float32
	hard  bool  // ends with a newline in the text
	nl    uint8 // the slot of that newline
}

// span starts the run of one slot at byte at of a row's text.
type span struct {
	at   int32
	slot uint8
}

// segments calls f with each run of one slot in the row.
func (r *row) segments(f func(text []byte, slot int)) {
	for i, sp := range r.spans {
		end := len(r.text)
		if i+1 < len(r.spans) {
			end = int(r.spans[i+1].at)
		}
		f(r.text[sp.at:end], int(sp.slot))
	}
}

// TokenView shows a growing text of coloured runs. It is virtualised: the
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
	// slots are the row widgets: row id shows in slots[id%len(slots)], so
	// scrolling by a row rebinds one widget, not all.
	slots []*tokenRow
	bar   *scrollBar
	focus *canvas.Rectangle // outline while the view has the keyboard
	objs  []fyne.CanvasObject
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

// ScrollToBottom shows the end of the text and follows it.
func (v *TokenView) ScrollToBottom() { v.ScrollToOffset(v.maxOffset()) }

// ScrollOffset is how far the view is scrolled from the top.
func (v *TokenView) ScrollOffset() float32 { return v.offset }

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

// Append adds runs at the end and scrolls to them when following.
func (v *TokenView) Append(runs ...Run) {
	if len(runs) == 0 {
		return
	}
	v.measure()
	before := len(v.rows)
	for _, r := range runs {
		v.appendText(r.Text, r.Slot)
	}
	// Only the last row of before can have changed; the new rows are bound
	// as they come into sight. place scrolls to the end when following.
	if s := v.slotOf(before - 1); s != nil {
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

// Runs returns the text as runs, adjacent runs of one slot merged.
func (v *TokenView) Runs() []Run {
	var out []Run
	var b strings.Builder
	slot := -1
	flush := func() {
		if b.Len() > 0 {
			out = append(out, Run{Text: b.String(), Slot: slot})
			b.Reset()
		}
	}
	for i, r := range v.rows {
		r.segments(func(text []byte, s int) {
			if s != slot {
				flush()
				slot = s
			}
			b.Write(text)
		})
		if r.hard && i < len(v.rows)-1 {
			if int(r.nl) != slot {
				flush()
				slot = int(r.nl)
			}
			b.WriteByte('\n')
		}
	}
	flush()
	return out
}

// RowCount is the number of visual rows.
func (v *TokenView) RowCount() int { return len(v.rows) }

// Following reports whether the view scrolls to new text.
func (v *TokenView) Following() bool { return v.follow }

// appendText lays out text at the end, wrapping only the last row.
func (v *TokenView) appendText(text string, slot int) {
	for _, r := range text {
		switch {
		case r == '\n':
			v.rows[len(v.rows)-1].hard = true
			v.rows[len(v.rows)-1].nl = uint8(slot)
			v.rows = append(v.rows, row{})
			continue
		case r == '\r':
			continue // a CRLF's CR; a lone CR would rewrite the line on a terminal
		case r == '\t':
			for range 4 {
				v.put(' ', slot)
			}
			continue
		case unicode.IsControl(r):
			r = '\uFFFD'
		}
		v.put(r, slot)
	}
}

// put adds one rune to the last row, wrapping at the last space when the
// row is full (or mid-word when it has no space).
func (v *TokenView) put(r rune, slot int) {
	v.runes++
	w := v.runeWidth(r)
	last := &v.rows[len(v.rows)-1]
	// A space may overhang the edge: rows end at spaces and none starts
	// with one.
	if r != ' ' && v.width > 0 && last.width+w > v.width && len(last.text) > 0 {
		cut := len(last.text)
		if i := bytes.LastIndexByte(last.text[1:], ' '); i >= 0 {
			cut = i + 2
		}
		moved := row{text: append([]byte(nil), last.text[cut:]...)}
		var kept []span
		for _, sp := range last.spans {
			switch {
			case int(sp.at) < cut:
				kept = append(kept, sp)
			default:
				moved.spans = append(moved.spans, span{at: sp.at - int32(cut), slot: sp.slot})
			}
		}
		if len(moved.text) > 0 && (len(moved.spans) == 0 || moved.spans[0].at > 0) {
			// The run that crosses the cut goes on in the new row.
			moved.spans = append([]span{{at: 0, slot: kept[len(kept)-1].slot}}, moved.spans...)
		}
		last.text = append([]byte(nil), last.text[:cut]...) // no spare capacity kept
		last.spans = kept
		last.width = v.textWidth(last.text)
		moved.width = v.textWidth(moved.text)
		v.rows = append(v.rows, moved)
		last = &v.rows[len(v.rows)-1]
	}
	if n := len(last.spans); n == 0 || last.spans[n-1].slot != uint8(slot) {
		last.spans = append(last.spans, span{at: int32(len(last.text)), slot: uint8(slot)})
	}
	last.text = utf8.AppendRune(last.text, r)
	last.width += w
}

// rewrap lays the whole text out again for a new width.
func (v *TokenView) rewrap(width float32) {
	runs := v.Runs()
	v.rows = []row{{}}
	v.runes = 0
	v.width = width
	for _, r := range runs {
		v.appendText(r.Text, r.Slot)
	}
}

// slotOf is the widget showing row id, if one does.
func (v *TokenView) slotOf(id int) *tokenRow {
	if len(v.slots) == 0 {
		return nil
	}
	if s := v.slots[id%len(v.slots)]; s.id == id {
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
	if n != len(v.slots) {
		for len(v.slots) < n {
			v.slots = append(v.slots, newTokenRow(v))
		}
		v.slots = v.slots[:n]
		v.objs = v.objs[:0]
		for _, s := range v.slots {
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
	for _, s := range v.slots {
		if s.id < first || s.id >= last {
			s.id = -1
		}
	}
	for id := first; id < last; id++ {
		s := v.slots[id%n]
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
	for _, s := range v.slots {
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

// scrollBar is the track along the right edge of the view, with a thumb
// that shows which part of the text is in sight. Dragging scrolls; a click
// above or below the thumb scrolls by a page. The thumb is thin until the
// pointer is over the track, like Fyne's own.
type scrollBar struct {
	widget.BaseWidget
	view    *TokenView
	thumb   *canvas.Rectangle
	hovered bool
	ratio   float32 // text height per track height
	thumbY  float32
	thumbH  float32
}

func newScrollBar(v *TokenView) *scrollBar {
	b := &scrollBar{view: v, thumb: canvas.NewRectangle(color.Transparent)}
	b.ExtendBaseWidget(b)
	b.Hide()
	return b
}

// place puts the track along the right edge of a view of size, for a text
// of height content scrolled by offset.
func (b *scrollBar) place(size fyne.Size, content, offset float32) {
	if content <= size.Height || size.Height <= 0 {
		if b.Visible() {
			b.Hide()
		}
		return
	}
	w := theme.ScrollBarSize()
	b.ratio = content / size.Height
	b.thumbH = max(size.Height/b.ratio, w)
	b.thumbY = offset / (content - size.Height) * (size.Height - b.thumbH)
	b.Move(fyne.NewPos(size.Width-w, 0))
	b.Resize(fyne.NewSize(w, size.Height))
	if !b.Visible() {
		b.Show()
	}
	b.layoutThumb()
}

func (b *scrollBar) layoutThumb() {
	w := theme.ScrollBarSmallSize()
	if b.hovered {
		w = b.Size().Width
	}
	b.thumb.Move(fyne.NewPos(b.Size().Width-w, b.thumbY))
	b.thumb.Resize(fyne.NewSize(w, b.thumbH))
}

func (b *scrollBar) Dragged(ev *fyne.DragEvent) {
	b.view.ScrollToOffset(b.view.offset + ev.Dragged.DY*b.ratio)
}

func (b *scrollBar) DragEnd() {}

// Tapped scrolls by a page towards the click, when it is beside the thumb.
func (b *scrollBar) Tapped(ev *fyne.PointEvent) {
	v := b.view
	page := max(v.Size().Height-v.pitch(), v.pitch())
	switch {
	case ev.Position.Y < b.thumbY:
		v.ScrollToOffset(v.offset - page)
	case ev.Position.Y > b.thumbY+b.thumbH:
		v.ScrollToOffset(v.offset + page)
	}
}

func (b *scrollBar) MouseIn(*desktop.MouseEvent) {
	b.hovered = true
	b.layoutThumb()
}

func (b *scrollBar) MouseMoved(*desktop.MouseEvent) {}

func (b *scrollBar) MouseOut() {
	b.hovered = false
	b.layoutThumb()
}

func (b *scrollBar) CreateRenderer() fyne.WidgetRenderer { return &scrollBarRenderer{b: b} }

type scrollBarRenderer struct{ b *scrollBar }

func (r *scrollBarRenderer) Layout(fyne.Size) { r.b.layoutThumb() }
func (r *scrollBarRenderer) MinSize() fyne.Size {
	return fyne.NewSize(theme.ScrollBarSize(), theme.ScrollBarSize())
}
func (r *scrollBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.thumb}
}
func (r *scrollBarRenderer) Destroy() {}
func (r *scrollBarRenderer) Refresh() {
	r.b.thumb.FillColor = r.b.Theme().Color(theme.ColorNameScrollBar, fyne.CurrentApp().Settings().ThemeVariant())
	r.b.thumb.CornerRadius = theme.ScrollBarSmallSize()
	r.b.thumb.Refresh()
}

// measure makes the measurements (row height, rune widths) those of the
// theme's text size, once per update rather than per rune; when the size
// changed, it lays the text out again.
func (v *TokenView) measure() {
	size := theme.TextSize()
	if size == v.size {
		return
	}
	v.size = size
	v.ascii = [128]float32{}
	v.widths = nil
	v.rowH = fyne.MeasureText("M", size, fyne.TextStyle{Monospace: true}).Height
	if v.runes > 0 {
		v.rewrap(v.width)
	}
}

// rowHeight is the height of a row of monospace text.
func (v *TokenView) rowHeight() float32 {
	v.measure()
	return v.rowH
}

// runeWidth measures a rune in the monospace font at the size measure set,
// cached.
func (v *TokenView) runeWidth(r rune) float32 {
	if r < 128 {
		if w := v.ascii[r]; w > 0 {
			return w
		}
		w := fyne.MeasureText(string(r), v.size, fyne.TextStyle{Monospace: true}).Width
		v.ascii[r] = w
		return w
	}
	if w, ok := v.widths[r]; ok {
		return w
	}
	if v.widths == nil {
		v.widths = map[rune]float32{}
	}
	w := fyne.MeasureText(string(r), v.size, fyne.TextStyle{Monospace: true}).Width
	v.widths[r] = w
	return w
}

// textWidth is the width of UTF-8 text in the monospace font.
func (v *TokenView) textWidth(text []byte) float32 {
	var w float32
	for _, r := range string(text) {
		w += v.runeWidth(r)
	}
	return w
}

// tokenRow draws one row as a canvas.Text per run of one slot.
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
	src.segments(func(seg []byte, slot int) {
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
		color, pos := th.Color(SlotColorName(slot), variant), fyne.NewPos(x, 0)
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
