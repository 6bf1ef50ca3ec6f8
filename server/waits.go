package server

import (
	"context"
	"sync"
)

// waitRoom counts the streams blocked on another stream: a sync run's
// streams before their turn, demo/oneslot's streams queued behind the one
// it serves. Such a stream holds no timer of the server's Clock; a test
// that plays a fake clock forward counts it out of the streams it waits
// for (StoreStats.WaitingStreams).
//
// Whoever lets a stream go takes it off the count before it can run, and a
// stream whose context has ended is off the count at once: the count never
// includes a stream that can run, which a fake clock could otherwise move
// under.
type waitRoom struct {
	mu sync.Mutex
	in map[*ticket]struct{}
}

// ticket is one stream's wait in a waitRoom.
type ticket struct {
	room *waitRoom
	ctx  context.Context
	open chan struct{} // closed when the stream may go
}

// enter counts a stream, whose context is ctx, as waiting. It must have
// read the clock for the last time before it waits: from here on it may
// be taken as blocked.
func (w *waitRoom) enter(ctx context.Context) *ticket {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.in == nil {
		w.in = map[*ticket]struct{}{}
	}
	t := &ticket{room: w, ctx: ctx, open: make(chan struct{})}
	w.in[t] = struct{}{}
	return t
}

// admit lets the ticket's stream go: off the count first, then woken.
func (t *ticket) admit() {
	t.leave()
	close(t.open)
}

// leave takes the ticket off the count without waking its stream (one
// whose context has ended wakes by itself).
func (t *ticket) leave() {
	t.room.mu.Lock()
	defer t.room.mu.Unlock()
	delete(t.room.in, t)
}

// wait blocks until the ticket is admitted or its context ends; it
// reports whether it was admitted. Both may have happened: then it may
// report either.
func (t *ticket) wait() bool {
	select {
	case <-t.open:
		return true
	case <-t.ctx.Done():
		return false
	}
}

// count is the number of streams waiting whose context has not ended.
func (w *waitRoom) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for t := range w.in {
		if t.ctx.Err() == nil {
			n++
		}
	}
	return n
}

// turns lets the streams of a sync run go one after another: a stream goes
// once every stream before it has ended, as a call waits for the calls
// before it to return.
type turns struct {
	room *waitRoom

	mu      sync.Mutex
	next    int       // the first stream not ended
	ended   []bool    // by stream index
	waiting []*ticket // by stream index: a stream blocked until next reaches it
}

func newTurns(n int, room *waitRoom) *turns {
	return &turns{room: room, ended: make([]bool, n), waiting: make([]*ticket, n)}
}

// wait blocks stream i, whose context is ctx, until every stream before it
// has ended or ctx ends.
func (tr *turns) wait(ctx context.Context, i int) {
	tr.mu.Lock()
	if tr.next >= i {
		tr.mu.Unlock()
		return
	}
	t := tr.room.enter(ctx)
	tr.waiting[i] = t
	tr.mu.Unlock()
	if t.wait() {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.waiting[i] == t { // not admitted meanwhile
		tr.waiting[i] = nil
		t.leave()
	}
}

// end notes that stream i has ended (it has logged its terminal event), and
// lets the next stream go if its turn has come. Calling it on a nil turns
// (an async run) does nothing.
func (tr *turns) end(i int) {
	if tr == nil {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.ended[i] = true
	for tr.next < len(tr.ended) && tr.ended[tr.next] {
		tr.next++
	}
	if tr.next < len(tr.waiting) {
		if t := tr.waiting[tr.next]; t != nil {
			tr.waiting[tr.next] = nil
			t.admit()
		}
	}
}
