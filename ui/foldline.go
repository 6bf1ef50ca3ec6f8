package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// foldLine is a one-line summary that folds and unfolds what it sums up
// (a pane's reasoning): a chevron and a line of italic text in a colour of
// the theme. A tap toggles it; so do Space and Return once it has the
// keyboard (Tab reaches it). Use it on the Fyne thread only.
type foldLine struct {
	widget.BaseWidget

	text  string
	color fyne.ThemeColorName
	open  bool
	// onToggle, if set, hears of a fold or unfold by the user.
	onToggle func(open bool)

	hovered, focused bool
}

func newFoldLine(color fyne.ThemeColorName, onToggle func(open bool)) *foldLine {
	l := &foldLine{color: color, onToggle: onToggle}
	l.ExtendBaseWidget(l)
	return l
}

// SetText shows text, refreshing only when it changed.
func (l *foldLine) SetText(text string) {
	if text != l.text {
		l.text = text
		l.Refresh()
	}
}

// SetOpen shows the line open (what it sums up is shown) or folded.
func (l *foldLine) SetOpen(open bool) {
	if open != l.open {
		l.open = open
		l.Refresh()
	}
}

// toggle folds or unfolds, as the user asked.
func (l *foldLine) toggle() {
	l.SetOpen(!l.open)
	if l.onToggle != nil {
		l.onToggle(l.open)
	}
}

// Tapped toggles.
func (l *foldLine) Tapped(*fyne.PointEvent) { l.toggle() }

// Cursor is the pointing hand: the line is a control.
func (l *foldLine) Cursor() desktop.Cursor { return desktop.PointerCursor }

// MouseIn highlights the line.
func (l *foldLine) MouseIn(*desktop.MouseEvent) { l.hovered = true; l.Refresh() }

// MouseMoved does nothing.
func (l *foldLine) MouseMoved(*desktop.MouseEvent) {}

// MouseOut removes the highlight.
func (l *foldLine) MouseOut() { l.hovered = false; l.Refresh() }

// FocusGained marks the line as having the keyboard.
func (l *foldLine) FocusGained() { l.focused = true; l.Refresh() }

// FocusLost removes the mark.
func (l *foldLine) FocusLost() { l.focused = false; l.Refresh() }

// TypedRune toggles on a space.
func (l *foldLine) TypedRune(r rune) {
	if r == ' ' {
		l.toggle()
	}
}

// TypedKey toggles on Return or Enter (Space comes as a rune).
func (l *foldLine) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		l.toggle()
	}
}

// CreateRenderer draws the highlight, the chevron and the text.
func (l *foldLine) CreateRenderer() fyne.WidgetRenderer {
	r := &foldLineRenderer{l: l, bg: canvas.NewRectangle(nil), icon: widget.NewIcon(nil), text: canvas.NewText("", nil)}
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.text.TextStyle = fyne.TextStyle{Italic: true}
	r.Refresh()
	return r
}

type foldLineRenderer struct {
	l    *foldLine
	bg   *canvas.Rectangle
	icon *widget.Icon
	text *canvas.Text
}

func (r *foldLineRenderer) iconSize() float32 { return theme.IconInlineSize() }

func (r *foldLineRenderer) Layout(s fyne.Size) {
	pad := theme.InnerPadding() / 2
	is := r.iconSize()
	r.bg.Resize(s)
	r.icon.Move(fyne.NewPos(pad, (s.Height-is)/2))
	r.icon.Resize(fyne.NewSquareSize(is))
	th := r.text.MinSize().Height
	r.text.Move(fyne.NewPos(pad+is+pad, (s.Height-th)/2))
	r.text.Resize(fyne.NewSize(max(s.Width-2*pad-is-pad, 0), th))
}

// MinSize is one line of text: the text itself may be cut at the right.
func (r *foldLineRenderer) MinSize() fyne.Size {
	pad := theme.InnerPadding() / 2
	return fyne.NewSize(r.iconSize()+3*pad, max(r.text.MinSize().Height, r.iconSize())+pad)
}

func (r *foldLineRenderer) Refresh() {
	l := r.l
	th := l.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	switch {
	case l.focused:
		r.bg.FillColor = th.Color(theme.ColorNameFocus, v)
	case l.hovered:
		r.bg.FillColor = th.Color(theme.ColorNameHover, v)
	default:
		r.bg.FillColor = nil
	}
	r.bg.Refresh()
	if l.open {
		r.icon.SetResource(theme.MenuDropDownIcon())
	} else {
		r.icon.SetResource(theme.MenuExpandIcon())
	}
	r.text.Text = l.text
	r.text.Color = th.Color(l.color, v)
	r.text.TextSize = th.Size(theme.SizeNameText)
	r.text.Refresh()
	r.Layout(l.Size())
}

func (r *foldLineRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.icon, r.text}
}

func (r *foldLineRenderer) Destroy() {}

var (
	_ fyne.Tappable      = (*foldLine)(nil)
	_ fyne.Focusable     = (*foldLine)(nil)
	_ desktop.Hoverable  = (*foldLine)(nil)
	_ desktop.Cursorable = (*foldLine)(nil)
)
