package widgets

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tipDelay is how long the pointer rests on a control before its tip shows.
const tipDelay = 500 * time.Millisecond

// TipLayer draws tooltips above the window's content. It is a layer of its
// own, not a pop-up: a pop-up would take the next click, and the click
// belongs to the control under the pointer.
type TipLayer struct {
	box  *fyne.Container
	bg   *canvas.Rectangle
	text *canvas.Text
	// shown counts the tips asked for: a late timer of an earlier one
	// shows nothing.
	shown int
	after func(time.Duration, func())
	// repaint asks the window for a frame: a layer hidden since the start
	// is not yet known to the canvas, and refreshing it alone paints
	// nothing.
	repaint func(fyne.CanvasObject)
	// window is the size of the window, which a tip stays inside.
	window func() fyne.Size
}

// NewTipLayer makes the layer of a window: after runs a func on the Fyne
// thread later, repaint asks the window to paint an object again, window
// is the window's size. Place Object over the window's content.
func NewTipLayer(after func(time.Duration, func()), repaint func(fyne.CanvasObject), window func() fyne.Size) *TipLayer {
	l := &TipLayer{after: after, repaint: repaint, window: window}
	l.bg = canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	l.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	l.bg.StrokeWidth = 1
	l.bg.CornerRadius = theme.InputRadiusSize()
	l.text = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	l.text.TextSize = theme.Size(theme.SizeNameCaptionText)
	l.box = container.NewWithoutLayout(l.bg, l.text)
	l.bg.Hide()
	l.text.Hide()
	return l
}

// Object is the layer, to place over the window's content.
func (l *TipLayer) Object() fyne.CanvasObject { return l.box }

// request shows tip near abs (the pointer, in window coordinates) after
// tipDelay, within the window as large as it is now.
func (l *TipLayer) request(tip string, abs fyne.Position) {
	win := l.window()
	l.shown++
	n := l.shown
	l.after(tipDelay, func() {
		if l.shown == n {
			l.show(tip, abs, win)
		}
	})
}

// show puts tip below and right of abs, inside the window.
func (l *TipLayer) show(tip string, abs fyne.Position, win fyne.Size) {
	l.text.Text = tip
	l.text.Color = theme.Color(theme.ColorNameForeground)
	l.bg.FillColor = theme.Color(theme.ColorNameOverlayBackground)
	l.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
	pad := theme.InnerPadding() / 2
	ts := l.text.MinSize()
	size := fyne.NewSize(ts.Width+2*pad, ts.Height+pad)
	x := min(abs.X+12, win.Width-size.Width)
	y := abs.Y + 20
	if y+size.Height > win.Height {
		y = abs.Y - size.Height - 4
	}
	pos := fyne.NewPos(max(x, 0), max(y, 0))
	l.bg.Move(pos)
	l.bg.Resize(size)
	l.text.Move(pos.AddXY(pad, pad/2))
	l.text.Resize(ts)
	l.bg.Show()
	l.text.Show()
	l.repaint(l.box)
}

// hide hides the tip, and one that is still to come.
func (l *TipLayer) hide() {
	l.shown++
	if l.text.Visible() {
		l.bg.Hide()
		l.text.Hide()
		l.repaint(l.box)
	}
}

// Tip is the tooltip of the control, shown while the pointer rests on it.
func (l *TipLayer) Tip() string {
	if !l.text.Visible() {
		return ""
	}
	return l.text.Text
}

// TipButton is a button with a tooltip: icon-only buttons say what they do.
// Make one with TipLayer.NewButton.
type TipButton struct {
	widget.Button
	base  fyne.Resource // its own icon, while Flash shows another
	tip   string
	layer *TipLayer
}

// Tip is the button's tooltip.
func (b *TipButton) Tip() string { return b.tip }

// NewButton makes a low-importance icon button whose tooltip shows in the
// layer.
func (l *TipLayer) NewButton(icon fyne.Resource, tip string, tapped func()) *TipButton {
	b := &TipButton{tip: tip, layer: l}
	b.Icon, b.base, b.OnTapped = icon, icon, tapped
	b.Importance = widget.LowImportance
	b.ExtendBaseWidget(b)
	return b
}

// MouseIn starts the tip's delay.
func (b *TipButton) MouseIn(e *desktop.MouseEvent) {
	b.Button.MouseIn(e)
	b.layer.request(b.tip, e.AbsolutePosition)
}

// MouseMoved keeps the tip where it is.
func (b *TipButton) MouseMoved(e *desktop.MouseEvent) { b.Button.MouseMoved(e) }

// MouseOut hides the tip.
func (b *TipButton) MouseOut() {
	b.Button.MouseOut()
	b.layer.hide()
}

// Tapped hides the tip and acts.
func (b *TipButton) Tapped(e *fyne.PointEvent) {
	b.layer.hide()
	b.Button.Tapped(e)
}

// Flash shows icon instead of the button's own for a moment: "copied".
func (b *TipButton) Flash(icon fyne.Resource) {
	b.SetIcon(icon)
	b.layer.after(FlashFor, func() { b.SetIcon(b.base) })
}

// FlashFor is how long a button shows that it did something (Flash).
const FlashFor = 1500 * time.Millisecond
