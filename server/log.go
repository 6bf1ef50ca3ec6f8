package server

import (
	"bytes"
	"sync/atomic"
	"unsafe"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// eventLog holds a stream's events, each encoded once for every subscriber.
// It only grows: an event, once added, never changes, so a reader may keep
// the slices it was given without a lock. Data lines are packed into
// blocks rather than allocated one by one: a long stream is a few hundred
// objects for the garbage collector, not one per event.
type eventLog struct {
	events []logEvent // events[i] has seq i
	block  []byte     // the block the next data lines go to
}

// logEvent is one event: its type and its data line.
type logEvent struct {
	data []byte // in a block of the log; never changes
	typ  eventType
}

// eventType is an SSE event type, one byte in the log.
type eventType uint8

const (
	typePhase eventType = iota
	typeToken
	typeDone
	typeError
	typeThinking
)

var eventTypeNames = [...]string{typePhase: wire.EventPhase, typeToken: wire.EventToken, typeDone: wire.EventDone, typeError: wire.EventError, typeThinking: wire.EventThinking}

// String is the type's name on the wire.
func (t eventType) String() string { return eventTypeNames[t] }

// eventTypeOf is the log's type of a wire event type.
func eventTypeOf(name string) eventType {
	switch name {
	case wire.EventToken:
		return typeToken
	case wire.EventDone:
		return typeDone
	case wire.EventError:
		return typeError
	case wire.EventThinking:
		return typeThinking
	}
	return typePhase
}

// eventSize is the memory of one entry of the events list.
const eventSize = int64(unsafe.Sizeof(logEvent{}))

// Sizes of the blocks of data lines: a short stream's first block is
// small, and each new block doubles up to blockMax.
const (
	blockMin = 256
	blockMax = 64 << 10
)

// cost is the memory that adding a data line of n bytes allocates: a new
// block when the current one is full, a longer events list when it is. The
// list always keeps a free entry for the terminal event, whose line gets an
// allocation of its own, so that a stream whose log is full can still end.
func (l *eventLog) cost(n int, terminal bool) int64 {
	var c int64
	if l.mustGrow(terminal) {
		c += int64(grownCap(cap(l.events))-cap(l.events)) * eventSize
	}
	switch {
	case terminal:
		c += int64(n)
	case cap(l.block)-len(l.block) < n:
		c += int64(nextBlock(cap(l.block), n))
	}
	return c
}

// mustGrow reports whether adding an event needs a longer events list.
func (l *eventLog) mustGrow(terminal bool) bool {
	if terminal {
		return len(l.events) == cap(l.events)
	}
	return len(l.events)+2 > cap(l.events)
}

// add appends an event; data is copied.
func (l *eventLog) add(typ eventType, data []byte, terminal bool) {
	if l.mustGrow(terminal) {
		grown := make([]logEvent, len(l.events), grownCap(cap(l.events)))
		copy(grown, l.events)
		l.events = grown
	}
	var line []byte
	switch {
	case terminal:
		line = bytes.Clone(data)
	default:
		if cap(l.block)-len(l.block) < len(data) {
			l.block = make([]byte, 0, nextBlock(cap(l.block), len(data)))
		}
		start := len(l.block)
		l.block = append(l.block, data...)
		line = l.block[start:len(l.block):len(l.block)]
	}
	l.events = append(l.events, logEvent{data: line, typ: typ})
}

// from returns the events from seq on; the slice is the log's own.
func (l *eventLog) from(seq int64) []logEvent {
	if seq < 0 || seq >= int64(len(l.events)) {
		return nil
	}
	return l.events[seq:len(l.events):len(l.events)]
}

func grownCap(c int) int { return max(8, c*2) }

func nextBlock(prev, n int) int { return max(n, min(max(2*prev, blockMin), blockMax)) }

// logBudget is the memory that the logs of all streams, live and finished,
// may take together (Config.MaxLogBytes). It is shared by every stream's
// goroutine.
type logBudget struct {
	max  int64
	used atomic.Int64
	// makeRoom drops finished runs, oldest first, until need more bytes
	// fit or none is left; it reports whether it dropped any. It is called
	// with the asking stream's lock held.
	makeRoom func(need int64) bool
}

// take charges n bytes if they fit, making room first if need be; it
// reports whether they were charged.
func (b *logBudget) take(n int64) bool {
	for {
		if b.used.Add(n) <= b.max {
			return true
		}
		b.used.Add(-n)
		if b.makeRoom == nil || !b.makeRoom(n) {
			return false
		}
	}
}

// force charges n bytes whether they fit or not: a stream's terminal event
// is always logged.
func (b *logBudget) force(n int64) { b.used.Add(n) }

// give returns n bytes.
func (b *logBudget) give(n int64) { b.used.Add(-n) }
