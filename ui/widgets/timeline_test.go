package widgets

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/uitest"
)

func newTestTimeline(t testing.TB, lanes int, w, h float32) *Timeline {
	test.NewTempApp(t).Settings().SetTheme(NewTheme())
	tl := NewTimeline()
	win := test.NewTempWindow(t, tl)
	win.Resize(fyne.NewSize(w, h))
	labels := make([]string, lanes)
	slots := make([]int, lanes)
	for i := range labels {
		labels[i], slots[i] = fmt.Sprintf("stream %d", i+1), i
	}
	tl.Reset(labels, slots)
	tl.Resize(fyne.NewSize(w, h))
	return tl
}

var ev = uitest.Event

func TestTimelineTickPositions(t *testing.T) {
	tl := newTestTimeline(t, 2, 830, 200)
	times := []float64{100, 250, 1000, 2400, 2999}
	tl.Add(0, ev(wire.EventPhase, 0, 0, wire.PhaseGenerating))
	for k, tm := range times {
		tl.Add(0, ev(wire.EventToken, int64(k+1), tm, fmt.Sprint("t", k)))
	}
	tl.Add(0, ev(wire.EventDone, 6, 3000, ""))
	tl.Refresh()
	x0, w := tl.plot()
	for k, tm := range times {
		want := x0 + float32(tm/3000)*w
		if got := tl.tickX(0, k); math.Abs(float64(got-want)) > 0.01 {
			t.Errorf("tick %d at %v, want %v (proportional to %v ms of 3000)", k, got, want, tm)
		}
	}
	// Doubling t_ms of the last tick doubles its distance from the origin
	// once the span is fixed: the scale is linear.
	if d1, d2 := tl.tickX(0, 1)-x0, tl.tickX(0, 2)-x0; math.Abs(float64(d2/d1)-1000.0/250) > 1e-3 {
		t.Errorf("distances %v and %v are not proportional to 250 and 1000 ms", d1, d2)
	}
}

func TestTimelineHover(t *testing.T) {
	tl := newTestTimeline(t, 2, 830, 200)
	tl.Add(1, ev(wire.EventToken, 0, 1500, " world"))
	tl.Refresh()
	y := tl.laneHeight() * 1.5
	tl.MouseMoved(mouseAt(tl.tickX(1, 0)+1, y))
	if tip := tl.TipText(); !strings.Contains(tip, `" world"`) || !strings.Contains(tip, "1500.0 ms") {
		t.Errorf("tip %q", tip)
	}
	tl.MouseMoved(mouseAt(tl.tickX(1, 0)+40, y))
	if tip := tl.TipText(); tip != "" {
		t.Errorf("tip %q away from any tick", tip)
	}
	tl.Tapped(&fyne.PointEvent{Position: fyne.NewPos(tl.tickX(1, 0), y)})
	if tl.TipText() == "" {
		t.Errorf("no tip on tap")
	}
}

func mouseAt(x, y float32) *desktop.MouseEvent {
	return &desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(x, y)}}
}

// TestTimelineDraws renders ticks in their lane's colour at their place.
func TestTimelineDraws(t *testing.T) {
	tl := newTestTimeline(t, 2, 830, 200)
	tl.Add(0, ev(wire.EventToken, 0, 1500, "x"))
	tl.Refresh()
	img := tl.draw(830, 200).(*image.RGBA)
	x := int(tl.tickX(0, 0))
	y := int(tl.laneHeight() / 2)
	c := SlotColor(0, fyne.CurrentApp().Settings().ThemeVariant())
	if got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA); got.R != c.R || got.G != c.G || got.B != c.B {
		t.Errorf("pixel at the tick is %v, want slot 0's %v", got, c)
	}
	if got := color.NRGBAModel.Convert(img.At(x+20, y)).(color.NRGBA); got.A != 0 && got.R == c.R && got.G == c.G && got.B == c.B && got.A > 0x80 {
		t.Errorf("tick colour away from the tick: %v", got)
	}
}

// BenchmarkTimelineDraw redraws a timeline of 8 streams × 20,000 tokens.
func BenchmarkTimelineDraw(b *testing.B) {
	tl := newTestTimeline(b, 8, 1200, 320)
	for i := range 8 {
		tl.Add(i, ev(wire.EventPhase, 0, float64(i)*10, wire.PhaseGenerating))
		for k := range 20_000 {
			tl.Add(i, ev(wire.EventToken, int64(k+1), float64(i)*10+float64(k)*0.5, "tok"))
		}
	}
	for b.Loop() {
		tl.draw(1200, 320)
	}
}

