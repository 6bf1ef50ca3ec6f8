package ui

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
)

// frameInterval is the time between two frames when they come from a
// ticker (tickerFrames), as at 60 Hz.
const frameInterval = 16 * time.Millisecond

// tickInterval is how often a batch is applied even when it is empty, so
// that live figures (elapsed time) move while nothing arrives.
const tickInterval = 100 * time.Millisecond

// frames calls onFrame on the Fyne thread once per frame until ctx ends.
type frames func(ctx context.Context, onFrame func())

// animationFrames runs onFrame as a Fyne animation: the driver ticks
// animations on its thread right before it paints a frame, so what onFrame
// changes is painted in that very frame.
func animationFrames(ctx context.Context, onFrame func()) {
	drv := fyne.CurrentApp().Driver()
	a := fyne.NewAnimation(time.Hour, func(float32) { onFrame() })
	a.RepeatCount = fyne.AnimationRepeatForever
	a.Curve = fyne.AnimationLinear
	drv.StartAnimation(a)
	<-ctx.Done()
	drv.StopAnimation(a)
}

// tickerFrames makes frames from a ticker and do, for drivers without a
// paint loop (the tests'): one frame every frameInterval, never queued
// twice.
func tickerFrames(do func(func())) frames {
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

// pump drains events on its own goroutine and hands them to apply in
// batches at the start of a frame, on the Fyne thread: a token is painted in
// the first frame after it arrived (or, when pace spaces the frames, the
// first one pace allows), and apply runs at most once per frame.
// A frame applies an empty batch once tickInterval has passed without one.
// apply's last call has final set, after the channel closed or ctx ended;
// it is run through do. pump returns when that call has been handed over.
func pump[E any](ctx context.Context, events <-chan E, frames frames, pace *pacer, do func(func()), apply func(batch []E, final bool)) {
	var (
		mu      sync.Mutex
		pending []E
		done    bool
		last    time.Time // of the last apply; on the Fyne thread
	)
	frameCtx, stopFrames := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		frames(frameCtx, func() {
			mu.Lock()
			if done || len(pending) == 0 && time.Since(last) < tickInterval || time.Since(last) < pace.interval() {
				mu.Unlock()
				return
			}
			batch := pending
			pending = nil
			mu.Unlock()
			last = time.Now()
			apply(batch, false)
		})
	})
	finish := func() {
		stopFrames()
		wg.Wait()
		mu.Lock()
		done = true
		batch := pending
		pending = nil
		mu.Unlock()
		do(func() { apply(batch, true) })
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				finish()
				return
			}
			mu.Lock()
			pending = append(pending, ev)
			mu.Unlock()
		case <-ctx.Done():
			finish()
			return
		}
	}
}
