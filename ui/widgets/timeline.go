package widgets

import (
	"fmt"
	"image"
	"math"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/paint"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Timeline geometry, in device-independent pixels.
const (
	timelineLabelWidth   = 130 // lane names on the left
	timelineAxisHeight   = 22  // seconds axis at the bottom
	timelineLaneHeight   = 30  // preferred height of one lane
	timelineMinLaneGap   = 3   // the least room between two lane names
	timelineHitRadius    = 5   // how near a pointer must be to a tick
	timelineMinLabelSize = 8   // the smallest text size of a lane name
)

// PhaseSpan is a stretch of one phase in a lane.
type PhaseSpan struct {
	Phase      string
	Start, End float64 // run time in ms; End < 0 while the phase lasts
}

// lane is one stream on the timeline.
type lane struct {
	label  string
	slot   int
	ticks  []float64 // t_ms of its answer's tokens, in order
	texts  []string
	thinks []float64 // t_ms of its reasoning's tokens (thinking events), in order
	// thinkTexts are their texts.
	thinkTexts []string
	phases     []PhaseSpan
	// ended is set at the stream's end: its phases are then the exact
	// ones of its stats (by its server's clock where it gave one); before
	// that they are the live estimate of its phase events.
	ended bool
}

// Timeline draws one lane per stream with a tick per token at its t_ms (a
// shorter, dimmer one per token of the reasoning), the phases shaded, and
// a seconds axis. While a stream goes on its phases are an estimate (what
// its phase events say: Ollama tells nothing of its queue), drawn fainter
// with dashed edges; at its end they are replaced by the exact ones of
// its stats. Where ticks are denser than pixels it
// draws per-pixel buckets, so its cost grows with its width, not with the
// number of tokens beyond one pass over them. Hovering or tapping a tick
// shows the token and its time. Its colours are its theme's: the slot
// colours of the app's theme (NewTheme), shaded as the pictures of a run
// shade them (diagram.PaintPhase). Use it on the Fyne thread only.
type Timeline struct {
	widget.BaseWidget

	lanes  []*lane
	now    float64 // the latest t_ms seen
	raster *canvas.Raster
	img    *image.RGBA // the last image drawn, reused
	tip    *widget.Label
	tipBg  *canvas.Rectangle
	texts  []*canvas.Text // axis and lane labels, rebuilt on layout
	size   fyne.Size
}

// NewTimeline returns an empty timeline.
func NewTimeline() *Timeline {
	t := &Timeline{}
	t.raster = canvas.NewRaster(t.draw)
	t.tip = widget.NewLabel("")
	t.tip.Hide()
	t.tipBg = canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	t.tipBg.CornerRadius = 4
	t.tipBg.Hide()
	t.ExtendBaseWidget(t)
	return t
}

// Reset clears the timeline for streams named by labels, in slots. A name
// too wide for the column of names is cut with an ellipsis.
func (t *Timeline) Reset(labels []string, slots []int) {
	t.lanes = make([]*lane, len(labels))
	for i, l := range labels {
		t.lanes[i] = &lane{label: l, slot: slots[i]}
	}
	t.now = 0
	t.hideTip()
	t.Refresh()
}

// RemoveLane takes lane i out, with its ticks and phases (its stream's
// pane was closed): the lanes below it move up, and the time axis spans
// what is left. It redraws the timeline.
func (t *Timeline) RemoveLane(i int) {
	if i < 0 || i >= len(t.lanes) {
		return
	}
	t.lanes = slices.Delete(t.lanes, i, i+1)
	t.now = 0
	for _, l := range t.lanes {
		t.now = max(t.now, l.latest())
	}
	t.hideTip()
	t.Refresh()
}

// Lanes is the number of lanes.
func (t *Timeline) Lanes() int { return len(t.lanes) }

// LaneInfo is what a lane shows, copied out of the timeline.
type LaneInfo struct {
	Label string
	// Ticks are the t_ms of its answer's tokens, Thinks those of its
	// reasoning's, in order.
	Ticks, Thinks []float64
	// Phases are its phases in order: the live estimate while its stream
	// goes on, the exact ones of its stats once it ended.
	Phases []PhaseSpan
}

// Lane is what lane i shows (0 ≤ i < Lanes()).
func (t *Timeline) Lane(i int) LaneInfo {
	l := t.lanes[i]
	return LaneInfo{Label: l.label, Ticks: slices.Clone(l.ticks), Thinks: slices.Clone(l.thinks), Phases: slices.Clone(l.phases)}
}

// latest is the time of the lane's latest event.
func (l *lane) latest() float64 {
	var at float64
	for _, ticks := range [][]float64{l.ticks, l.thinks} {
		if n := len(ticks); n > 0 {
			at = max(at, ticks[n-1])
		}
	}
	if n := len(l.phases); n > 0 {
		at = max(at, l.phases[n-1].Start, l.phases[n-1].End)
	}
	return at
}

// Add records an event of lane i; call Refresh after a batch.
func (t *Timeline) Add(i int, ev client.Event) {
	if i < 0 || i >= len(t.lanes) {
		return
	}
	l := t.lanes[i]
	t.now = max(t.now, ev.TMs)
	switch ev.Type {
	case wire.EventPhase:
		l.closePhase(ev.TMs)
		l.phases = append(l.phases, PhaseSpan{Phase: ev.Phase, Start: ev.TMs, End: -1})
	case wire.EventThinking: // in the thinking phase, which its event began
		l.thinks = append(l.thinks, ev.TMs)
		l.thinkTexts = append(l.thinkTexts, ev.Text)
	case wire.EventToken:
		l.enter(wire.PhaseGenerating, ev.TMs)
		l.ticks = append(l.ticks, ev.TMs)
		l.texts = append(l.texts, ev.Text)
	case wire.EventDone, wire.EventError:
		l.closePhase(ev.TMs)
		l.ended = true
		if ev.Stats != nil && len(ev.Stats.Phases) > 0 {
			l.phases = l.phases[:0]
			for _, p := range ev.Stats.Phases {
				l.phases = append(l.phases, PhaseSpan{Phase: p.Phase, Start: p.StartMs, End: p.EndMs})
			}
		}
	}
}

// enter puts the lane in phase at a token's time, unless it is in it: a
// token says its phase even where no phase event did.
func (l *lane) enter(phase string, at float64) {
	if len(l.phases) == 0 || l.phases[len(l.phases)-1].Phase != phase {
		l.closePhase(at)
		l.phases = append(l.phases, PhaseSpan{Phase: phase, Start: at, End: -1})
	}
}

func (l *lane) closePhase(at float64) {
	if n := len(l.phases); n > 0 && l.phases[n-1].End < 0 {
		l.phases[n-1].End = at
	}
}

// span is the time the x axis covers, as in the pictures of a run
// (paint.AxisSpan): up to about the latest event.
func (t *Timeline) span() float64 { return paint.AxisSpan(t.now) }

// along is how far along an axis that spans span run time tMs is, from 0
// to 1: a time a hair past the axis's end (see paint.AxisSpan) is at its
// end.
func along(tMs, span float64) float64 { return min(max(tMs, 0), span) / span }

// plot is the drawing area of the lanes, in widget coordinates.
func (t *Timeline) plot() (x0, width float32) {
	w := t.Size().Width - timelineLabelWidth - theme.Padding()
	return timelineLabelWidth, max(w, 1)
}

// timeX is the x position of run time tMs, in widget coordinates.
func (t *Timeline) timeX(tMs float64) float32 {
	x0, w := t.plot()
	return x0 + float32(along(tMs, t.span()))*w
}

func (t *Timeline) laneHeight() float32 {
	if len(t.lanes) == 0 {
		return timelineLaneHeight
	}
	return (t.Size().Height - timelineAxisHeight) / float32(len(t.lanes))
}

// MinSize asks for room for every lane: each as tall as its name in the
// caption size, and a little more.
func (t *Timeline) MinSize() fyne.Size {
	n := max(len(t.lanes), 2)
	return fyne.NewSize(timelineLabelWidth+200, float32(n)*minLaneHeight()+timelineAxisHeight)
}

// minLaneHeight is the least height of a lane in which its name reads.
func minLaneHeight() float32 {
	return laneLabelHeight(theme.CaptionTextSize()) + timelineMinLaneGap
}

// laneLabelHeight is the height of a lane name at text size size.
func laneLabelHeight(size float32) float32 {
	return fyne.MeasureText("Ág", size, laneLabelStyle).Height
}

// laneLabelStyle is the style of the lanes' names.
var laneLabelStyle = fyne.TextStyle{Bold: true}

// fitLabel is s as it fits in width at text size size: whole, or cut after
// a whole character with an ellipsis. A model's endpoint ("…@gpu") is kept
// whole after the ellipsis while the pane's number and a little of the
// model fit before it: it tells lanes of one model apart.
func fitLabel(s string, size, width float32) string {
	if fyne.MeasureText(s, size, laneLabelStyle).Width <= width {
		return s
	}
	tail := ""
	if i := strings.LastIndex(s, "@"); i > 0 {
		tail = s[i:]
	}
	if cut := cutLabel(s[:len(s)-len(tail)], tail, size, width); tail != "" && len([]rune(cut)) >= len([]rune(tail))+5 {
		return cut
	}
	return cutLabel(s, "", size, width)
}

// cutLabel is the longest prefix of s that fits in width with "…" and tail
// after it.
func cutLabel(s, tail string, size, width float32) string {
	runes := []rune(s)
	n := sort.Search(len(runes)+1, func(n int) bool {
		return fyne.MeasureText(string(runes[:n])+"…"+tail, size, laneLabelStyle).Width > width
	}) - 1
	return string(runes[:max(n, 0)]) + "…" + tail
}

// tokenAt finds the tick nearest to pos within the hit radius, of the
// answer or of the reasoning: its lane, its index among the ticks of its
// kind, whether it is one of the reasoning, or ok false.
func (t *Timeline) tokenAt(pos fyne.Position) (laneIdx, tick int, thinking, ok bool) {
	if len(t.lanes) == 0 || pos.Y >= t.Size().Height-timelineAxisHeight {
		return 0, 0, false, false
	}
	laneIdx = int(pos.Y / t.laneHeight())
	if laneIdx < 0 || laneIdx >= len(t.lanes) {
		return 0, 0, false, false
	}
	l := t.lanes[laneIdx]
	x0, w := t.plot()
	tm := float64((pos.X-x0)/w) * t.span()
	best, bestD := -1, float32(timelineHitRadius+1)
	for _, kind := range []struct {
		ticks    []float64
		thinking bool
	}{{l.ticks, false}, {l.thinks, true}} {
		k := sort.SearchFloat64s(kind.ticks, tm)
		for _, c := range []int{k - 1, k} {
			if c >= 0 && c < len(kind.ticks) {
				if d := float32(math.Abs(float64(t.timeX(kind.ticks[c]) - pos.X))); d < bestD {
					best, bestD, thinking = c, d, kind.thinking
				}
			}
		}
	}
	if best < 0 || bestD > timelineHitRadius {
		return 0, 0, false, false
	}
	return laneIdx, best, thinking, true
}

// MouseIn shows the tip of the tick under the pointer.
func (t *Timeline) MouseIn(e *desktop.MouseEvent) { t.showTipAt(e.Position) }

// MouseMoved follows the pointer.
func (t *Timeline) MouseMoved(e *desktop.MouseEvent) { t.showTipAt(e.Position) }

// MouseOut hides the tip.
func (t *Timeline) MouseOut() { t.hideTip() }

// Tapped shows the tip of the tapped tick (for touch screens).
func (t *Timeline) Tapped(e *fyne.PointEvent) { t.showTipAt(e.Position) }

func (t *Timeline) showTipAt(pos fyne.Position) {
	i, k, thinking, ok := t.tokenAt(pos)
	if !ok {
		t.hideTip()
		return
	}
	l := t.lanes[i]
	at := l.ticks[k]
	if thinking {
		at = l.thinks[k]
		t.tip.SetText(fmt.Sprintf("%s · thinking %q · %.1f ms · thinking token %d", l.label, l.thinkTexts[k], at, k+1))
	} else {
		t.tip.SetText(fmt.Sprintf("%s · %q · %.1f ms · token %d", l.label, l.texts[k], at, k+1))
	}
	ts := t.tip.MinSize()
	x := min(t.timeX(at)+8, t.Size().Width-ts.Width)
	y := max(float32(i)*t.laneHeight()-ts.Height, 0)
	t.tip.Move(fyne.NewPos(x, y))
	t.tip.Resize(ts)
	t.tipBg.Move(t.tip.Position())
	t.tipBg.Resize(ts)
	t.tip.Show()
	t.tipBg.Show()
	t.tipBg.Refresh()
}

func (t *Timeline) hideTip() {
	t.tip.Hide()
	t.tipBg.Hide()
}

var (
	_ desktop.Hoverable = (*Timeline)(nil)
	_ fyne.Tappable     = (*Timeline)(nil)
)
