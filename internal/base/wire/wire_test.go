package wire

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestConversation: a stream's conversation after a run is its history
// and the run's turn; a stream that failed or was stopped before its first
// token adds no turn, one the model ended with no answer adds an empty one.
func TestConversation(t *testing.T) {
	earlier := []Turn{{Prompt: "a", Answer: "b"}}
	ended := func(event, reason string) []LoggedEvent {
		data, _ := json.Marshal(map[string]any{"seq": 0, "t_ms": 1, "reason": reason, "message": "x"})
		return []LoggedEvent{{Event: event, Data: data}}
	}
	tr := &Transcript{Prompt: "c", Streams: []StreamTranscript{
		{History: earlier, Text: "d", Events: ended(EventDone, ReasonStop)},
		{History: earlier, Text: "", Events: ended(EventError, "")},
		{History: earlier, Text: "", Events: ended(EventDone, ReasonCancelled)},
		{Text: "", Events: ended(EventDone, ReasonStop)},
		{Text: "partial", Events: ended(EventDone, ReasonCancelled)},
	}}
	want := [][]Turn{
		{{"a", "b"}, {"c", "d"}},
		{{"a", "b"}},
		{{"a", "b"}},
		{{"c", ""}},
		{{"c", "partial"}},
	}
	for i, w := range want {
		if got := tr.Conversation(i); !slices.Equal(got, w) {
			t.Errorf("stream %d: %q, want %q", i, got, w)
		}
	}
	// The transcript's own history is not changed.
	tr.Conversation(0)
	if !slices.Equal(tr.Streams[0].History, earlier) {
		t.Errorf("history changed to %q", tr.Streams[0].History)
	}
}