// TestTimelineThinkingAndQueued: a stream queued behind another, then
// thinking, then answering has each phase in its lane, each with a shading
// of its own (queued hatched, thinking dotted: not the flat shades of
// waiting, prompt and generating), and its reasoning's ticks shorter and
// dimmer than its answer's.
func TestTimelineThinkingAndQueued(t *testing.T) {
	tl := newTestTimeline(t, 2, 830, 200)
	for k, e := range []client.Event{
		ev(wire.EventPhase, 0, 0, wire.PhaseWaiting),
		ev(wire.EventPhase, 0, 400, wire.PhasePrompt),
		ev(wire.EventPhase, 0, 600, wire.PhaseQueued),
		ev(wire.EventPhase, 0, 1400, wire.PhaseThinking),
		ev(wire.EventThinking, 0, 1500, "The"),
		ev(wire.EventThinking, 0, 1700, " user"),
		ev(wire.EventThinking, 0, 1900, " asks"),
		ev(wire.EventPhase, 0, 2200, wire.PhaseGenerating),
		ev(wire.EventToken, 0, 2300, "Hi"),
		ev(wire.EventToken, 0, 2600, "!"),
		ev(wire.EventDone, 0, 3000, ""),
	} {
		e.Seq = int64(k)
		tl.Add(0, e)
	}
	tl.Refresh()
	type span struct {
		phase      string
		start, end float64
	}
	var got []span
	for _, p := range tl.Lane(0).Phases {
		got = append(got, span{p.Phase, p.Start, p.End})
	}
	want := []span{
		{wire.PhaseWaiting, 0, 400}, {wire.PhasePrompt, 400, 600}, {wire.PhaseQueued, 600, 1400},
		{wire.PhaseThinking, 1400, 2200}, {wire.PhaseGenerating, 2200, 3000},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("phases %v, want %v", got, want)
	}
	if ticks := tl.Lane(0).Thinks; fmt.Sprint(ticks) != "[1500 1700 1900]" {
		t.Errorf("thinking ticks %v", ticks)
	}

	img := tl.draw(830, 200).(*image.RGBA)
	at := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) }
	// The colours of lane 0's shading within a phase, in a few rows above
	// the ticks (away from the phase's edges and the seconds' grid lines).
	shades := func(from, to float64) map[color.NRGBA]bool {
		out := map[color.NRGBA]bool{}
		_, w := tl.plot()
		step := axisStep(tl.span(), float64(w))
		for x := int(tl.timeX(from)) + 3; x < int(tl.timeX(to))-3; x++ {
			grid := false
			for s := 0.0; s <= tl.span(); s += step {
				grid = grid || math.Abs(float64(x)-float64(int(tl.timeX(s)))) < 2
			}
			for y := 4; y < 10 && !grid; y++ {
				out[at(x, y)] = true
			}
		}
		return out
	}
	flat := func(name string, from, to float64) color.NRGBA {
		s := shades(from, to)
		if len(s) != 1 {
			t.Errorf("%s is not flat: %d colours", name, len(s))
		}
		for c := range s {
			return c
		}
		return color.NRGBA{}
	}
	waiting, prompt, generating := flat("waiting", 0, 400), flat("prompt", 400, 600), flat("generating", 2200, 3000)
	queued, thinking := shades(600, 1400), shades(1400, 2200)
	if len(queued) < 2 || len(thinking) < 2 {
		t.Errorf("queued (%d colours) or thinking (%d colours) has no pattern", len(queued), len(thinking))
	}
	for name, s := range map[string]map[color.NRGBA]bool{"queued": queued, "thinking": thinking} {
		for _, c := range []color.NRGBA{waiting, prompt, generating} {
			if s[c] && len(s) == 1 {
				t.Errorf("%s is shaded as another phase: %v", name, c)
			}
		}
	}
	if fmt.Sprint(queued) == fmt.Sprint(thinking) {
		t.Error("queued and thinking are shaded alike")
	}

	// A tick's height: the run of its colour down its column.
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	height := func(tMs float64, c color.NRGBA) int {
		x, n := int(tl.timeX(tMs)), 0
		for y := range int(tl.laneHeight()) {
			if p := at(x, y); p.R == c.R && p.G == c.G && p.B == c.B && p.A == 0xff {
				n++
			}
		}
		return n
	}
	answerH, thinkH := height(2300, SlotColor(0, variant)), height(1700, SlotDimColor(0, variant))
	if thinkH == 0 || answerH == 0 || thinkH >= answerH {
		t.Errorf("thinking tick %d px in the subdued colour, answer tick %d px: want a shorter, dimmer thinking tick", thinkH, answerH)
	}
	// The reasoning's ticks show their token on hover too.
	tl.MouseMoved(mouseAt(tl.timeX(1700), tl.laneHeight()/2))
	if tip := tl.TipText(); !strings.Contains(tip, `thinking " user"`) || !strings.Contains(tip, "thinking token 2") {
		t.Errorf("tip %q over a thinking tick", tip)
	}
}

