package figures_test

import (
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/figures"
	"github.com/tokenloom/tokenloom/internal/wire"
)

// TestRunTimeCaveat: an async run whose streams were never generated at the
// same time while some waited queued gets a caveat naming the likely cause;
// one whose streams overlapped, a sync run, or one without queueing does
// not.
func TestRunTimeCaveat(t *testing.T) {
	oneAtATime := []*wire.Stats{
		{Tokens: 10, TTFTMs: 20, StartMs: 0, DurationMs: 500, EndMs: 500},
		{Tokens: 10, TTFTMs: 520, StartMs: 0, DurationMs: 1000, EndMs: 1000, QueuedMs: 480},
		{Tokens: 10, ThinkingTokens: 3, ThinkingTTFTMs: 1020, TTFTMs: 1100, StartMs: 0, DurationMs: 1500, EndMs: 1500, QueuedMs: 980},
	}
	sideBySide := []*wire.Stats{
		{Tokens: 10, TTFTMs: 20, StartMs: 0, DurationMs: 500, EndMs: 500},
		{Tokens: 10, TTFTMs: 30, StartMs: 0, DurationMs: 600, EndMs: 600},
	}
	// Generation never overlapped, but nothing was queued: demo streams
	// that happen to follow one another.
	apart := []*wire.Stats{
		{Tokens: 2, TTFTMs: 1000, StartMs: 0, DurationMs: 2000, EndMs: 2000},
		{Tokens: 9, TTFTMs: 100, StartMs: 0, DurationMs: 400, EndMs: 400},
	}
	// A demo stream generated beside queued Ollama streams.
	beside := append([]*wire.Stats{{Tokens: 7, TTFTMs: 100, StartMs: 0, DurationMs: 3000, EndMs: 3000}}, oneAtATime...)
	for _, tt := range []struct {
		name   string
		stats  []*wire.Stats
		mode   string
		caveat string // part of it; "" for none
	}{
		{"one at a time, queued", oneAtATime, wire.ModeAsync, "never generated at the same time"},
		{"queued beside a stream that overlapped", beside, wire.ModeAsync, "2 streams waited 1.46 s queued"},
		{"the same in sync mode", oneAtATime, wire.ModeSync, ""},
		{"side by side", sideBySide, wire.ModeAsync, ""},
		{"apart without queueing", apart, wire.ModeAsync, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := figures.RunTimeOf(tt.stats).Caveat(tt.mode)
			if (c != "") != (tt.caveat != "") || tt.caveat != "" && (!strings.Contains(c, tt.caveat) || !strings.Contains(c, "OLLAMA_NUM_PARALLEL")) {
				t.Errorf("caveat %q, want %q", c, tt.caveat)
			}
		})
	}
	if r := figures.RunTimeOf(sideBySide); !r.Overlapped || r.Generated != 2 {
		t.Errorf("side by side: %+v", r)
	}
}
