package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// MaxPanes is the most streams side by side.
const MaxPanes = 8

// paneMinWidth is the narrowest a pane gets; below it the panes scroll
// horizontally instead of squashing.
const paneMinWidth = 260

// buildPanes makes the row of panes with the saved panes in it, in a
// horizontal scroll.
func (a *App) buildPanes() fyne.CanvasObject {
	panes := &panesLayout{}
	a.panesLayout = panes
	a.panesBox = container.New(panes)
	panes.scroll = container.NewHScroll(a.panesBox)
	panes.scroll.OnScrolled = func(fyne.Position) { panes.cull(a.panesBox.Objects) }
	for i, cfg := range a.savedPanes() {
		a.panes = append(a.panes, newPane(a, i, cfg))
	}
	a.layoutPanes()
	return panes.scroll
}

// layoutPanes shows the panes and enables what fits.
func (a *App) layoutPanes() {
	objs := make([]fyne.CanvasObject, len(a.panes))
	for i, p := range a.panes {
		objs[i] = p.root
	}
	a.panesBox.Objects = objs
	a.panesBox.Refresh()
	a.panesLayout.clamp(a.panesBox)
	if len(a.panes) >= MaxPanes || a.running {
		a.addBtn.Disable()
	} else {
		a.addBtn.Enable()
	}
}

// addPane adds a pane in the lowest free colour slot.
func (a *App) addPane(cfg PaneConfig) {
	if len(a.panes) >= MaxPanes {
		return
	}
	slot := 0
	for slices.ContainsFunc(a.panes, func(p *Pane) bool { return p.slot == slot }) {
		slot++
	}
	p := newPane(a, slot, cfg)
	a.panes = append(a.panes, p)
	a.layoutPanes()
	a.showPane(p) // a new pane may land beyond the right edge
	a.save()
}

// showPane scrolls the row of panes so that p is in view.
func (a *App) showPane(p *Pane) {
	scroll := a.panesLayout.scroll
	scroll.Refresh() // lays the panes out at their new widths
	view := scroll.Size().Width
	left, right := p.root.Position().X, p.root.Position().X+p.root.Size().Width
	switch {
	case left < scroll.Offset.X:
		scroll.ScrollToOffset(fyne.NewPos(left, 0))
	case right > scroll.Offset.X+view:
		scroll.ScrollToOffset(fyne.NewPos(right-view, 0))
	}
	a.panesLayout.cull(a.panesBox.Objects)
}

// removePane closes a pane, stopping its stream.
func (a *App) removePane(p *Pane) {
	if len(a.panes) == 1 {
		return // keep one pane to run
	}
	p.stop()
	a.panes = slices.DeleteFunc(a.panes, func(q *Pane) bool { return q == p })
	a.layoutPanes()
	a.dropClosedStreams()
	a.conversationControls()
	a.save()
}

// dropClosedStreams takes the streams of closed panes out of the run's
// views once no run is going on (during a run the views follow its streams
// by their place in it).
func (a *App) dropClosedStreams() {
	if a.running {
		return
	}
	for i := len(a.runPanes) - 1; i >= 0; i-- {
		if !slices.Contains(a.panes, a.runPanes[i]) {
			a.views.remove(i)
			a.runPanes = slices.Delete(a.runPanes, i, i+1)
		}
	}
}

// panesLayout puts the panes side by side in equal widths, each at least
// paneMinWidth wide (the horizontal scroll around it takes the rest).
// Panes scrolled out of view are hidden: Fyne draws every visible object
// in every frame, clipped or not.
type panesLayout struct {
	scroll *container.Scroll
}

func (l *panesLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		if o.Visible() { // panes out of view are not measured
			h = max(h, o.MinSize().Height)
		}
	}
	n := float32(len(objs))
	return fyne.NewSize(n*paneMinWidth+(n-1)*theme.Padding(), h)
}

func (l *panesLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	pad := theme.Padding()
	n := float32(len(objs))
	w := (size.Width - (n-1)*pad) / n
	for i, o := range objs {
		o.Move(fyne.NewPos(float32(i)*(w+pad), 0))
		o.Resize(fyne.NewSize(w, size.Height))
	}
	l.cull(objs)
}

// clamp keeps the scroll's offset within the row after panes closed: past
// its end the view would show blank space, with no scroll bar to come back
// by, and the panes before it would stay hidden.
func (l *panesLayout) clamp(box *fyne.Container) {
	if l.scroll == nil {
		return
	}
	l.scroll.Refresh()
	most := max(box.Size().Width-l.scroll.Size().Width, 0)
	if l.scroll.Offset.X > most {
		l.scroll.ScrollToOffset(fyne.NewPos(most, 0))
	}
	l.cull(box.Objects)
}

// cull shows the panes that the scroll's view overlaps and hides the rest.
func (l *panesLayout) cull(objs []fyne.CanvasObject) {
	if l.scroll == nil || l.scroll.Size().Width <= 0 {
		return
	}
	left := l.scroll.Offset.X
	right := left + l.scroll.Size().Width
	for _, o := range objs {
		in := o.Position().X < right && o.Position().X+o.Size().Width > left
		if in && !o.Visible() {
			o.Show()
		} else if !in && o.Visible() {
			o.Hide()
		}
	}
}

var _ fyne.Layout = (*panesLayout)(nil)
