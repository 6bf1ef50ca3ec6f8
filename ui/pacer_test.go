package ui

import (
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

// TestPacerRule: above the CPU budget the frames that take tokens move
// apart, up to slowestFrameRate; well below it they come back to every
// frame; in between the interval holds.
func TestPacerRule(t *testing.T) {
	var cur time.Duration
	for range 50 {
		cur = nextInterval(cur, cpuBudget+0.5)
	}
	if want := time.Second / slowestFrameRate; cur != want {
		t.Fatalf("under load the interval went to %v, want the slowest, %v", cur, want)
	}
	if got := nextInterval(cur, cpuBudget*0.9); got != cur {
		t.Errorf("at 90%% of the budget the interval moved from %v to %v", cur, got)
	}
	steps := 0
	for cur > 0 {
		cur = nextInterval(cur, 0.1)
		steps++
	}
	if steps > 20 {
		t.Errorf("%d periods to come back to every frame", steps)
	}
	var p *pacer
	if p.interval() != 0 {
		t.Error("a nil pacer spaces frames")
	}
}

// TestMinCache: a container keeps its content's MinSize for the frame, is
// measured again in the next, and never caches while frames are not
// counted.
func TestMinCache(t *testing.T) {
	test.NewTempApp(t)
	var gen atomic.Uint64
	r := canvas.NewRectangle(nil)
	r.SetMinSize(fyne.NewSize(10, 10))
	c := withMinCache(&gen, r)
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
