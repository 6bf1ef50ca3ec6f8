package frame

import (
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

// TestMinCache: a container keeps its content's MinSize for the frame, is
// measured again in the next, and never caches while frames are not
// counted.
func TestMinCache(t *testing.T) {
	test.NewTempApp(t)
	var gen atomic.Uint64
	r := canvas.NewRectangle(nil)
	r.SetMinSize(fyne.NewSize(10, 10))
	c := WithMinCache(&gen, r)
	if c.MinSize() != fyne.NewSize(10, 10) {
		t.Fatalf("MinSize %v", c.MinSize())
	}
	r.SetMinSize(fyne.NewSize(20, 20))
	if c.MinSize() != fyne.NewSize(20, 20) {
		t.Errorf("without frames counted the MinSize was cached: %v", c.MinSize())
	}
	gen.Store(1)
	c.MinSize()
	r.SetMinSize(fyne.NewSize(30, 30))
	if c.MinSize() != fyne.NewSize(20, 20) {
		t.Errorf("within a frame MinSize was measured again: %v", c.MinSize())
	}
	gen.Add(1)
	if c.MinSize() != fyne.NewSize(30, 30) {
		t.Errorf("in the next frame MinSize is %v, want 30×30", c.MinSize())
	}
}
