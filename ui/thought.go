package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/client"
)

// thought is what a pane shows of its stream's reasoning (a thinking
// model's thinking events), above the answer: live and open while the
// stream thinks, folded to its fold line ("Thought for 12.4 s · 312
// tokens") once the answer begins; the user unfolds it again with a tap
// or the keyboard. The reasoning is a TokenView of its own, so it keeps
// the answer's properties: virtualised, appended once per frame.
type thought struct {
	line *foldLine
	view *TokenView
	sep  *canvas.Rectangle // between the reasoning and the answer
	box  *fyne.Container   // the three over the answer
	slot int
	open bool

	tokens  int
	firstMs float64 // t_ms of the first thinking token
	lastMs  float64 // of the last one
	// answerMs is the t_ms of the answer's first token, endMs of the
	// stream's end; 0 before.
	answerMs, endMs float64
	// stats are the server's figures once the stream has ended.
	stats *client.Stats
}

// newThought makes the reasoning of slot's pane, stacked over answer (see
// box).
func newThought(slot int, answer fyne.CanvasObject) *thought {
	t := &thought{view: NewTokenView(), slot: slot}
	t.line = newFoldLine(SlotDimColorName(slot), func(open bool) {
		t.setOpen(open)
		if open && t.answerMs > 0 {
			t.view.ScrollToOffset(0) // a finished reasoning reads from its start
		}
	})
	t.sep = canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))
	t.box = container.New(thoughtLayout{}, t.line, t.view, t.sep, answer)
	t.reset()
	return t
}

// reset empties it for a new stream: nothing shows until it thinks.
func (t *thought) reset() {
	t.tokens = 0
	t.firstMs, t.lastMs, t.answerMs, t.endMs = 0, 0, 0, 0
	t.stats = nil
	t.view.Clear()
	t.setOpen(true)
}

// add takes the thinking events of a batch.
func (t *thought) add(evs []client.Event) {
	if len(evs) == 0 {
		return
	}
	spans := make([]Span, len(evs))
	for i, ev := range evs {
		if t.tokens == 0 {
			t.firstMs = ev.TMs
		}
		t.tokens++
		t.lastMs = ev.TMs
		spans[i] = Span{Text: ev.Text, Slot: t.slot, Dim: true}
	}
	t.view.Append(spans...)
	t.layout()
}

// answered notes that the answer began at tMs: the thinking is over and
// folds away.
func (t *thought) answered(tMs float64) {
	if t.tokens == 0 || t.answerMs > 0 {
		return
	}
	t.answerMs = tMs
	t.setOpen(false)
}

// ended notes the stream's end at tMs, with its stats if it has any. A
// reasoning that got no answer stays as it is: there is nothing else to
// read.
func (t *thought) ended(tMs float64, stats *client.Stats) {
	t.stats = stats
	t.endMs = tMs
}

// summary is the fold line's text: how long the stream has thought, or
// thought (until its answer, or its end without one), and how many tokens.
func (t *thought) summary() string {
	until := t.answerMs
	if until == 0 {
		until = t.endMs
	}
	if until == 0 {
		return fmt.Sprintf("Thinking… %.1f s · %s", (t.lastMs-t.firstMs)/1000, plural(t.tokens, "token"))
	}
	ms, n := until-t.firstMs, t.tokens
	if st := t.stats; st != nil && st.ThinkingTokens > 0 {
		ms, n = st.ThinkingMs, st.ThinkingTokens // the server's figures, as in the stats table
	}
	return fmt.Sprintf("Thought for %.1f s · %s", ms/1000, plural(n, "token"))
}

// update shows the summary.
func (t *thought) update() {
	if t.tokens > 0 {
		t.line.SetText(t.summary())
	}
}

// setOpen unfolds or folds the reasoning.
func (t *thought) setOpen(open bool) {
	t.open = open
	t.line.SetOpen(open)
	t.layout()
}

// layout shows what is to be seen: the reasoning when it is open and
// there is one, the separator when the answer shows below it. The box is
// laid out again only when that changed.
func (t *thought) layout() {
	changed := false
	show := func(o fyne.CanvasObject, v bool) {
		if v != o.Visible() {
			changed = true
			if v {
				o.Show()
			} else {
				o.Hide()
			}
		}
	}
	reasoning := t.tokens > 0 && t.open
	show(t.line, t.tokens > 0)
	show(t.view, reasoning)
	show(t.sep, reasoning && t.answerMs > 0)
	if changed && t.box != nil {
		t.box.Refresh()
	}
}

// thoughtLayout stacks a pane's texts: the fold line, then the reasoning
// when it is open, then the answer. While the stream thinks the reasoning
// takes the whole height; once the answer has begun an open reasoning
// takes what it needs, up to thoughtShare of it, the answer the rest.
type thoughtLayout struct{}

// thoughtShare is the part of the height an open reasoning takes beside an
// answer.
const thoughtShare = 0.4

// Layout expects the fold line, the reasoning, the separator and the
// answer.
func (thoughtLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	line, reasoning, sep, answer := objs[0], objs[1], objs[2], objs[3]
	pad := theme.Padding()
	var y float32
	if line.Visible() {
		h := line.MinSize().Height
		line.Move(fyne.NewPos(0, 0))
		line.Resize(fyne.NewSize(size.Width, h))
		y = h + pad
	}
	rest := max(size.Height-y, 0)
	switch {
	case reasoning.Visible() && sep.Visible():
		rh := float32(int(rest * thoughtShare))
		if v, ok := reasoning.(*TokenView); ok {
			// Whole rows, so that the end of the reasoning shows no
			// row cut at the top.
			rh = min(rh, v.contentHeight())
			rh = rowGap + float32(int((rh-rowGap)/v.pitch()))*v.pitch()
		}
		rh = max(rh, reasoning.MinSize().Height)
		reasoning.Move(fyne.NewPos(0, y))
		reasoning.Resize(fyne.NewSize(size.Width, rh))
		sep.Move(fyne.NewPos(0, y+rh+pad/2))
		sep.Resize(fyne.NewSize(size.Width, 1))
		answer.Move(fyne.NewPos(0, y+rh+pad))
		answer.Resize(fyne.NewSize(size.Width, max(rest-rh-pad, 0)))
	case reasoning.Visible():
		reasoning.Move(fyne.NewPos(0, y))
		reasoning.Resize(fyne.NewSize(size.Width, rest))
		answer.Move(fyne.NewPos(0, size.Height))
		answer.Resize(fyne.NewSize(size.Width, 0))
	default:
		answer.Move(fyne.NewPos(0, y))
		answer.Resize(fyne.NewSize(size.Width, rest))
	}
}

// MinSize is the fold line over a row of text.
func (thoughtLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := objs[3].MinSize()
	if objs[0].Visible() {
		s.Height += objs[0].MinSize().Height + theme.Padding()
	}
	return s
}

var _ fyne.Layout = thoughtLayout{}
