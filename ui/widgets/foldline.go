package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// FoldLine is a one-line summary that folds and unfolds what it sums up
// (a pane's reasoning): a chevron and a line of italic text in a colour of
// the theme. A tap toggles it; so do Space and Return once it has the
// keyboard (Tab reaches it). Use it on the Fyne thread only.
type FoldLine struct {
	widget.BaseWidget

	text  string
	color fyne.ThemeColorName
	open  bool
	// onToggle, if set, hears of a fold or unfold by the user.
	onToggle func(open bool)

	hovered, focused bool
}

// NewFoldLine makes a folded line whose text is in the theme's colour
// color; onToggle, if not nil, hears of each fold or unfold by the user, on
// the Fyne thread.
func NewFoldLine(color fyne.ThemeColorName, onToggle func(open bool)) *FoldLine {
	l := &FoldLine{color: color, onToggle: onToggle}
	l.ExtendBaseWidget(l)
	return l
}

// SetText shows text, refreshing only when it changed.
func (l *FoldLine) SetText(text string) {
	if text != l.text {
		l.text = text
		l.Refresh()
	}
}

// Text is the text shown.
func (l *FoldLine) Text() string { return l.text }

// Open reports whether the line is open: what it sums up is shown.
func (l *FoldLine) Open() bool { return l.open }

// SetOpen shows the line open (what it sums up is shown) or folded.
func (l *FoldLine) SetOpen(open bool) {
	if open != l.open {
		l.open = open
		l.Refresh()
	}
}

// toggle folds or unfolds, as the user asked.
func (l *FoldLine) toggle() {
	l.SetOpen(!l.open)
	if l.onToggle != nil {
		l.onToggle(l.open)
	}
}

// Tapped toggles.
func (l *FoldLine) Tapped(*fyne.PointEvent) { l.toggle() }

// Cursor is the pointing hand: the line is a control.
func (l *FoldLine) Cursor() desktop.Cursor { return desktop.PointerCursor }

// MouseIn highlights the line.
func (l *FoldLine) MouseIn(*desktop.MouseEvent) { l.hovered = true; l.Refresh() }

// MouseMoved does nothing.
func (l *FoldLine) MouseMoved(*desktop.MouseEvent) {}

// MouseOut removes the highlight.
func (l *FoldLine) MouseOut() { l.hovered = false; l.Refresh() }

// FocusGained marks the line as having the keyboard.
func (l *FoldLine) FocusGained() { l.focused = true; l.Refresh() }

// FocusLost removes the mark.
func (l *FoldLine) FocusLost() { l.focused = false; l.Refresh() }

// TypedRune toggles on a space.
func (l *FoldLine) TypedRune(r rune) {
	if r == ' ' {
		l.toggle()
	}
}

// TypedKey toggles on Return or Enter (Space comes as a rune).
func (l *FoldLine) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		l.toggle()
	}
}

// CreateRenderer draws the highlight, the chevron and the text.
func (l *FoldLine) CreateRenderer() fyne.WidgetRenderer {
	r := &foldLineRenderer{l: l, bg: canvas.NewRectangle(nil), icon: widget.NewIcon(nil), text: canvas.NewText("", nil)}
	r.bg.CornerRadius = theme.InputRadiusSize()
	r.text.TextStyle = fyne.TextStyle{Italic: true}
	r.Refresh()
	return r
}

type foldLineRenderer struct {
	l    *FoldLine
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
	_ fyne.Tappable      = (*FoldLine)(nil)
	_ fyne.Focusable     = (*FoldLine)(nil)
	_ desktop.Hoverable  = (*FoldLine)(nil)
	_ desktop.Cursorable = (*FoldLine)(nil)
)
