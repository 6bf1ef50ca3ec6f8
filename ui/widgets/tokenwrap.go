package widgets

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// row is one visual (wrapped) line: its text in UTF-8 and where each
// style's span starts. A row costs a byte per ASCII character, not a struct
// per rune: the views hold every token of a run.
type row struct {
	text   []byte
	starts []slotStart // in order; the first starts at 0 when text is not empty
	width  float32
	hard   bool  // ends with a newline in the text
	nl     style // the style of that newline
}

// style is how a span is drawn: its slot's colour, subdued with dimStyle,
// or the text's colour with userStyle. It fits a byte: the app's slots
// (fewer than its panes) fit slotBits.
type style uint8

const (
	// dimStyle marks a subdued span (a stream's reasoning).
	dimStyle style = 0x80
	// userStyle marks the user's words (Span.User).
	userStyle style = 0x40
	// slotBits hold the slot.
	slotBits = ^(dimStyle | userStyle)
)

func styleOf(sp Span) style {
	s := style(sp.Slot) & slotBits
	if sp.Dim {
		s |= dimStyle
	}
	if sp.User {
		s |= userStyle
	}
	return s
}

// span is the Span of text in style s.
func (s style) span(text string) Span {
	return Span{Text: text, Slot: int(s & slotBits), Dim: s&dimStyle != 0, User: s&userStyle != 0}
}

// slotStart starts the span of one style at byte at of a row's text.
type slotStart struct {
	at    int32
	style style
}

// segments calls f with each span of one style in the row.
func (r *row) segments(f func(text []byte, s style)) {
	for i, sp := range r.starts {
		end := len(r.text)
		if i+1 < len(r.starts) {
			end = int(r.starts[i+1].at)
		}
		f(r.text[sp.at:end], sp.style)
	}
}

// appendText lays out text at the end, wrapping only the last row.
func (v *TokenView) appendText(text string, st style) {
	for _, r := range text {
		switch {
		case r == '\n':
			v.rows[len(v.rows)-1].hard = true
			v.rows[len(v.rows)-1].nl = st
			v.rows = append(v.rows, row{})
			continue
		case r == '\r':
			continue // a CRLF's CR; a lone CR would rewrite the line on a terminal
		case r == '\t':
			for range 4 {
				v.put(' ', st)
			}
			continue
		case unicode.IsControl(r):
			r = '\uFFFD'
		}
		v.put(r, st)
	}
}

// put adds one rune to the last row, wrapping at the last space when the
// row is full (or mid-word when it has no space).
func (v *TokenView) put(r rune, st style) {
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
		var kept []slotStart
		for _, sp := range last.starts {
			switch {
			case int(sp.at) < cut:
				kept = append(kept, sp)
			default:
				moved.starts = append(moved.starts, slotStart{at: sp.at - int32(cut), style: sp.style})
			}
		}
		if len(moved.text) > 0 && (len(moved.starts) == 0 || moved.starts[0].at > 0) {
			// The span that crosses the cut goes on in the new row.
			moved.starts = append([]slotStart{{at: 0, style: kept[len(kept)-1].style}}, moved.starts...)
		}
		last.text = append([]byte(nil), last.text[:cut]...) // no spare capacity kept
		last.starts = kept
		last.width = v.textWidth(last.text)
		moved.width = v.textWidth(moved.text)
		v.rows = append(v.rows, moved)
		last = &v.rows[len(v.rows)-1]
	}
	if n := len(last.starts); n == 0 || last.starts[n-1].style != st {
		last.starts = append(last.starts, slotStart{at: int32(len(last.text)), style: st})
	}
	last.text = utf8.AppendRune(last.text, r)
	last.width += w
}

// rewrap lays the whole text out again for a new width.
func (v *TokenView) rewrap(width float32) {
	spans := v.Spans()
	v.rows = []row{{}}
	v.runes = 0
	v.width = width
	for _, sp := range spans {
		v.appendText(sp.Text, styleOf(sp))
	}
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
