package ui

import (
	"context"
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/palette"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/base/worddiff"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// The Diff tab sets two answers side against side, word by word: those of
// two panes of the run, of a pane's earlier turns, of the compared sync
// and async runs, or of runs kept in the history. Words in both are in the
// text's colour; those only in one answer are in that side's colour.

// replacedBy stands between words only in the first answer and the words
// of the second in their place, which would otherwise run together.
const replacedBy = "→"

// diffRuns is how many of the history's newest runs the pickers offer.
const diffRuns = 20

// diffSource is one answer the pickers offer.
type diffSource struct {
	label string
	slot  int
	text  string
	// A stream of a run kept in the history, read when it is picked.
	runID string
	index int
}

type diffView struct {
	app     *App
	root    fyne.CanvasObject
	a, b    *widget.Select
	summary *widget.Label
	swatchA *canvas.Rectangle
	swatchB *canvas.Rectangle
	legendA *widget.Label
	legendB *widget.Label
	view    *widgets.TokenView

	sources []diffSource
	gen     int // counts the diffs asked for: a late one is dropped
}

func newDiffView(a *App) *diffView {
	v := &diffView{app: a, view: widgets.NewTokenView()}
	v.a = widget.NewSelect(nil, func(string) { v.update() })
	v.b = widget.NewSelect(nil, func(string) { v.update() })
	v.a.PlaceHolder, v.b.PlaceHolder = "(an answer)", "(another answer)"
	v.summary = widget.NewLabel("Pick two answers: two panes of the run, a pane's earlier turn, the compared runs, or runs from the history.")
	v.summary.Wrapping = fyne.TextWrapWord
	v.swatchA, v.swatchB = diffSwatch(), diffSwatch()
	v.legendA, v.legendB = widget.NewLabel(""), widget.NewLabel("")
	v.legendA.Truncation, v.legendB.Truncation = fyne.TextTruncateEllipsis, fyne.TextTruncateEllipsis
	swap := widget.NewButton("Swap", func() {
		sa, sb := v.a.Selected, v.b.Selected
		v.a.Selected, v.b.Selected = sb, sa
		v.a.Refresh()
		v.b.Refresh()
		v.update()
	})
	pickers := container.NewBorder(nil, nil, nil, container.NewVBox(layout.NewSpacer(), swap), container.NewGridWithColumns(2,
		labeled("Answer 1", v.a), labeled("Answer 2", v.b)))
	legend := container.NewGridWithColumns(2,
		container.NewBorder(nil, nil, container.NewCenter(v.swatchA), nil, v.legendA),
		container.NewBorder(nil, nil, container.NewCenter(v.swatchB), nil, v.legendB))
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	v.root = container.NewBorder(container.NewVBox(pickers, v.summary, legend), nil, nil, nil,
		container.NewStack(bg, container.NewPadded(v.view)))
	return v
}

func diffSwatch() *canvas.Rectangle {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(14, 14))
	r.CornerRadius = 2
	return r
}

// refresh offers the answers there are now, keeping the picks that are
// still offered, and reads the history's newest runs.
func (v *diffView) refresh() {
	a := v.app
	var srcs []diffSource
	for _, p := range a.panes {
		name := streamLabel(p.slot, p.model.Selected)
		for k, t := range p.turns {
			srcs = append(srcs, diffSource{label: fmt.Sprintf("%s · turn %d", name, k+1), slot: p.slot, text: t.answer})
		}
		if p.prompt != "" && p.answer.Len() > 0 { // a stream not yet a turn: going on, or failed
			srcs = append(srcs, diffSource{label: fmt.Sprintf("%s · turn %d, so far", name, len(p.turns)+1), slot: p.slot, text: p.answer.String()})
		}
	}
	if c := a.views.compare; c.runs[0] != nil && c.runs[1] != nil {
		for k, which := range []string{"sync run", "async run"} {
			for i, st := range c.runs[k].Streams {
				slot := i
				if i < len(c.panes) {
					slot = c.panes[i].slot
				}
				srcs = append(srcs, diffSource{label: streamLabel(slot, endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String()) + " · " + which, slot: slot, text: st.Text})
			}
		}
	}
	v.setSources(srcs)
	store := a.opts.History
	if store == nil {
		return
	}
	v.gen++
	gen := v.gen
	a.background(func(ctx context.Context, _ *client.Client) func() {
		runs, err := store.List(ctx, history.Query{Limit: diffRuns})
		return func() {
			if gen != v.gen {
				return
			}
			if err != nil {
				v.summary.SetText(problem("Could not read the history", err))
				return
			}
			for _, r := range runs {
				when := r.StartedAt.Local().Format("01-02 15:04")
				for i, m := range r.Models {
					srcs = append(srcs, diffSource{label: fmt.Sprintf("%s · %s %s", streamLabel(i, m), when, clipLine(r.Prompt, 30)),
						slot: i, runID: r.ID, index: i})
				}
			}
			v.setSources(srcs)
		}
	})
}

