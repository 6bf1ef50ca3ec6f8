package frame

import (
	"context"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
)

// frameInterval is the time between two frames when they come from a
// ticker (TickerClock), as at 60 Hz.
const frameInterval = 16 * time.Millisecond

// Clock calls onFrame on the Fyne thread once per painted frame until
// ctx ends: the beat at which the views take their batches.
type Clock func(ctx context.Context, onFrame func())

// AnimationClock runs onFrame as a Fyne animation: the driver ticks
// animations on its thread right before it paints a frame, so what onFrame
// changes is painted in that very frame.
func AnimationClock(ctx context.Context, onFrame func()) {
	drv := fyne.CurrentApp().Driver()
	a := fyne.NewAnimation(time.Hour, func(float32) { onFrame() })
	a.RepeatCount = fyne.AnimationRepeatForever
	a.Curve = fyne.AnimationLinear
	drv.StartAnimation(a)
	<-ctx.Done()
	drv.StopAnimation(a)
}

// TickerClock makes a paint clock from a ticker and do, for drivers
// without a paint loop (the tests'): one frame every frameInterval, never
// queued twice.
func TickerClock(do func(func())) Clock {
	return func(ctx context.Context, onFrame func()) {
		var queued atomic.Bool
		t := time.NewTicker(frameInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if queued.CompareAndSwap(false, true) {
					do(func() {
						queued.Store(false)
						onFrame()
					})
				}
			}
		}
	}
}
