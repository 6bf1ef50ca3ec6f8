package widgets

import (
	"bytes"
	"fmt"
	"image/color"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/tokenloom/tokenloom/internal/base/paint"
	"github.com/tokenloom/tokenloom/internal/testkit/uitest"
)

func newTestView(t testing.TB, w, h float32) *TokenView {
	test.NewTempApp(t).Settings().SetTheme(NewTheme())
	v := NewTokenView()
	win := test.NewTempWindow(t, v)
	win.Resize(fyne.NewSize(w, h))
	return v
}

func TestTokenViewText(t *testing.T) {
	v := newTestView(t, 300, 200)
	in := []Span{{Text: "Hello"}, {Text: " world", Slot: 1}, {Text: "\nnext line\r\n"}, {Text: "tab\tend", Slot: 2}, {Text: "\x1b[31m", Slot: 1}}
	v.Append(in...)
	want := "Hello world\nnext line\ntab    end\uFFFD[31m"
	if got := v.Text(); got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	runs := v.Spans()
	if len(runs) != 5 || runs[0] != (Span{Text: "Hello"}) || runs[1] != (Span{Text: " world", Slot: 1}) || runs[2] != (Span{Text: "\nnext line\n"}) {
		t.Errorf("runs %+v", runs)
	}
}

// TestTokenViewDimSpans: a dim span (a stream's reasoning) stays apart
// from its slot's plain spans through wrapping, and is drawn in the slot's
// subdued colour.
func TestTokenViewDimSpans(t *testing.T) {
	v := newTestView(t, 300, 200)
	in := []Span{
		{Text: "thinking about it, at some length\n", Slot: 1, Dim: true},
		{Text: "the answer", Slot: 1},
		{Text: " and more thought", Slot: 1, Dim: true},
	}
	v.Append(in...)
	if got := v.Spans(); !reflect.DeepEqual(got, in) {
		t.Errorf("spans %+v, want %+v", got, in)
	}
	v.Resize(fyne.NewSize(90, 200)) // wraps every few words
	if got := v.Spans(); !reflect.DeepEqual(got, in) {
		t.Errorf("spans after wrapping %+v, want %+v", got, in)
	}
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	if c := uitest.TextColors(v, "answer"); len(c) != 1 || c[0] != SlotColor(1, variant) {
		t.Errorf("answer drawn in %v, want %v", c, SlotColor(1, variant))
	}
	if c := uitest.TextColors(v, "thinking"); len(c) != 1 || c[0] != SlotDimColor(1, variant) {
		t.Errorf("reasoning drawn in %v, want %v", c, SlotDimColor(1, variant))
	}
	if SlotDimColor(1, variant) == SlotColor(1, variant) {
		t.Error("the subdued colour is the colour")
	}
}

// TestTokenViewWraps checks that rows fit the width, break at spaces, and
// that the text survives wrapping and re-wrapping unchanged.
func TestTokenViewWraps(t *testing.T) {
	v := newTestView(t, 200, 300)
	words := strings.Fields(strings.Repeat("alpha beta gamma delta epsilon ", 20))
	for i, w := range words {
		v.Append(Span{Text: " " + w, Slot: i % 3})
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
		v.Append(Span{Text: fmt.Sprintf("line %d\n", i)})
	}
	if !v.Following() || v.ScrollOffset() == 0 {
		t.Fatalf("not following: offset %v", v.ScrollOffset())
	}
	v.ScrollToOffset(10)
	v.Append(Span{Text: "more\n"})
	if v.Following() || v.ScrollOffset() != 10 {
		t.Errorf("scrolled up, yet the view moved to %v", v.ScrollOffset())
	}
	v.ScrollToBottom()
	v.Append(Span{Text: "and more\n"})
	if !v.Following() {
		t.Errorf("back at the end, yet not following")
	}
}

