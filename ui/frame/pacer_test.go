package frame

import (
	"testing"
	"time"
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
	var p *Pacer
	if p.Interval() != 0 {
		t.Error("a nil pacer spaces frames")
	}
}
