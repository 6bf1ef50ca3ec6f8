package frame

import (
	"context"
	"sync"
	"time"
)

// tickInterval is how often a batch is applied even when it is empty, so
// that live figures (elapsed time) move while nothing arrives.
const tickInterval = 100 * time.Millisecond

// Pump drains events on its own goroutine and hands them to apply in
// batches at the start of a frame, on the Fyne thread: a token is painted in
// the first frame after it arrived (or, when pace spaces the frames, the
// first one pace allows), and apply runs at most once per frame.
// A frame applies an empty batch once tickInterval has passed without one.
// apply's last call has final set, after the channel closed or ctx ended;
// it is run through do. Pump returns when that call has been handed over.
func Pump[E any](ctx context.Context, events <-chan E, clock Clock, pace *Pacer, do func(func()), apply func(batch []E, final bool)) {
	var (
		mu      sync.Mutex
		pending []E
		done    bool
		last    time.Time // of the last apply; on the Fyne thread
	)
	frameCtx, stopFrames := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		clock(frameCtx, func() {
			mu.Lock()
			if done || len(pending) == 0 && time.Since(last) < tickInterval || time.Since(last) < pace.Interval() {
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
