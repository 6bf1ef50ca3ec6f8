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

// TestRunTimeLoadCaveat: a run in which a model loaded cold (for at least
// ColdLoad and a tenth of the wall time) says which model and how long, in
// either mode, beside the queued caveat when there is one; a warm model's
// few milliseconds, or a load that is a small part of a long run, say
// nothing.
func TestRunTimeLoadCaveat(t *testing.T) {
	loaded := func(ms float64, endMs float64) *wire.Stats {
		return &wire.Stats{Tokens: 10, TTFTMs: ms + 50, DurationMs: endMs, EndMs: endMs,
			Ollama: &wire.OllamaStats{EvalCount: 10, EvalDurationNs: 100e6, LoadDurationNs: int64(ms * 1e6)}}
	}
	demo := &wire.Stats{Tokens: 2, TTFTMs: 1000, DurationMs: 2000, EndMs: 2000}
	const again = " in this run (a cold start): run again to compare warm models"
	for _, tt := range []struct {
		name   string
		stats  []*wire.Stats
		models []string
		mode   string
		want   string
	}{
		{"cold in sync mode", []*wire.Stats{loaded(2100, 3000), demo}, []string{"llama3.2", "demo/hello"}, wire.ModeSync,
			"llama3.2 loaded for 2.1 s" + again},
		{"cold in async mode", []*wire.Stats{demo, loaded(2100, 3000)}, []string{"demo/hello", "llama3.2"}, wire.ModeAsync,
			"llama3.2 loaded for 2.1 s" + again},
		{"warm", []*wire.Stats{loaded(12, 900), demo}, []string{"llama3.2", "demo/hello"}, wire.ModeSync, ""},
		{"just under ColdLoad", []*wire.Stats{loaded(249, 900)}, []string{"llama3.2"}, wire.ModeSync, ""},
		{"a small part of a long run", []*wire.Stats{loaded(900, 12_000)}, []string{"llama3.2"}, wire.ModeSync, ""},
		{"two models", []*wire.Stats{loaded(2100, 4000), loaded(1400, 4000)}, []string{"llama3.2", "qwen3:0.6b"}, wire.ModeAsync,
			"llama3.2 loaded for 2.1 s and qwen3:0.6b for 1.4 s in this run (cold starts): run again to compare warm models"},
		{"one model twice", []*wire.Stats{loaded(1300, 4000), loaded(2100, 4000)}, []string{"llama3.2", "llama3.2"}, wire.ModeAsync,
			"llama3.2 loaded for 2.1 s" + again},
		{"no model names", []*wire.Stats{demo, loaded(2100, 3000)}, nil, wire.ModeSync,
			"the model of stream 2 loaded for 2.1 s" + again},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := figures.RunTimeOf(tt.stats, tt.models...).Caveat(tt.mode); got != tt.want {
				t.Errorf("caveat %q, want %q", got, tt.want)
			}
		})
	}

	// Queued and cold at once: both are said.
	queued := loaded(2100, 5000)
	queued.QueuedMs = 2500
	c := figures.RunTimeOf([]*wire.Stats{loaded(2100, 2600), queued}, "llama3.2", "llama3.2").Caveat(wire.ModeAsync)
	q, l, ok := strings.Cut(c, "; ")
	if !ok || !strings.Contains(q, "1 stream waited 2.50 s queued") || l != "llama3.2 loaded for 2.1 s"+again {
		t.Errorf("caveat %q: want the queued caveat, then the load caveat", c)
	}
}

// ollamaGen is a stream whose tokens were stamped from first to last, and
// which Ollama says it generated in evalMs.
func ollamaGen(first, last, evalMs float64) *wire.Stats {
	return &wire.Stats{Tokens: 10, TTFTMs: first, LastTokenMs: last, EndMs: last + 5, DurationMs: last + 5,
		Ollama: &wire.OllamaStats{EvalCount: 10, EvalDurationNs: int64(evalMs * 1e6)}}
}

// TestOverlapped: streams overlap when they generate at the same time for a
// while; the stamps of one stream's last tokens passing the next one's first
// by a hair, as when a model server hands over from one to the next, are
// not an overlap.
func TestOverlapped(t *testing.T) {
	gen := func(first, last float64) *wire.Stats {
		return &wire.Stats{Tokens: 10, StartMs: 0, TTFTMs: first, LastTokenMs: last, EndMs: last + 5, DurationMs: last + 5}
	}
	for _, tt := range []struct {
		name  string
		stats []*wire.Stats
		want  bool
	}{
		{"side by side", []*wire.Stats{gen(100, 1000), gen(500, 1400)}, true},
		{"handed over by a hair", []*wire.Stats{gen(100, 1000), gen(995, 1990)}, false},
		{"one after the other", []*wire.Stats{gen(100, 1000), gen(1010, 1990)}, false},
		{"a short one inside a long one", []*wire.Stats{gen(100, 5000), gen(600, 700)}, true},
		{"third overlaps the first", []*wire.Stats{gen(100, 3000), gen(200, 300), gen(1000, 1100)}, true},
		// Read behind the model: the first stream's stamps run to 1600 ms,
		// though Ollama generated it in 300 ms, before the second began.
		{"read behind a model server that served them in turn", []*wire.Stats{ollamaGen(100, 1600, 300), ollamaGen(500, 1700, 300)}, false},
		{"read behind, and generated at once", []*wire.Stats{ollamaGen(100, 1600, 1000), ollamaGen(500, 1700, 1000)}, true},
	} {
		if got := figures.RunTimeOf(tt.stats).Overlapped; got != tt.want {
			t.Errorf("%s: Overlapped = %v", tt.name, got)
		}
	}
}
