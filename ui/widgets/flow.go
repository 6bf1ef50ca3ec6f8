package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Flow lays its objects out in a row at their own sizes and wraps them to
// the next row where the width ends, like words: a narrow window keeps every
// button of the toolbar within reach.
//
// A layout's MinSize cannot know the width it will get, so Flow is a widget
// that remembers the last width it was laid out at, and asks its parent for
// a new layout when that width needs another number of rows.
type Flow struct {
	widget.BaseWidget
	objects []fyne.CanvasObject
	width   float32 // of the last layout; 0 before the first
}

// NewFlow lays objects out in rows.
func NewFlow(objects ...fyne.CanvasObject) *Flow {
	f := &Flow{objects: objects}
	f.ExtendBaseWidget(f)
	return f
}

func (f *Flow) CreateRenderer() fyne.WidgetRenderer { return &flowRenderer{f: f} }

// rows places the objects in rows no wider than width (one object a row at
// least) and returns the height they take; place moves them there if set.
func (f *Flow) rows(width float32, place bool) float32 {
	pad := theme.Padding()
	var x, y, rowH float32
	for _, o := range f.objects {
		if !o.Visible() {
			continue
		}
		s := o.MinSize()
		if x > 0 && x+s.Width > width {
			x, y = 0, y+rowH+pad
			rowH = 0
		}
		if place {
			o.Move(fyne.NewPos(x, y))
			o.Resize(s)
		}
		x += s.Width + pad
		rowH = max(rowH, s.Height)
	}
	return y + rowH
}

type flowRenderer struct {
	f *Flow
}

func (r *flowRenderer) Layout(s fyne.Size) {
	f := r.f
	before := f.rows(f.width, false)
	f.width = s.Width
	if f.rows(s.Width, true) != before {
		f.Refresh() // the parent needs the new height
	}
}

// MinSize is as wide as the widest object, and as tall as the rows take at
// the width of the last layout (one row before the first).
func (r *flowRenderer) MinSize() fyne.Size {
	f := r.f
	var w, total float32
	for _, o := range f.objects {
		if o.Visible() {
			w = max(w, o.MinSize().Width)
			total += o.MinSize().Width + theme.Padding()
		}
	}
	width := f.width
	if width <= 0 {
		width = total
	}
	return fyne.NewSize(w, f.rows(max(width, w), false))
}

func (r *flowRenderer) Refresh() {
	for _, o := range r.f.objects {
		o.Refresh()
	}
}

func (r *flowRenderer) Objects() []fyne.CanvasObject { return r.f.objects }

func (r *flowRenderer) Destroy() {}
