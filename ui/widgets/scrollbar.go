package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// scrollBar is the track along the right edge of the view, with a thumb
// that shows which part of the text is in sight. Dragging scrolls; a click
// above or below the thumb scrolls by a page. The thumb is thin until the
// pointer is over the track, like Fyne's own.
type scrollBar struct {
	widget.BaseWidget
	view    *TokenView
	thumb   *canvas.Rectangle
	hovered bool
	ratio   float32 // text height per track height
	thumbY  float32
	thumbH  float32
}

func newScrollBar(v *TokenView) *scrollBar {
	b := &scrollBar{view: v, thumb: canvas.NewRectangle(color.Transparent)}
	b.ExtendBaseWidget(b)
	b.Hide()
	return b
}

// place puts the track along the right edge of a view of size, for a text
// of height content scrolled by offset.
func (b *scrollBar) place(size fyne.Size, content, offset float32) {
	if content <= size.Height || size.Height <= 0 {
		if b.Visible() {
			b.Hide()
		}
		return
	}
	w := theme.ScrollBarSize()
	b.ratio = content / size.Height
	b.thumbH = max(size.Height/b.ratio, w)
	b.thumbY = offset / (content - size.Height) * (size.Height - b.thumbH)
	b.Move(fyne.NewPos(size.Width-w, 0))
	b.Resize(fyne.NewSize(w, size.Height))
	if !b.Visible() {
		b.Show()
	}
	b.layoutThumb()
}

func (b *scrollBar) layoutThumb() {
	w := theme.ScrollBarSmallSize()
	if b.hovered {
		w = b.Size().Width
	}
	b.thumb.Move(fyne.NewPos(b.Size().Width-w, b.thumbY))
	b.thumb.Resize(fyne.NewSize(w, b.thumbH))
}

func (b *scrollBar) Dragged(ev *fyne.DragEvent) {
	b.view.ScrollToOffset(b.view.offset + ev.Dragged.DY*b.ratio)
}

func (b *scrollBar) DragEnd() {}

// Tapped scrolls by a page towards the click, when it is beside the thumb.
func (b *scrollBar) Tapped(ev *fyne.PointEvent) {
	v := b.view
	page := max(v.Size().Height-v.pitch(), v.pitch())
	switch {
	case ev.Position.Y < b.thumbY:
		v.ScrollToOffset(v.offset - page)
	case ev.Position.Y > b.thumbY+b.thumbH:
		v.ScrollToOffset(v.offset + page)
	}
}

func (b *scrollBar) MouseIn(*desktop.MouseEvent) {
	b.hovered = true
	b.layoutThumb()
}

func (b *scrollBar) MouseMoved(*desktop.MouseEvent) {}

func (b *scrollBar) MouseOut() {
	b.hovered = false
	b.layoutThumb()
}

func (b *scrollBar) CreateRenderer() fyne.WidgetRenderer { return &scrollBarRenderer{b: b} }

type scrollBarRenderer struct{ b *scrollBar }

func (r *scrollBarRenderer) Layout(fyne.Size) { r.b.layoutThumb() }
func (r *scrollBarRenderer) MinSize() fyne.Size {
	return fyne.NewSize(theme.ScrollBarSize(), theme.ScrollBarSize())
}
func (r *scrollBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.thumb}
}
func (r *scrollBarRenderer) Destroy() {}
func (r *scrollBarRenderer) Refresh() {
	r.b.thumb.FillColor = r.b.Theme().Color(theme.ColorNameScrollBar, fyne.CurrentApp().Settings().ThemeVariant())
	r.b.thumb.CornerRadius = theme.ScrollBarSmallSize()
	r.b.thumb.Refresh()
}