// TestTokenViewMinSizeStays: no object in the view changes its MinSize as
// the text grows, and the view has row widgets for the rows in sight only.
// A MinSize that changes makes Fyne lay out the parent while it paints, and
// a scroll container's layout then asks for one more full frame.
func TestTokenViewMinSizeStays(t *testing.T) {
	v := newTestView(t, 300, 200)
	v.Append(Span{Text: "first\n"})
	before := minSizes(v)
	for i := range 2000 {
		v.Append(Span{Text: fmt.Sprintf("line %d\n", i), Slot: i % 3})
	}
	after := minSizes(v)
	for o, was := range before {
		if _, ok := o.(*canvas.Text); ok {
			continue // a row's texts: the row's layout does nothing
		}
		if now, ok := after[o]; ok && now != was {
			t.Errorf("%T: MinSize went from %v to %v", o, was, now)
		}
	}
	if want := int(v.Size().Height/v.pitch()) + 2; len(v.rowWidgets) != want {
		t.Errorf("%d row widgets for 2000 rows, want %d", len(v.rowWidgets), want)
	}
}

// minSizes walks the objects drawn for o and notes their MinSizes.
func minSizes(o fyne.CanvasObject) map[fyne.CanvasObject]fyne.Size {
	out := map[fyne.CanvasObject]fyne.Size{}
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		out[o] = o.MinSize()
		switch o := o.(type) {
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(o).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// shown returns the rows on screen, from their widgets: the text of each
// visible row widget by the y it is drawn at.
func shown(v *TokenView) map[float32]string {
	out := map[float32]string{}
	for _, s := range v.rowWidgets {
		if !s.Visible() {
			continue
		}
		var b strings.Builder
		for _, t := range s.texts[:s.used] {
			b.WriteString(t.Text)
		}
		out[s.Position().Y] = b.String()
	}
	return out
}

// checkShown checks that the row widgets show exactly the rows that fall in
// the view, each at its place with its current text.
func checkShown(t *testing.T, v *TokenView, when string) {
	t.Helper()
	got := shown(v)
	want := map[float32]string{}
	for id := range v.rows {
		y := rowGap + float32(id)*v.pitch() - v.ScrollOffset()
		if y+v.rowHeight() > 0 && y < v.Size().Height {
			want[y] = string(v.rows[id].text)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows shown, want %d", when, len(got), len(want))
	}
	for y, text := range want {
		if got[y] != text {
			t.Errorf("%s: at y %v %q, want %q", when, y, got[y], text)
		}
	}
}

// TestTokenViewShowsRowsInSight scrolls a long text, appends, re-wraps,
// shrinks and clears it, and checks the rows shown after each step.
func TestTokenViewShowsRowsInSight(t *testing.T) {
	v := newTestView(t, 300, 200)
	for i := range 500 {
		v.Append(Span{Text: fmt.Sprintf("line %d\n", i)})
	}
	for _, offset := range []float32{0, 37, 1234.5, v.maxOffset()} {
		v.ScrollToOffset(offset)
		checkShown(t, v, fmt.Sprintf("offset %v", offset))
	}
	// Tokens that go on the last row change it in place.
	v.Append(Span{Text: "grows"})
	v.Append(Span{Text: " on", Slot: 1})
	checkShown(t, v, "appended to the last row")
	if last := shown(v)[rowGap+float32(len(v.rows)-1)*v.pitch()-v.ScrollOffset()]; last != "grows on" {
		t.Errorf("last row shows %q", last)
	}
	v.Resize(fyne.NewSize(150, v.Size().Height))
	checkShown(t, v, "narrower")
	// A shorter view that follows still shows the end.
	v.Resize(fyne.NewSize(150, 100))
	if !v.Following() || v.ScrollOffset() != v.maxOffset() {
		t.Errorf("shorter: offset %v of %v, following %v", v.ScrollOffset(), v.maxOffset(), v.Following())
	}
	checkShown(t, v, "shorter")
	v.Clear()
	v.Append(Span{Text: "new"})
	checkShown(t, v, "cleared")
}

// TestTokenViewTextSize: a theme with another text size re-wraps the rows
// to fit.
func TestTokenViewTextSize(t *testing.T) {
	v := newTestView(t, 300, 200)
	for i := range 100 {
		v.Append(Span{Text: fmt.Sprintf("word%d ", i)})
	}
	rows := v.RowCount()
	fyne.CurrentApp().Settings().SetTheme(bigText{NewTheme()})
	v.Refresh()
	if v.RowCount() <= rows {
		t.Errorf("text twice as big, yet %d rows (was %d)", v.RowCount(), rows)
	}
	for i, r := range v.rows {
		if w := v.textWidth(bytes.TrimRight(r.text, " ")); w > v.width+0.01 {
			t.Errorf("row %d is %.1f wide, wrap width %.1f", i, w, v.width)
		}
	}
	checkShown(t, v, "bigger text")
}

type bigText struct{ fyne.Theme }

func (b bigText) Size(n fyne.ThemeSizeName) float32 {
	if n == theme.SizeNameText {
		return 2 * b.Theme.Size(n)
	}
	return b.Theme.Size(n)
}

// TestTokenViewWheelAndBar: the mouse wheel and dragging the scroll bar
// scroll the view; scrolling up stops following, back at the end resumes.
func TestTokenViewWheelAndBar(t *testing.T) {
	v := newTestView(t, 300, 200)
	v.Append(Span{Text: "short\n"})
	if v.bar.Visible() {
		t.Error("a scroll bar on a text that fits")
	}
	for i := range 300 {
		v.Append(Span{Text: fmt.Sprintf("line %d\n", i)})
	}
	end := v.ScrollOffset()
	if !v.bar.Visible() || end != v.maxOffset() || end == 0 {
		t.Fatalf("bar shown %v, offset %v of %v", v.bar.Visible(), end, v.maxOffset())
	}
	if bottom := v.bar.thumb.Position().Y + v.bar.thumb.Size().Height; bottom != v.Size().Height {
		t.Errorf("at the end the thumb ends at %v of %v", bottom, v.Size().Height)
	}
	v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: 50}})
	if v.ScrollOffset() != end-50 || v.Following() {
		t.Errorf("wheel up: offset %v (want %v), following %v", v.ScrollOffset(), end-50, v.Following())
	}
	v.Append(Span{Text: "more\n"})
	if v.ScrollOffset() != end-50 {
		t.Errorf("scrolled up, yet the view moved to %v", v.ScrollOffset())
	}
	v.bar.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DY: -10}})
	if want := end - 50 - 10*v.bar.ratio; v.ScrollOffset() != want {
		t.Errorf("bar dragged up by 10: offset %v, want %v", v.ScrollOffset(), want)
	}
	v.bar.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DY: 1000}})
	if !v.Following() || v.ScrollOffset() != v.maxOffset() {
		t.Errorf("bar dragged to the end: offset %v of %v, following %v", v.ScrollOffset(), v.maxOffset(), v.Following())
	}
	// A click on the track above the thumb scrolls up a page; on the thumb,
	// nothing.
	page := v.Size().Height - v.pitch()
	v.bar.Tapped(&fyne.PointEvent{Position: fyne.NewPos(2, v.bar.thumbY-1)})
	if want := v.maxOffset() - page; v.ScrollOffset() != want {
		t.Errorf("click above the thumb: offset %v, want %v", v.ScrollOffset(), want)
	}
	at := v.ScrollOffset()
	v.bar.Tapped(&fyne.PointEvent{Position: fyne.NewPos(2, v.bar.thumbY+1)})
	if v.ScrollOffset() != at {
		t.Errorf("click on the thumb scrolled to %v", v.ScrollOffset())
	}
	v.Clear()
	if v.ScrollOffset() != 0 || v.bar.Visible() || len(shown(v)) != 1 {
		t.Errorf("after Clear: offset %v, bar %v, %d rows shown", v.ScrollOffset(), v.bar.Visible(), len(shown(v)))
	}
}

