package frame

import (
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// minCacheLayout shows its objects over the whole container and keeps
// their MinSize for the rest of the frame. Fyne asks every object of the
// tree for its MinSize in every frame it paints, and a container computes
// its MinSize from its children's, so a pane deep in the tree is measured
// once per level above it, each time measuring its texts again. With the
// cache it is measured once per frame. gen counts the frames painted (the
// app advances it from an AnimationClock); while it is 0 nothing is cached.
type minCacheLayout struct {
	gen *atomic.Uint64
	at  uint64
	min fyne.Size
}

// WithMinCache wraps o in a container whose MinSize is computed once per
// frame.
func WithMinCache(gen *atomic.Uint64, o fyne.CanvasObject) *fyne.Container {
	return container.New(&minCacheLayout{gen: gen}, o)
}

func (l *minCacheLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	g := l.gen.Load()
	if g == 0 || g != l.at {
		l.min = fyne.Size{}
		for _, o := range objs {
			if o.Visible() {
				l.min = l.min.Max(o.MinSize())
			}
		}
		l.at = g
	}
	return l.min
}

func (l *minCacheLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.Position{})
		o.Resize(size)
	}
}

var _ fyne.Layout = (*minCacheLayout)(nil)
