package ui

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

func newTestView(t testing.TB, w, h float32) *TokenView {
	test.NewTempApp(t)
	v := NewTokenView()
	win := test.NewTempWindow(t, v)
	win.Resize(fyne.NewSize(w, h))
	return v
}

func TestTokenViewText(t *testing.T) {
	v := newTestView(t, 300, 200)
	in := []Run{{"Hello", 0}, {" world", 1}, {"\nnext line\r\n", 0}, {"tab\tend", 2}, {"\x1b[31m", 1}}
	v.Append(in...)
	want := "Hello world\nnext line\ntab    end\uFFFD[31m"
	if got := v.Text(); got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	runs := v.Runs()
	if len(runs) != 5 || runs[0] != (Run{"Hello", 0}) || runs[1] != (Run{" world", 1}) || runs[2] != (Run{"\nnext line\n", 0}) {
		t.Errorf("runs %+v", runs)
	}
}

// TestTokenViewWraps checks that rows fit the width, break at spaces, and
// that the text survives wrapping and re-wrapping unchanged.
func TestTokenViewWraps(t *testing.T) {
	v := newTestView(t, 200, 300)
	words := strings.Fields(strings.Repeat("alpha beta gamma delta epsilon ", 20))
	for i, w := range words {
		v.Append(Run{Text: " " + w, Slot: i % 3})
	}
	want := " " + strings.Join(words, " ")
	if v.Text() != want {
		t.Fatalf("text changed by wrapping")
	}
	if v.RowCount() < 10 {
		t.Fatalf("%d rows: no wrapping at width 200", v.RowCount())
	}
	for i, r := range v.rows {
		// Only a trailing space may overhang the edge.
		visible := bytes.TrimRight(r.text, " ")
		if w := v.textWidth(visible); w > v.width+0.01 {
			t.Errorf("row %d is %.1f wide, wrap width %.1f", i, w, v.width)
		}
		if i < len(v.rows)-1 && len(r.text) > 0 && r.text[len(r.text)-1] != ' ' {
			t.Errorf("row %d does not end at a space: %q", i, r.text)
		}
	}
	rows := v.RowCount()
	v.Resize(fyne.NewSize(600, 300))
	if v.Text() != want || v.RowCount() >= rows {
		t.Errorf("after widening: %d rows (was %d), text kept: %v", v.RowCount(), rows, v.Text() == want)
	}
}

// TestTokenViewFollows: the view follows new text until the user scrolls
// up, and follows again once they scroll back to the end.
func TestTokenViewFollows(t *testing.T) {
	v := newTestView(t, 300, 120)
	for i := range 100 {
		v.Append(Run{Text: fmt.Sprintf("line %d\n", i)})
	}
	if !v.Following() || v.list.GetScrollOffset() == 0 {
		t.Fatalf("not following: offset %v", v.list.GetScrollOffset())
	}
	v.list.ScrollToOffset(10)
	v.Append(Run{Text: "more\n"})
	if v.Following() || v.list.GetScrollOffset() != 10 {
		t.Errorf("scrolled up, yet the view moved to %v", v.list.GetScrollOffset())
	}
	v.list.ScrollToBottom()
	v.Append(Run{Text: "and more\n"})
	if !v.Following() {
		t.Errorf("back at the end, yet not following")
	}
}

// BenchmarkTokenViewAppend measures one batched update (a few tokens and
// the list refresh) on a view already holding n tokens. The cost should not
// grow with n: only the visible rows are refreshed.
func BenchmarkTokenViewAppend(b *testing.B) {
	for _, n := range []int{1_000, 20_000, 50_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			v := newTestView(b, 400, 600)
			fill := make([]Run, n)
			for i := range fill {
				fill[i] = Run{Text: benchToken(i), Slot: i % 3}
			}
			v.Append(fill...)
			i := n
			for b.Loop() {
				v.Append(Run{Text: benchToken(i)}, Run{Text: benchToken(i + 1)}, Run{Text: benchToken(i + 2)})
				i += 3
			}
		})
	}
}

func benchToken(i int) string {
	if i%40 == 39 {
		return " end.\n"
	}
	return []string{" the", " quick", " brown", " fox", " jumps"}[i%5]
}

// TestBackgroundsMatchTheme guards the copies of the theme's backgrounds
// that SlotColor uses.
func TestBackgroundsMatchTheme(t *testing.T) {
	test.NewTempApp(t)
	th := newAppTheme()
	for v, want := range map[fyne.ThemeVariant]color.NRGBA{theme.VariantDark: darkBackground, theme.VariantLight: lightBackground} {
		if got := color.NRGBAModel.Convert(th.Color(theme.ColorNameBackground, v)); got != want {
			t.Errorf("variant %d background %v, SlotColor assumes %v", v, got, want)
		}
	}
}
