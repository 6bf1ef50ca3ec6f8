package ui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
)

func newTestTimeline(t testing.TB, lanes int, w, h float32) *Timeline {
	test.NewTempApp(t)
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

func ev(typ string, seq int64, tms float64, text string) client.Event {
	e := client.Event{Type: typ, Seq: seq, TMs: tms, Text: text}
	if typ == client.EventPhase {
		e.Phase, e.Text = text, ""
	}
	return e
}

func TestTimelineTickPositions(t *testing.T) {
	tl := newTestTimeline(t, 2, 830, 200)
	times := []float64{100, 250, 1000, 2400, 2999}
	tl.Add(0, ev(client.EventPhase, 0, 0, client.PhaseGenerating))
	for k, tm := range times {
		tl.Add(0, ev(client.EventToken, int64(k+1), tm, fmt.Sprint("t", k)))
	}
	tl.Add(0, ev(client.EventDone, 6, 3000, ""))
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
	tl.Add(1, ev(client.EventToken, 0, 1500, " world"))
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
	tl.Add(0, ev(client.EventToken, 0, 1500, "x"))
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
		tl.Add(i, ev(client.EventPhase, 0, float64(i)*10, client.PhaseGenerating))
		for k := range 20_000 {
			tl.Add(i, ev(client.EventToken, int64(k+1), float64(i)*10+float64(k)*0.5, "tok"))
		}
	}
	for b.Loop() {
		tl.draw(1200, 320)
	}
}