// TestTimelinePhasesFromPhaseEvents: a lane's phases are those its phase
// events say; a thinking token starts none of its own (the sources send the
// thinking phase before it), it only adds its tick.
func TestTimelinePhasesFromPhaseEvents(t *testing.T) {
	tl := newTestTimeline(t, 1, 830, 200)
	for k, e := range []client.Event{
		ev(wire.EventPhase, 0, 0, wire.PhasePrompt),
		ev(wire.EventThinking, 0, 100, "Hmm"),
		ev(wire.EventPhase, 0, 150, wire.PhaseThinking),
		ev(wire.EventThinking, 0, 200, "."),
		ev(wire.EventDone, 0, 300, ""),
	} {
		e.Seq = int64(k)
		tl.Add(0, e)
	}
	want := []PhaseSpan{{wire.PhasePrompt, 0, 150}, {wire.PhaseThinking, 150, 300}}
	if got := tl.Lane(0).Phases; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	if ticks := tl.Lane(0).Thinks; fmt.Sprint(ticks) != "[100 200]" {
		t.Errorf("thinking ticks %v", ticks)
	}
}

// TestTimelineExactPhasesAtEnd: a live stream's phases are an estimate,
// drawn fainter than the same phase of an ended stream; at its end the
// stats' phases, by the server's clock, replace them (the queued phase
// from the request on, not from when the guess could tell).
func TestTimelineExactPhasesAtEnd(t *testing.T) {
	tl := newTestTimeline(t, 2, 830, 200)
	for k, e := range []client.Event{
		ev(wire.EventPhase, 0, 1, wire.PhasePrompt),
		ev(wire.EventPhase, 0, 260, wire.PhaseQueued),
		ev(wire.EventPhase, 0, 500, wire.PhaseGenerating),
		ev(wire.EventToken, 0, 510, "a"),
	} {
		e.Seq = int64(k)
		tl.Add(0, e)
	}
	// The other lane has ended in the prompt phase: the same shading,
	// exact.
	tl.Add(1, ev(wire.EventPhase, 1, 1, wire.PhasePrompt))
	tl.Add(1, client.Event{Type: wire.EventDone, TMs: 700, Stats: &wire.Stats{
		Phases: []wire.PhaseSpan{{Phase: wire.PhasePrompt, StartMs: 1, EndMs: 700}}}})
	tl.Refresh()
	img := tl.raster.Generator(830, 200).(*image.RGBA)
	x := int(tl.timeX(150)) // in prompt in both lanes, between two lines of the axis
	live, ended := img.RGBAAt(x, int(tl.laneHeight()/2)), img.RGBAAt(x, int(1.5*tl.laneHeight()))
	if live.A >= ended.A {
		t.Errorf("live prompt %v, ended prompt %v: want the estimate fainter", live, ended)
	}
	done := ev(wire.EventDone, 0, 900, "stop")
	done.Stats = &wire.Stats{Phases: []wire.PhaseSpan{
		{Phase: wire.PhaseLoading, StartMs: 1, EndMs: 3}, {Phase: wire.PhaseQueued, StartMs: 3, EndMs: 480},
		{Phase: wire.PhasePrompt, StartMs: 480, EndMs: 490}, {Phase: wire.PhaseGenerating, StartMs: 490, EndMs: 890}}}
	tl.Add(0, done)
	want := []PhaseSpan{{wire.PhaseLoading, 1, 3}, {wire.PhaseQueued, 3, 480}, {wire.PhasePrompt, 480, 490}, {wire.PhaseGenerating, 490, 890}}
	if got := tl.Lane(0).Phases; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("phases at the end %v, want the stats' %v", got, want)
	}
}