// clipLine is the first line of s, cut to n characters.
func clipLine(s string, n int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' {
			r = append(r[:i:i], '…')
			break
		}
	}
	if len(r) > n {
		r = append(r[:n-1:n-1], '…')
	}
	return `"` + string(r) + `"`
}

func (v *diffView) setSources(srcs []diffSource) {
	v.sources = srcs
	labels := make([]string, len(srcs))
	for i, s := range srcs {
		labels[i] = s.label
	}
	keep := func(s *widget.Select, def int) {
		s.Options = labels
		if v.find(s.Selected) < 0 {
			s.Selected = ""
			if def < len(labels) {
				s.Selected = labels[def]
			}
		}
		s.Refresh()
	}
	keep(v.a, 0)
	keep(v.b, 1)
	v.update()
}

func (v *diffView) find(label string) int {
	for i, s := range v.sources {
		if s.label == label && label != "" {
			return i
		}
	}
	return -1
}

// update diffs the two answers picked, reading those of the history
// first, away from the Fyne thread with the diff itself.
func (v *diffView) update() {
	ia, ib := v.find(v.a.Selected), v.find(v.b.Selected)
	if ia < 0 || ib < 0 {
		return
	}
	sa, sb := v.sources[ia], v.sources[ib]
	v.gen++
	gen, store := v.gen, v.app.opts.History
	v.app.background(func(ctx context.Context, _ *client.Client) func() {
		var err error
		for _, s := range []*diffSource{&sa, &sb} {
			if s.runID != "" && err == nil {
				var t *wire.Transcript
				if t, err = store.Get(ctx, s.runID); err == nil && s.index < len(t.Streams) {
					s.text = t.Streams[s.index].Text
				}
			}
		}
		parts := worddiff.Words(sa.text, sb.text)
		return func() {
			if gen != v.gen {
				return
			}
			if err != nil {
				v.summary.SetText(problem("Could not read the run", err))
				return
			}
			v.show(sa, sb, parts)
		}
	})
}

// show draws the diff of a and b.
func (v *diffView) show(a, b diffSource, parts []worddiff.Part) {
	slotA, slotB := a.slot%MaxPanes, b.slot%MaxPanes
	if slotB == slotA {
		slotB = (slotA + 1) % len(palette.Slots) // the two sides apart
	}
	variant := v.app.fyneApp.Settings().ThemeVariant()
	v.swatchA.FillColor, v.swatchB.FillColor = widgets.SlotColor(slotA, variant), widgets.SlotColor(slotB, variant)
	v.swatchA.Refresh()
	v.swatchB.Refresh()
	v.legendA.SetText("only in 1: " + a.label)
	v.legendB.SetText("only in 2: " + b.label)
	spans := make([]widgets.Span, 0, len(parts)+len(parts)/2)
	for i, p := range parts {
		switch p.Op {
		case worddiff.Same:
			spans = append(spans, widgets.Span{Text: p.Text, User: true})
		case worddiff.OnlyA:
			spans = append(spans, widgets.Span{Text: p.Text, Slot: slotA})
			if i+1 < len(parts) && parts[i+1].Op == worddiff.OnlyB {
				spans = append(spans, widgets.Span{Text: replacedBy, User: true, Dim: true})
			}
		default:
			spans = append(spans, widgets.Span{Text: p.Text, Slot: slotB})
		}
	}
	v.view.Clear()
	v.view.Append(spans...)
	c := worddiff.Count(parts)
	v.summary.SetText(fmt.Sprintf("%s the same · %d only in 1 · %d only in 2 · %.0f%% alike (words in the text's colour are in both)",
		figures.Plural(c.Same, "word"), c.OnlyA, c.OnlyB, 100*c.Similarity()))
}
