package ui

import (
	"context"
	"sync"
	"time"
)

// frameInterval is the shortest time between two batches handed to the
// Fyne thread: about one frame at 60 Hz.
const frameInterval = 16 * time.Millisecond

// tickInterval is how often a batch is handed over even when it is empty,
// so that live figures (elapsed time) move while nothing arrives.
const tickInterval = 100 * time.Millisecond

// pump drains events on its own goroutine and hands them in batches to
// apply, through do (fyne.Do in the app), at most once per frame and never
// while the previous batch is still waiting to run. apply runs on the Fyne
// thread; its last call has final set, after the channel closed or ctx
// ended. pump returns when that call has been handed over.
func pump[E any](ctx context.Context, events <-chan E, do func(func()), apply func(batch []E, final bool)) {
	var (
		mu      sync.Mutex
		pending []E
		busy    bool // a batch is queued on the Fyne thread
	)
	hand := func(final bool) {
		mu.Lock()
		if busy && !final {
			mu.Unlock()
			return
		}
		batch := pending
		pending = nil
		busy = true
		mu.Unlock()
		do(func() {
			apply(batch, final)
			mu.Lock()
			busy = false
			mu.Unlock()
		})
	}
	frame := time.NewTicker(frameInterval)
	defer frame.Stop()
	lastHand := time.Now()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				hand(true)
				return
			}
			mu.Lock()
			pending = append(pending, ev)
			mu.Unlock()
		case <-frame.C:
			mu.Lock()
			n := len(pending)
			mu.Unlock()
			if n > 0 || time.Since(lastHand) >= tickInterval {
				hand(false)
				lastHand = time.Now()
			}
		case <-ctx.Done():
			hand(true)
			return
		}
	}
}