// TestTimelineLegend names every phase, queued and thinking among them,
// then the look of a live stream's estimated phases, each with a swatch
// of its own.
func TestTimelineLegend(t *testing.T) {
	test.NewTempApp(t)
	l := NewTimelineLegend()
	test.NewTempWindow(t, l)
	if got := strings.Join(l.Labels(), " "); got != "waiting queued loading prompt thinking answer estimate (live)" {
		t.Errorf("legend %q", got)
	}
	seen := map[string]string{}
	fg, bg := l.colors()
	for _, it := range legendItems {
		img := legendSwatch(it, 36, 24, fg, bg).(*image.RGBA)
		key := string(img.Pix)
		if other, ok := seen[key]; ok {
			t.Errorf("%s and %s have one swatch", it.Label, other)
		}
		seen[key] = it.Label
	}
}

// drawnLaneNames are the lane names the timeline draws, top to bottom.
func drawnLaneNames(tl *Timeline) []*canvas.Text {
	var out []*canvas.Text
	for _, tx := range tl.texts {
		if tx.Text != "" && tx.TextStyle.Bold {
			out = append(out, tx)
		}
	}
	return out
}

// TestTimelineLabelsNeverOverlap: however low the timeline is laid out,
// two lane names never overlap and none leaves the lanes; at its MinSize
// and above, every lane has its name at the caption size.
func TestTimelineLabelsNeverOverlap(t *testing.T) {
	tl := newTestTimeline(t, 8, 830, 400)
	minH := tl.MinSize().Height
	if want := 8*laneLabelHeight(theme.CaptionTextSize()) + timelineAxisHeight; minH < want {
		t.Errorf("MinSize height %v for 8 lanes: less than 8 names high (%v)", minH, want)
	}
	for _, h := range []float32{400, minH, 140, 100, 80, 60, 40, 30} {
		tl.Resize(fyne.NewSize(830, h))
		tl.Refresh()
		labels := drawnLaneNames(tl)
		for k, tx := range labels {
			top, bottom := tx.Position().Y, tx.Position().Y+tx.Size().Height
			if top < 0 || bottom > h-timelineAxisHeight+0.01 {
				t.Errorf("height %v: %q from %v to %v, out of the lanes", h, tx.Text, top, bottom)
			}
			if k > 0 {
				if prev := labels[k-1]; prev.Position().Y+prev.Size().Height > top+0.01 {
					t.Errorf("height %v: %q (down to %v) overlaps %q (from %v)", h, prev.Text, prev.Position().Y+prev.Size().Height, tx.Text, top)
				}
			}
		}
		if h >= minH {
			if len(labels) != 8 {
				t.Errorf("height %v, at least the MinSize: %d names of 8 lanes", h, len(labels))
			}
			for _, tx := range labels {
				if tx.TextSize != theme.CaptionTextSize() {
					t.Errorf("height %v: %q at size %v, want the caption size", h, tx.Text, tx.TextSize)
				}
			}
		} else if h >= 80 && len(labels) < 4 {
			t.Errorf("height %v: only %d names", h, len(labels))
		}
	}
}

// TestTimelineLabelsFit: a lane's name is drawn whole when it fits the
// names' column, and otherwise cut after a whole character with an
// ellipsis, never wider than the column.
func TestTimelineLabelsFit(t *testing.T) {
	tl := newTestTimeline(t, 4, 830, 200)
	labels := []string{
		"3 demo/hello",
		"4 hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M",
		"5 модель/очень-длинное-имя-модели",
		"6 模型/很长很长很长很长很长很长的名字",
	}
	tl.Reset(labels, []int{0, 1, 2, 3})
	drawn := drawnLaneNames(tl)
	if len(drawn) != len(labels) {
		t.Fatalf("%d names drawn of %d", len(drawn), len(labels))
	}
	room := timelineLabelWidth - 2*theme.Padding()
	for k, tx := range drawn {
		switch {
		case !utf8.ValidString(tx.Text):
			t.Errorf("%q: not valid UTF-8", tx.Text)
		case k == 0 && tx.Text != labels[0]:
			t.Errorf("%q drawn as %q", labels[0], tx.Text)
		case k > 0 && (!strings.HasSuffix(tx.Text, "…") || !strings.HasPrefix(labels[k], strings.TrimSuffix(tx.Text, "…"))):
			t.Errorf("%q drawn as %q: want its start and an ellipsis", labels[k], tx.Text)
		}
		if w := tx.MinSize().Width; w > room {
			t.Errorf("%q is %v wide, the column %v", tx.Text, w, room)
		}
		if k > 0 && len([]rune(tx.Text)) < 8 {
			t.Errorf("%q: cut shorter than the column needs", tx.Text)
		}
	}
}

