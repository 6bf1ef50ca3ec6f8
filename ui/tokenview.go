package ui

import (
	"strings"
	"unicode"

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

// cell is one rune of a row with its slot.
type cell struct {
	r    rune
	slot int
}

// row is one visual (wrapped) line.
type row struct {
	cells []cell
	width float32
	hard  bool // ends with a newline in the text
	nl    int  // the slot of that newline
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
	follow  bool
	bottom  float32 // scroll offset after the last ScrollToBottom
	content fyne.CanvasObject
	runes   int
}

// NewTokenView returns an empty view.
func NewTokenView() *TokenView {
	v := &TokenView{rows: []row{{}}, follow: true}
	v.list = widget.NewList(
		func() int { return len(v.rows) },
		func() fyne.CanvasObject { return newTokenRow(v) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.rows) {
				o.(*tokenRow).set(v.rows[id].cells)
			}
		},
	)
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
	v.list.Refresh()
	v.list.ScrollToTop()
}

// Text returns the text shown, with the newlines of the original (not
// those of wrapping).
func (v *TokenView) Text() string {
	var b strings.Builder
	b.Grow(v.runes)
	for i, r := range v.rows {
		for _, c := range r.cells {
			b.WriteRune(c.r)
		}
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
		for _, c := range r.cells {
			if c.slot != slot {
				flush()
				slot = c.slot
			}
			b.WriteRune(c.r)
		}
		if r.hard && i < len(v.rows)-1 {
			if r.nl != slot {
				flush()
				slot = r.nl
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
			v.rows[len(v.rows)-1].nl = slot
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
	if r != ' ' && v.width > 0 && last.width+w > v.width && len(last.cells) > 0 {
		cut := len(last.cells)
		for i := len(last.cells) - 1; i > 0; i-- {
			if last.cells[i].r == ' ' {
				cut = i + 1
				break
			}
		}
		moved := append([]cell(nil), last.cells[cut:]...)
		last.cells = last.cells[:cut:cut]
		last.width = v.cellsWidth(last.cells)
		v.rows = append(v.rows, row{cells: moved, width: v.cellsWidth(moved)})
		last = &v.rows[len(v.rows)-1]
	}
	last.cells = append(last.cells, cell{r, slot})
	last.width += w
}

// rewrap lays the whole text out again for a new width.
func (v *TokenView) rewrap(width float32) {
	runs := v.Runs()
	v.rows = []row{{}}
	v.runes = 0
	v.width = width
	v.layOut(runs, v.follow)
}

// layOut appends runs to the rows, refreshes the visible rows and, when
// following, scrolls to the end.
func (v *TokenView) layOut(runs []Run, follow bool) {
	for _, r := range runs {
		v.appendText(r.Text, r.Slot)
	}
	v.list.Refresh()
	if follow {
		v.list.ScrollToBottom()
		v.bottom = v.list.GetScrollOffset()
	}
}

func (v *TokenView) textSize() float32 { return theme.TextSize() }

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

func (v *TokenView) cellsWidth(cs []cell) float32 {
	var w float32
	for _, c := range cs {
		w += v.runeWidth(c.r)
	}
	return w
}

// tokenRow draws one row as a canvas.Text per run of one slot.
type tokenRow struct {
	widget.BaseWidget
	view  *TokenView
	texts []*canvas.Text
	used  int
	objs  []fyne.CanvasObject
}

func newTokenRow(v *TokenView) *tokenRow {
	r := &tokenRow{view: v}
	r.ExtendBaseWidget(r)
	return r
}

// set shows cells, reusing the row's text objects.
func (r *tokenRow) set(cells []cell) {
	th := r.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	r.used = 0
	var x float32
	for i := 0; i < len(cells); {
		j := i
		var w float32
		for j < len(cells) && cells[j].slot == cells[i].slot {
			w += r.view.runeWidth(cells[j].r)
			j++
		}
		var t *canvas.Text
		if r.used < len(r.texts) {
			t = r.texts[r.used]
		} else {
			t = canvas.NewText("", nil)
			t.TextStyle = fyne.TextStyle{Monospace: true}
			r.texts = append(r.texts, t)
		}
		r.used++
		s := make([]rune, j-i)
		for k := i; k < j; k++ {
			s[k-i] = cells[k].r
		}
		t.Text = string(s)
		t.Color = th.Color(SlotColorName(cells[i].slot), variant)
		t.TextSize = r.view.textSize()
		t.Move(fyne.NewPos(x, 0))
		t.Resize(fyne.NewSize(w, t.MinSize().Height))
		x += w
		i = j
	}
	r.objs = r.objs[:0]
	for _, t := range r.texts[:r.used] {
		r.objs = append(r.objs, t)
		t.Refresh()
	}
	r.Refresh()
}

func (r *tokenRow) MinSize() fyne.Size {
	h := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height
	return fyne.NewSize(0, h)
}

func (r *tokenRow) CreateRenderer() fyne.WidgetRenderer { return &tokenRowRenderer{row: r} }

type tokenRowRenderer struct{ row *tokenRow }

func (rr *tokenRowRenderer) Layout(fyne.Size)             {}
func (rr *tokenRowRenderer) MinSize() fyne.Size           { return rr.row.MinSize() }
func (rr *tokenRowRenderer) Refresh()                     {}
func (rr *tokenRowRenderer) Objects() []fyne.CanvasObject { return rr.row.objs }
func (rr *tokenRowRenderer) Destroy()                     {}
