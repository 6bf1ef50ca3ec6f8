package figures_test

import (
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// TestRateShown: a rate is shown only for two tokens or more over at least
// MinRateSpanMs; a burst of tokens within microseconds has none, however
// many tokens.
func TestRateShown(t *testing.T) {
	for _, tt := range []struct {
		name   string
		tokens int
		spanMs float64
		want   bool
	}{
		{"a burst", 2000, 0.017, false},
		{"just short", 50, figures.MinRateSpanMs - 0.001, false},
		{"just long enough", 50, figures.MinRateSpanMs, true},
		{"a second", 13, 1000, true},
		{"one token", 1, 1000, false},
		{"none", 0, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := figures.RateShown(tt.tokens, tt.spanMs); got != tt.want {
				t.Errorf("RateShown(%d, %v) = %v", tt.tokens, tt.spanMs, got)
			}
		})
	}

	// A stream's own: its tokens of both kinds, from the first generated to
	// the last.
	burst := []figures.Mark{mark(wire.EventPhase, "", 0.1, "")}
	for k := range 20 {
		burst = append(burst, mark(wire.EventToken, "", 50+float64(k)*0.001, ""))
	}
	burst = append(burst, mark(wire.EventDone, "", 60, wire.ReasonStop))
	if f := figures.FromMarks(burst, nil); f.RateShown() || f.TokensPerS < 1000 {
		t.Errorf("a burst of 20 tokens in 19 µs: rate %v tok/s shown %v", f.TokensPerS, f.RateShown())
	}
	thought := []figures.Mark{
		mark(wire.EventThinking, "", 100, ""), mark(wire.EventThinking, "", 150, ""),
		mark(wire.EventToken, "", 200, ""), mark(wire.EventDone, "", 210, wire.ReasonStop),
	}
	if f := figures.FromMarks(thought, nil); !f.RateShown() || f.GenerationMs != 100 {
		t.Errorf("3 tokens over 100 ms of thinking and answer: generation %v ms, rate shown %v", f.GenerationMs, f.RateShown())
	}
}

// TestStreamEnd: a stream's figures say how it ended, from the reason of
// its done event or its error event; only a normal end compares with other
// streams.
func TestStreamEnd(t *testing.T) {
	for _, tt := range []struct {
		name       string
		end        figures.Mark
		want       figures.End
		comparable bool
	}{
		{"stop", mark(wire.EventDone, "", 900, wire.ReasonStop), figures.EndNormal, true},
		{"length", mark(wire.EventDone, "", 900, wire.ReasonLength), figures.EndNormal, true},
		{"cancelled", mark(wire.EventDone, "", 900, wire.ReasonCancelled), figures.EndCancelled, false},
		{"failed", mark(wire.EventError, "", 900, ""), figures.EndFailed, false},
		{"going on", mark(wire.EventToken, "", 900, ""), figures.EndNone, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := figures.FromMarks([]figures.Mark{mark(wire.EventToken, "", 100, ""), tt.end}, nil)
			if f.End != tt.want || f.Comparable() != tt.comparable {
				t.Errorf("end %v, comparable %v; want %v, %v", f.End, f.Comparable(), tt.want, tt.comparable)
			}
		})
	}
	// Without its reason a done event is a normal end; an error is known
	// by its type.
	if m := figures.MarkOf(wire.EventError, "", 5); m.Kind != figures.MarkFailed {
		t.Errorf("MarkOf(error) = %v", m)
	}
	if m := figures.MarkOf(wire.EventDone, "", 5); m.Kind != figures.MarkEnd {
		t.Errorf("MarkOf(done) = %v", m)
	}
}

// TestFirstTokenAt: in a sync run the second stream's TTFT counts from its
// turn, its first token's time from the run's start: what the user waited.
func TestFirstTokenAt(t *testing.T) {
	marks := []figures.Mark{
		mark(wire.EventPhase, wire.PhaseWaiting, 0.2, ""),
		mark(wire.EventPhase, wire.PhaseGenerating, 2000, ""),
		mark(wire.EventToken, "", 2231, ""), mark(wire.EventToken, "", 2400, ""),
		mark(wire.EventDone, "", 3000, wire.ReasonStop),
	}
	f := figures.FromMarks(marks, &wire.Stats{Tokens: 2, StartMs: 2000, EndMs: 3000, DurationMs: 1000})
	if f.TTFTMs != 231 || f.FirstMs != 2231 {
		t.Errorf("TTFT %v ms, first token at %v ms: want 231 and 2231", f.TTFTMs, f.FirstMs)
	}
	// Without an answer there is no first token: 0, as TTFT.
	if f := figures.FromMarks(marks[:2], nil); f.FirstMs != 0 || f.TTFTMs != 0 {
		t.Errorf("no token: first token at %v, TTFT %v", f.FirstMs, f.TTFTMs)
	}
}

func mark(event, phase string, tMs float64, reason string) figures.Mark {
	return figures.MarkOfEvent(event, phase, reason, tMs)
}

// TestStatsRateShown: the rule on a stream's final stats counts from its
// first generated token, of the reasoning when it thought first, to its
// last.
func TestStatsRateShown(t *testing.T) {
	for _, tt := range []struct {
		name string
		st   wire.Stats
		want bool
	}{
		{"a burst 50 ms in", wire.Stats{Tokens: 20, StartMs: 10, TTFTMs: 50, LastTokenMs: 60.02}, false},
		{"a second of answer", wire.Stats{Tokens: 20, StartMs: 10, TTFTMs: 50, LastTokenMs: 1060}, true},
		// The answer is a burst, the reasoning before it a second long.
		{"thought first", wire.Stats{Tokens: 5, ThinkingTokens: 19, StartMs: 10, ThinkingTTFTMs: 20, TTFTMs: 1030, LastTokenMs: 1041}, true},
		{"one token", wire.Stats{Tokens: 1, StartMs: 10, TTFTMs: 50, LastTokenMs: 60}, false},
	} {
		if got := figures.StatsRateShown(&tt.st); got != tt.want {
			t.Errorf("%s: StatsRateShown = %v", tt.name, got)
		}
	}
}