// TestTimelineRemoveLane: a removed lane leaves with its ticks, phases and
// name; the lanes below move up in their own colours, and the time axis
// shrinks to what is left.
func TestTimelineRemoveLane(t *testing.T) {
	tl := newTestTimeline(t, 3, 830, 200)
	for i, end := range []float64{2000, 7000, 3000} {
		tl.Add(i, ev(wire.EventPhase, 0, 0, wire.PhaseGenerating))
		tl.Add(i, ev(wire.EventToken, 1, end/2, fmt.Sprint("lane", i)))
		tl.Add(i, ev(wire.EventDone, 2, end, ""))
	}
	tl.Refresh()
	if tl.span() != 7000 {
		t.Fatalf("span %v", tl.span())
	}
	tl.RemoveLane(1)
	if n := len(tl.lanes); n != 2 {
		t.Fatalf("%d lanes after removing one of 3", n)
	}
	if tl.span() != 3000 {
		t.Errorf("span %v ms after removing the 7 s lane, want 3000", tl.span())
	}
	var names []string
	for _, tx := range drawnLaneNames(tl) {
		names = append(names, tx.Text)
	}
	if got := strings.Join(names, ", "); got != "stream 1, stream 3" {
		t.Errorf("names %q", got)
	}
	if tl.MinSize().Height != 2*minLaneHeight()+timelineAxisHeight {
		t.Errorf("MinSize %v after the removal", tl.MinSize())
	}
	// Lane 1 is now stream 3: its tick at 1.5 s, in slot 2's colour.
	img := tl.draw(830, 200).(*image.RGBA)
	c := SlotColor(2, fyne.CurrentApp().Settings().ThemeVariant())
	x, y := int(tl.tickX(1, 0)), int(tl.laneHeight()*1.5)
	if got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA); got != c {
		t.Errorf("lane 1's tick drawn %v, want slot 2's %v", got, c)
	}
	tl.MouseMoved(mouseAt(tl.tickX(1, 0), tl.laneHeight()*1.5))
	if tip := tl.TipText(); !strings.Contains(tip, `"lane2"`) {
		t.Errorf("tip %q over the moved lane's tick", tip)
	}
	tl.RemoveLane(2) // out of range: nothing
	tl.RemoveLane(-1)
	if len(tl.lanes) != 2 {
		t.Errorf("%d lanes after removing none", len(tl.lanes))
	}
}

// TestTimelineLabelKeepsEndpoint: a lane of a model on an endpoint too
// long for the column keeps its endpoint after the ellipsis, which tells
// it from the same model elsewhere; a long endpoint is cut at the end.
func TestTimelineLabelKeepsEndpoint(t *testing.T) {
	tl := newTestTimeline(t, 3, 830, 200)
	labels := []string{"1 tokenloom-tiny:latest@gpu", "2 tokenloom-tiny:latest@v1", "3 m@an-endpoint-name-far-too-long-for-any-column"}
	tl.Reset(labels, []int{0, 1, 2})
	drawn := drawnLaneNames(tl)
	if len(drawn) != 3 {
		t.Fatalf("%d names drawn", len(drawn))
	}
	for k, want := range []string{"…@gpu", "…@v1"} {
		if got := drawn[k].Text; !strings.HasSuffix(got, want) || !strings.HasPrefix(labels[k], strings.TrimSuffix(got, want)) || got == labels[k] {
			t.Errorf("%q drawn as %q: want its start and %q", labels[k], got, want)
		}
	}
	if got := drawn[2].Text; !strings.HasSuffix(got, "…") || !strings.HasPrefix(labels[2], strings.TrimSuffix(got, "…")) {
		t.Errorf("%q drawn as %q", labels[2], got)
	}
	room := timelineLabelWidth - 2*theme.Padding()
	for _, tx := range drawn {
		if w := tx.MinSize().Width; w > room {
			t.Errorf("%q is %v wide, the column %v", tx.Text, w, room)
		}
	}
}
