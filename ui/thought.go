package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// thought is what a pane shows of its stream's reasoning (a thinking
// model's thinking events), above the answer: live and open while the
// stream thinks, folded to its fold line ("Thought for 12.4 s · 312
// tokens") once the answer begins; the user unfolds it again with a tap
// or the keyboard. The reasoning is a TokenView of its own, so it keeps
// the answer's properties: virtualised, appended once per frame.
type thought struct {
	line *widgets.FoldLine // open while the reasoning shows
	view *widgets.TokenView
	sep  *canvas.Rectangle // between the reasoning and the answer
	box  *fyne.Container   // the three over the answer

	tokens  int
	firstMs float64 // t_ms of the first thinking token
	// answerMs is the t_ms of the answer's first token, endMs of the
	// stream's end; 0 before.
	answerMs, endMs float64
}

// newThought makes the reasoning of slot's pane, stacked over answer (see
// box).
func newThought(slot int, answer fyne.CanvasObject) *thought {
	t := &thought{view: widgets.NewTokenView()}
	t.line = widgets.NewFoldLine(widgets.SlotDimColorName(slot), func(open bool) {
		t.layout()
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
	t.firstMs, t.answerMs, t.endMs = 0, 0, 0
	t.view.Clear()
	t.setOpen(true)
}

// add takes the reasoning of a batch: spans, the first of them at firstMs.
func (t *thought) add(spans []widgets.Span, firstMs float64) {
	if len(spans) == 0 {
		return
	}
	if t.tokens == 0 {
		t.firstMs = firstMs
	}
	t.tokens += len(spans)
	t.view.Append(spans...)
	t.layout()
}

// answered notes that the answer began at tMs: the thinking is over and
// folds away. A stream that has not thought shows nothing of it yet; a
// thought that comes after the answer stays folded, and the answer keeps
// its place.
func (t *thought) answered(tMs float64) {
	if t.answerMs > 0 {
		return
	}
	t.answerMs = tMs
	t.setOpen(false)
}

// ended notes the stream's end at tMs. A reasoning that got no answer
// stays as it is: there is nothing else to read.
func (t *thought) ended(tMs float64) { t.endMs = tMs }

// summary is the fold line's text. While the stream thinks it counts the
// tokens only: the time thought so far is the status line's, on its own
// clock. Once the stream has thought (until its answer, or its end without
// one) it says for how long, from the events' t_ms, as the stats do.
func (t *thought) summary() string {
	until := t.answerMs
	if until == 0 {
		until = t.endMs
	}
	if until == 0 {
		return "Thinking… " + figures.Plural(t.tokens, "token")
	}
	return figures.ThoughtFor(max(until-t.firstMs, 0), t.tokens)
}

// update shows the summary.
func (t *thought) update() {
	if t.tokens > 0 {
		t.line.SetText(t.summary())
	}
}

// setOpen unfolds or folds the reasoning.
func (t *thought) setOpen(open bool) {
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
	reasoning := t.tokens > 0 && t.line.Open()
	show(t.line, t.tokens > 0)
	show(t.view, reasoning)
	show(t.sep, reasoning && t.answerMs > 0)
	if changed {
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
		if v, ok := reasoning.(*widgets.TokenView); ok {
			// Whole rows, so that the end of the reasoning shows no
			// row cut at the top.
			rh = v.WholeRows(rh)
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
