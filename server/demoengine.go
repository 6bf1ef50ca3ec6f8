package server

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// engineKey names the simulated machine of a run's streams of one model.
type engineKey struct{ run, model string }

// demoEngine is the simulated machine of demo/shared or demo/oneslot in one
// run.
type demoEngine struct {
	users int // the streams using it; guarded by Demo.mu

	mu sync.Mutex
	// shared: the next tick of the engine not yet taken
	next time.Time
	// oneslot: a stream is being answered, and the streams queued behind
	// it, first come first served
	busy  bool
	queue []*ticket
}

// engine returns the engine of key, made on first use; release it with
// the function returned.
func (d *Demo) engine(key engineKey) (*demoEngine, func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.engines[key]
	if e == nil {
		e = &demoEngine{}
		d.engines[key] = e
	}
	e.users++
	return e, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if e.users--; e.users == 0 {
			delete(d.engines, key)
		}
	}
}

// tick takes the engine's next free tick after now: one every
// 1/EngineRate seconds, handed out in turn, so that k streams asking at
// once get one in k each.
func (e *demoEngine) tick(now time.Time) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next = later(e.next, now).Add(time.Second / EngineRate)
	return e.next
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// take gives the slot to a stream if it is free; it reports whether it did.
func (e *demoEngine) take() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy {
		return false
	}
	e.busy = true
	return true
}

// await queues a stream, whose context is ctx, for the slot, counted in
// room while it waits. It returns nil once the stream has the slot, or
// ctx's error if ctx ends first.
func (e *demoEngine) await(ctx context.Context, room *waitRoom) error {
	e.mu.Lock()
	if !e.busy {
		e.busy = true
		e.mu.Unlock()
		return nil
	}
	t := room.enter(ctx)
	e.queue = append(e.queue, t)
	e.mu.Unlock()
	if t.wait() {
		return nil
	}
	e.mu.Lock()
	if i := slices.Index(e.queue, t); i >= 0 {
		e.queue = slices.Delete(e.queue, i, i+1)
		e.mu.Unlock()
		t.leave()
		return ctx.Err()
	}
	e.mu.Unlock()
	e.give() // it was handed the slot as ctx ended: pass it on
	return ctx.Err()
}

// give hands the slot to the first stream queued, or frees it.
func (e *demoEngine) give() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.queue) == 0 {
		e.busy = false
		return
	}
	t := e.queue[0]
	e.queue = e.queue[1:]
	t.admit()
}

// onEngine counts on the run's engine of req.Model: demo/shared takes each
// token's tick of the shared engine; demo/oneslot waits queued for the one
// slot, then counts at EngineRate.
func (d *Demo) onEngine(ctx context.Context, req Request, limit int, emit Emitter) (Result, error) {
	start := d.clock.Now()
	e, release := d.engine(engineKey{req.Run, req.Model})
	defer release()
	n := DefaultEngineTokens
	if limit >= 0 {
		n = limit
	}
	var clock ServerClock
	if req.Model == wire.DemoOneSlot {
		if !e.take() {
			emit.Phase(wire.PhaseQueued)
			if err := e.await(ctx, &d.waits); err != nil {
				return Result{}, err
			}
			clock.Queued = d.clock.Now().Sub(start)
		}
		defer e.give() // before release: the engine lives while one queues
	}
	emit.Phase(wire.PhaseGenerating)
	began := d.clock.Now()
	for i := range n {
		at := began.Add(time.Duration(i+1) * time.Second / EngineRate)
		if req.Model == wire.DemoShared {
			at = e.tick(d.clock.Now())
		}
		if wait := at.Sub(d.clock.Now()); wait > 0 {
			if err := sleep(ctx, d.clock, wait); err != nil {
				return Result{}, err
			}
		}
		emit.Token(countWord(i))
	}
	clock.Generation = d.clock.Now().Sub(began)
	reason := wire.ReasonStop
	if limit >= 0 {
		reason = wire.ReasonLength
	}
	return Result{Reason: reason, Clock: &clock}, nil
}

// countWord is token i of the engines' counting: " one", " two", …
// " twenty", then again.
func countWord(i int) string { return " " + countWords[i%len(countWords)] }

var countWords = strings.Fields(`one two three four five six seven eight nine ten
	eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty`)