// BenchmarkTokenViewAppend measures one batched update (a few tokens, the
// rows in sight placed) on a view already holding n tokens. The cost should
// not grow with n: only the rows in sight are touched.
func BenchmarkTokenViewAppend(b *testing.B) {
	for _, n := range []int{1_000, 20_000, 50_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			v := newTestView(b, 400, 600)
			fill := make([]Span, n)
			for i := range fill {
				fill[i] = Span{Text: benchToken(i), Slot: i % 3}
			}
			v.Append(fill...)
			i := n
			for b.Loop() {
				v.Append(Span{Text: benchToken(i)}, Span{Text: benchToken(i + 1)}, Span{Text: benchToken(i + 2)})
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
// that SlotColor and the pictures of runs use.
func TestBackgroundsMatchTheme(t *testing.T) {
	test.NewTempApp(t)
	th := NewTheme()
	for v, want := range map[fyne.ThemeVariant]color.NRGBA{theme.VariantDark: paint.DarkBackground, theme.VariantLight: paint.LightBackground} {
		if got := color.NRGBAModel.Convert(th.Color(theme.ColorNameBackground, v)); got != want {
			t.Errorf("variant %d background %v, SlotColor assumes %v", v, got, want)
		}
	}
}

// TestTokenViewKeys: a tap gives the view the keyboard, and keys scroll it.
func TestTokenViewKeys(t *testing.T) {
	v := newTestView(t, 300, 200)
	for i := range 300 {
		v.Append(Span{Text: fmt.Sprintf("line %d\n", i)})
	}
	test.Tap(v)
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c.Focused() != v || !v.focus.Visible() {
		t.Fatalf("tapped, yet focused %v, outline %v", c.Focused(), v.focus.Visible())
	}
	end := v.ScrollOffset()
	page := v.Size().Height - v.pitch()
	for _, step := range []struct {
		key  fyne.KeyName
		want float32
	}{
		{fyne.KeyUp, end - v.pitch()},
		{fyne.KeyPageUp, end - v.pitch() - page},
		{fyne.KeyDown, end - page},
		{fyne.KeyHome, 0},
		{fyne.KeyPageDown, page},
		{fyne.KeyEnd, end},
	} {
		c.Focused().TypedKey(&fyne.KeyEvent{Name: step.key})
		if v.ScrollOffset() != step.want {
			t.Errorf("%s: offset %v, want %v", step.key, v.ScrollOffset(), step.want)
		}
	}
	if !v.Following() {
		t.Error("End did not resume following")
	}
	c.Unfocus()
	if v.focus.Visible() {
		t.Error("outline kept after the focus went")
	}
}

// TestTokenRowRedrawAllocs: setting a row again, unchanged, allocates
// nothing: its segments' colours come from the view's cache, not from a
// theme colour name made and parsed back for each segment.
func TestTokenRowRedrawAllocs(t *testing.T) {
	v := newTestView(t, 600, 200)
	var spans []Span
	for i := range 8 {
		spans = append(spans, Span{Text: "ab ", Slot: i % 4, Dim: i%3 == 1})
	}
	v.Append(spans...)
	r := v.widgetOf(0)
	if r == nil || r.used != 8 {
		t.Fatalf("row 0 not shown in 8 segments")
	}
	src := &v.rows[0]
	if n := testing.AllocsPerRun(100, func() { r.set(src) }); n != 0 {
		t.Errorf("%v allocations per redraw of a row of 8 segments", n)
	}
	// The colours are the theme's, and follow a change of theme.
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	for _, th := range []fyne.Theme{NewTheme(), redSlotsTheme{NewTheme()}} {
		fyne.CurrentApp().Settings().SetTheme(th)
		r.set(src)
		for k, sp := range spans {
			name := SlotColorName(sp.Slot)
			if sp.Dim {
				name = SlotDimColorName(sp.Slot)
			}
			if got, want := r.texts[k].Color, th.Color(name, variant); got != want {
				t.Errorf("%T: segment %d drawn in %v, want %v", th, k, got, want)
			}
		}
	}
}

// redSlotsTheme draws every slot red.
type redSlotsTheme struct{ fyne.Theme }

func (t redSlotsTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if strings.HasPrefix(string(name), slotColorPrefix) {
		return color.NRGBA{R: 0xff, A: 0xff}
	}
	return t.Theme.Color(name, v)
}

// BenchmarkTokenRowRedraw sets a row of 8 segments again, unchanged.
func BenchmarkTokenRowRedraw(b *testing.B) {
	v := newTestView(b, 600, 200)
	var spans []Span
	for i := range 8 {
		spans = append(spans, Span{Text: "ab ", Slot: i % 4, Dim: i%3 == 1})
	}
	v.Append(spans...)
	r, src := v.widgetOf(0), &v.rows[0]
	b.ReportAllocs()
	for b.Loop() {
		r.set(src)
	}
}
