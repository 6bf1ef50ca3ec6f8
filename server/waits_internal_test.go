package server

import (
	"context"
	"testing"

	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
)

// TestWaitRoomCount: a ticket counts from enter until it is admitted or
// its context ends; the end of its context takes it off the count at
// once, before its stream wakes.
func TestWaitRoomCount(t *testing.T) {
	var room waitRoom
	ctx, cancel := context.WithCancel(t.Context())
	cancelled := room.enter(ctx)
	admitted := room.enter(t.Context())
	if n := room.count(); n != 2 {
		t.Fatalf("%d counted, want 2", n)
	}
	cancel()
	if n := room.count(); n != 1 {
		t.Errorf("after the cancel: %d counted, want 1", n)
	}
	admitted.admit()
	if n := room.count(); n != 0 || !admitted.wait() || cancelled.wait() {
		t.Errorf("after the admission: %d counted; wait reports %v and %v, want true and false", n, admitted.wait(), cancelled.wait())
	}
	cancelled.leave()
	if len(room.in) != 0 {
		t.Errorf("%d tickets left in the room", len(room.in))
	}
}

// TestTurns: a sync run's stream goes once every stream before it has
// ended, in whatever order they end (a stream cancelled while it waits
// ends before the one on turn); the stream let go is off the count before
// end returns.
func TestTurns(t *testing.T) {
	var room waitRoom
	tr := newTurns(3, &room)
	tr.wait(t.Context(), 0) // the first never waits
	went := make([]chan struct{}, 3)
	for i := 1; i < 3; i++ {
		went[i] = make(chan struct{})
		go func() {
			tr.wait(t.Context(), i)
			close(went[i])
		}()
	}
	testenv.Eventually(t, "streams 1 and 2 to wait", func() bool { return room.count() == 2 })
	tr.end(0)
	if n := room.count(); n != 1 {
		t.Errorf("stream 0 ended: %d waiting, want 1", n)
	}
	<-went[1]
	select {
	case <-went[2]:
		t.Fatal("stream 2 went before stream 1 ended")
	default:
	}
	tr.end(1)
	<-went[2]
	if n := room.count(); n != 0 {
		t.Errorf("%d waiting, want 0", n)
	}

	// Stream 2 ends first (cancelled while it waited); stream 1 ending
	// lets nobody else go.
	tr = newTurns(3, &room)
	tr.end(2)
	tr.end(0)
	tr.wait(t.Context(), 1)
	tr.end(1)
	if tr.next != 3 {
		t.Errorf("all ended: next %d, want 3", tr.next)
	}
}
