package server_test

import (
	"slices"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/server"
)

// TestConversationKept sends a follow-up to two streams, each with its own
// history: the transcript keeps each stream's, Conversation extends it by
// the run's turn, and a replay of the run keeps it too.
func TestConversationKept(t *testing.T) {
	_, cl := start(t, server.Config{})
	first := []wire.Turn{{Prompt: "Say hi.", Answer: "Hello world"}}
	second := []wire.Turn{{Prompt: "Say hi.", Answer: ""}, {Prompt: "Again?", Answer: "To be"}}
	run := startRun(t, cl, wire.RunRequest{Prompt: "And now?", Streams: []wire.StreamSpec{
		{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(0.0)}, History: first},
		{Model: wire.DemoEcho, Options: &wire.Options{Rate: ptr(0.0)}, History: second},
	}})
	for _, st := range run.Streams {
		collect(t, cl, st.ID)
	}
	tr, err := cl.Run(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]wire.Turn{first, second} {
		if got := tr.Streams[i].History; !slices.Equal(got, want) {
			t.Errorf("stream %d: history %q, want %q", i, got, want)
		}
		next := append(slices.Clone(want), wire.Turn{Prompt: "And now?", Answer: tr.Streams[i].Text})
		if got := tr.Conversation(i); !slices.Equal(got, next) || tr.Streams[i].Text == "" {
			t.Errorf("stream %d: conversation %q, want %q", i, got, next)
		}
	}

	replay, err := cl.StartReplay(t.Context(), tr, 16)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range replay.Streams {
		collect(t, cl, st.ID)
	}
	rt, err := cl.Run(t.Context(), replay.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rt.Streams[1].History, second) {
		t.Errorf("replay: history %q, want %q", rt.Streams[1].History, second)
	}
}
