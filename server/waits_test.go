package server_test

import (
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/fakeclock"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/server"
)

// TestWaitingStreams: the streams blocked on another stream, which hold no
// timer of the clock, are counted apart: a sync run's streams before their
// turn, and demo/oneslot's queued streams. A stream leaves the count when
// its turn comes or when it is cancelled, at once.
func TestWaitingStreams(t *testing.T) {
	srv, clock, cl := startFake(t, server.Config{})
	counts := func() [2]int {
		st := srv.Stats()
		return [2]int{st.ActiveStreams, st.WaitingStreams}
	}
	waitFor := func(what string, want [2]int) {
		t.Helper()
		testenv.Eventually(t, what, func() bool { return counts() == want })
	}

	run := startRun(t, cl, wire.RunRequest{Prompt: "go", Mode: wire.ModeSync, Streams: []wire.StreamSpec{
		{Model: wire.DemoHello}, {Model: wire.DemoTask1}, {Model: wire.DemoTask2}}})
	waitFor("the later streams of a sync run to wait", [2]int{3, 2})
	// Cancelled, the last one is off the count before the reply.
	if err := cl.CancelStream(t.Context(), run.Streams[2].ID); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got[1] != 1 {
		t.Errorf("after the cancel of a waiting stream: %d waiting, want 1", got[1])
	}
	waitFor("the cancelled stream's end", [2]int{2, 1})
	// Play until hello has ended: task 1's turn has come.
	if err := clock.RunUntil(t.Context(), fakeclock.Playing(srv), func() bool {
		tr, err := cl.Run(t.Context(), run.ID)
		return err == nil && tr.Streams[0].Stats != nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got != [2]int{1, 0} {
		t.Errorf("hello ended: %d active, %d waiting; want 1, 0", got[0], got[1])
	}
	playOut(t, srv, clock)

	five := &wire.Options{NumPredict: ptr(5)}
	queued := startRun(t, cl, wire.RunRequest{Prompt: "x", Streams: []wire.StreamSpec{
		{Model: wire.DemoOneSlot, Options: five}, {Model: wire.DemoOneSlot, Options: five}}})
	waitFor("one demo/oneslot stream queued behind the other", [2]int{2, 1})
	playOut(t, srv, clock)
	tr := transcriptOf(t, cl, queued)
	if q0, q1 := tr.Streams[0].Stats.QueuedMs, tr.Streams[1].Stats.QueuedMs; q0+q1 != 500 || q0*q1 != 0 {
		t.Errorf("queued %v and %v ms, want 0 and 500", q0, q1)
	}
	if got := counts(); got != [2]int{0, 0} {
		t.Errorf("after the runs: %d active, %d waiting", got[0], got[1])
	}
}
