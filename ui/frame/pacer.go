package frame

import (
	"context"
	"sync/atomic"
	"time"
)

// Frame pacing. Fyne repaints the whole window in every frame; with a GPU
// that is cheap, but under software rendering (a VM, a remote desktop, Xvfb)
// a frame of a full window costs tens of milliseconds of CPU, and streams
// that never pause would have the app paint as many frames as the machine
// can: more than a core, taken from the models generating the tokens. The
// pacer watches the process's CPU time and, while it is above cpuBudget,
// spaces the frames that take tokens further apart (down to
// slowestFrameRate); when the CPU is free again it goes back to every frame.
const (
	cpuBudget        = 0.8 // cores
	pacerPeriod      = 500 * time.Millisecond
	slowestFrameRate = 10 // frames per second
)

// Pacer holds the least time between two frames that take tokens; its zero
// value takes every frame until Run adjusts it, and a nil Pacer never
// spaces frames.
type Pacer struct {
	min atomic.Int64 // nanoseconds; 0: every frame
}

// Interval is the least time between two frames that take tokens.
func (p *Pacer) Interval() time.Duration {
	if p == nil {
		return 0
	}
	return time.Duration(p.min.Load())
}

// Run adjusts the interval every pacerPeriod until ctx ends, from the CPU
// time that cpu reports (0: not known, no pacing).
func (p *Pacer) Run(ctx context.Context, cpu func() time.Duration) {
	t := time.NewTicker(pacerPeriod)
	defer t.Stop()
	lastCPU, lastAt := cpu(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c := cpu()
			if c == 0 {
				continue
			}
			used := float64(c-lastCPU) / float64(now.Sub(lastAt))
			lastCPU, lastAt = c, now
			p.min.Store(int64(nextInterval(time.Duration(p.min.Load()), used)))
		}
	}
}

// nextInterval is the pacer's rule: from the interval in force and the
// cores used over the last period, the interval for the next.
func nextInterval(cur time.Duration, used float64) time.Duration {
	slowest := time.Second / slowestFrameRate
	switch {
	case used > cpuBudget:
		return min(cur*5/4+4*time.Millisecond, slowest)
	case used < cpuBudget*3/4:
		if next := cur * 4 / 5; next >= 4*time.Millisecond {
			return next
		}
		return 0
	}
	return cur
}
