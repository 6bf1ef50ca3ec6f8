package ui

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
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
// text is kept as wrapped rows and only the visible rows have widgets (a
// widget.List), so an Append costs the same at any length. It follows the
// newest text unless the user has scrolled up, and resumes following when
// they scroll back to the end. Use it on the Fyne thread only.
type TokenView struct {
	widget.BaseWidget

	list    *widget.List
	rows    []row
	width   float32 // wrap width the rows were laid out for
	widths  map[rune]float32
	ascii   [128]float32
	size    float32 // text size the widths were measured at
	rowSize float32 // text size rowH was measured at
	rowH    float32
	follow  bool
	bottom  float32 // scroll offset after the last ScrollToBottom
	content fyne.CanvasObject
	runes   int
	// bound are the row widgets by the row they show, as the list last
	// bound them: appends update these in place instead of refreshing the
	// whole list, which would repaint every visible row.
	bound map[widget.ListItemID]*tokenRow
}

// NewTokenView returns an empty view.
func NewTokenView() *TokenView {
	v := &TokenView{rows: []row{{}}, follow: true, bound: map[widget.ListItemID]*tokenRow{}}
	v.list = widget.NewList(
		func() int { return len(v.rows) },
		func() fyne.CanvasObject { return newTokenRow(v) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			r := o.(*tokenRow)
			if v.bound[r.id] == r {
				delete(v.bound, r.id)
			}
			r.id = id
			v.bound[id] = r
			if id < len(v.rows) {
				r.set(&v.rows[id])
			}
		},
	)
	v.list.HideSeparators = true
	v.content = container.NewThemeOverride(v.list, textViewTheme{Theme: newAppTheme()})
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer shows the list.
func (v *TokenView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.content)
}

// Resize re-wraps the text when the width changes.
func (v *TokenView) Resize(s fyne.Size) {
	v.BaseWidget.Resize(s)
	if w := v.wrapWidth(); w != v.width {
		v.rewrap(w)
	}
}

// wrapWidth is the width rows may take: the view less the list's scroll bar
// and padding.
func (v *TokenView) wrapWidth() float32 {
	w := v.Size().Width - 2*theme.Padding() - theme.ScrollBarSize()
	return max(w, 0)
}

// Append adds runs at the end and scrolls to them when following.
func (v *TokenView) Append(runs ...Run) {
	if len(runs) == 0 {
		return
	}
	follow := v.following()
	v.layOut(runs, follow)
	v.follow = follow
}

// following tells whether the user is at the end of the text: they have
// not scrolled up since the last automatic scroll.
func (v *TokenView) following() bool {
	return v.list.GetScrollOffset() >= v.bottom-1
}

// Clear empties the view.
func (v *TokenView) Clear() {
	v.rows = []row{{}}
	v.runes = 0
	v.bottom = 0
	v.follow = true
	clear(v.bound)
	v.list.Refresh()
	v.list.ScrollToTop()
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
	clear(v.bound)
	v.list.Refresh()
	v.layOut(runs, v.follow)
}

// boundKeep is how many rows before the end the view keeps track of row
// widgets for; appends change only the last row and add new ones.
const boundKeep = 256

// layOut appends runs to the rows, updates the rows on screen that changed
// and, when following, scrolls to the end.
func (v *TokenView) layOut(runs []Run, follow bool) {
	before := len(v.rows)
	for _, r := range runs {
		v.appendText(r.Text, r.Slot)
	}
	// Only the last row of before and the new rows can have changed.
	first := before - 1
	for id := first; id < len(v.rows); id++ {
		if r, ok := v.bound[id]; ok {
			r.set(&v.rows[id])
		}
	}
	if len(v.bound) > 2*boundKeep {
		for id := range v.bound {
			if id < first-boundKeep {
				delete(v.bound, id)
			}
		}
	}
	if follow {
		// Scrolling lays out the list for its new length and binds the
		// rows that come into view.
		v.list.ScrollToBottom()
		v.bottom = v.list.GetScrollOffset()
	} else if len(v.rows) != before {
		v.list.Refresh() // new rows out of sight: the scroll bar must learn the length
	}
}

func (v *TokenView) textSize() float32 { return theme.TextSize() }

// rowHeight is the height of a row of monospace text, cached.
func (v *TokenView) rowHeight() float32 {
	if size := v.textSize(); size != v.rowSize {
		v.rowSize = size
		v.rowH = fyne.MeasureText("M", size, fyne.TextStyle{Monospace: true}).Height
	}
	return v.rowH
}

// runeWidth measures a rune in the monospace font, cached.
func (v *TokenView) runeWidth(r rune) float32 {
	if size := v.textSize(); size != v.size {
		v.size = size
		v.ascii = [128]float32{}
		v.widths = nil
	}
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
	id    widget.ListItemID // the row shown, -1 before the list binds one
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
	size := r.view.textSize()
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
