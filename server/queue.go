package server

import (
	"context"
	"sync"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// queuedAfter is how long another stream of the same model must have been
// receiving its reply, while a stream has had no byte of its own, before
// that stream counts as queued. Ollama says nothing of its queue (since
// 0.10 it serves one request per model at a time unless
// OLLAMA_NUM_PARALLEL says more): the sign is that another stream is being
// answered and this one is not. Streams that Ollama serves side by side get
// their first bytes within milliseconds of each other; the margin keeps
// them from flashing "queued".
const queuedAfter = 250 * time.Millisecond

// serving tracks, per model, the streams of one Ollama source that Ollama
// is answering: from their first reply chunk to their end.
type serving struct {
	mu      sync.Mutex
	next    int64
	since   map[string]map[int64]time.Time // model -> stream -> its first chunk
	changed map[string]chan struct{}       // model -> closed when since[model] changes
}

// begin notes that Ollama began answering a stream of model; it returns the
// stream's id for end.
func (sv *serving) begin(model string) int64 {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.since == nil {
		sv.since = map[string]map[int64]time.Time{}
	}
	sv.next++
	if sv.since[model] == nil {
		sv.since[model] = map[int64]time.Time{}
	}
	sv.since[model][sv.next] = time.Now()
	sv.changedLocked(model)
	return sv.next
}

// end notes that the stream id of model has ended.
func (sv *serving) end(model string, id int64) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	delete(sv.since[model], id)
	if len(sv.since[model]) == 0 {
		delete(sv.since, model)
	}
	sv.changedLocked(model)
}

func (sv *serving) changedLocked(model string) {
	if ch, ok := sv.changed[model]; ok { // a nil map has none
		close(ch)
		delete(sv.changed, model)
	}
}

// earliest returns when the longest-served stream of model began, if one
// is served, and a channel closed at the next change.
func (sv *serving) earliest(model string) (first time.Time, ok bool, changed <-chan struct{}) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, t := range sv.since[model] {
		if !ok || t.Before(first) {
			first, ok = t, true
		}
	}
	if sv.changed == nil {
		sv.changed = map[string]chan struct{}{}
	}
	ch, exists := sv.changed[model]
	if !exists {
		ch = make(chan struct{})
		sv.changed[model] = ch
	}
	return first, ok, ch
}

// watch puts a stream of model that has had no reply (replied is open) in
// the queued phase once another stream of model has been answered for
// queuedAfter. It returns then, or when the reply comes or ctx ends.
func (sv *serving) watch(ctx context.Context, model string, replied <-chan struct{}, em *lockedEmitter) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		first, ok, changed := sv.earliest(model)
		var fire <-chan time.Time
		if ok {
			wait := time.Until(first.Add(queuedAfter))
			if wait <= 0 {
				em.phaseUnless(replied, wire.PhaseQueued)
				return
			}
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-replied:
			return
		case <-changed:
		case <-fire:
		}
	}
}

// lockedEmitter lets two goroutines of one stream emit, one at a time.
type lockedEmitter struct {
	mu sync.Mutex
	e  Emitter
}

func (l *lockedEmitter) Phase(phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.e.Phase(phase)
}

// Sent notes that the request was sent.
func (l *lockedEmitter) Sent() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.e.Sent()
}

// phaseUnless emits phase unless done is closed by then.
func (l *lockedEmitter) phaseUnless(done <-chan struct{}, phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-done:
	default:
		l.e.Phase(phase)
	}
}
