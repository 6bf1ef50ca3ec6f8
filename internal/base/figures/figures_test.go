package figures_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/testkit/transcripttest"
)

func TestMain(m *testing.M) {
	testenv.VerifyTestMain(m)
}

// TestStreamFigures computes the figures of hand-made streams with known
// times: exact nearest-rank percentiles (not interpolated ones), TTFT from
// the stream's start, the server's tokens/s, Ollama's eval rate; and the
// figures of streams still going on.
func TestStreamFigures(t *testing.T) {
	fx := transcripttest.Run()
	tests := []struct {
		name string
		st   wire.StreamTranscript
		want figures.Stream
	}{
		{
			// Gaps 10, 20, 30, 40, 50, 1, 1, 148: sorted 1 1 10 20 30 40 50
			// 148; p50 is rank ceil(4) = 20 (interpolation: 25), p95 rank
			// ceil(7.6) = 8: 148 (interpolation: about 114.7).
			"Ollama stream", fx.Streams[1],
			figures.Stream{Tokens: 9, TTFTMs: 99.8, TokensPerS: 9 / 0.310, ITLP50Ms: 20, ITLP95Ms: 148, DurationMs: 409.8,
				GenerationMs: 300, FirstMs: 100, End: figures.EndNormal,
				HasOllama: true, EvalCount: 9, EvalRate: 30, PromptEvalMs: 12.5, LoadMs: 87.1,
				BusyMs: 399.6, ServerClock: true}, // its stats' phases, by Ollama's clock
		},
		{
			// Thinks from 100 to the answer at 400: TTFT is the answer's,
			// tokens/s counts the reasoning too, from its first token;
			// the inter-token latency is the answer's.
			"thinking stream", transcripttest.Stream(0, "demo/think", 0.2, nil,
				transcripttest.Phase(0.3, wire.PhaseThinking), thinking(100, "The"), thinking(150, " user"), thinking(300, "."),
				transcripttest.Phase(400, wire.PhaseGenerating), transcripttest.Token(400, "Hi"), transcripttest.Token(500, "!"), transcripttest.Done(600, wire.ReasonStop)),
			figures.Stream{Tokens: 2, TTFTMs: 399.8, ThinkingTokens: 3, ThinkingTTFTMs: 99.8, ThinkingMs: 300,
				TokensPerS: 5 / 0.5, ITLP50Ms: 100, ITLP95Ms: 100, DurationMs: 599.8,
				GenerationMs: 400, FirstMs: 400, End: figures.EndNormal, BusyMs: 599.7},
		},
		{
			// Stopped while thinking: it thought until its end; no answer,
			// no TTFT.
			"thought without an answer", transcripttest.Stream(0, "demo/think", 0, nil,
				transcripttest.Phase(0.1, wire.PhaseThinking), thinking(100, "The"), thinking(200, " user"), transcripttest.Done(250, wire.ReasonCancelled)),
			figures.Stream{ThinkingTokens: 2, ThinkingTTFTMs: 100, ThinkingMs: 150, TokensPerS: 2 / 0.15, DurationMs: 250,
				GenerationMs: 100, End: figures.EndCancelled, BusyMs: 249.9},
		},
		{
			"two tokens", fx.Streams[0],
			figures.Stream{Tokens: 2, TTFTMs: 1000.6, TokensPerS: 2 / 1.0006, ITLP50Ms: 1000.3, ITLP95Ms: 1000.3, DurationMs: 2001.2,
				GenerationMs: 1000.3, FirstMs: 1000.9, End: figures.EndNormal, BusyMs: 2001, ServerClock: true},
		},
		{
			"one token", transcripttest.Stream(0, "demo/x", 0, nil, transcripttest.Phase(1, wire.PhaseGenerating), transcripttest.Token(40, "a"), transcripttest.Done(50, wire.ReasonStop)),
			figures.Stream{Tokens: 1, TTFTMs: 40, TokensPerS: 20, DurationMs: 50, FirstMs: 40, End: figures.EndNormal, BusyMs: 49},
		},
		{
			"failed at once", fx.Streams[2],
			figures.Stream{DurationMs: 0.1, End: figures.EndFailed},
		},
		{
			// A burst: two tokens 2 ms apart, then cancelled.
			"cancelled burst", fx.Streams[3],
			figures.Stream{Tokens: 2, TTFTMs: 1.7, TokensPerS: 2 / 0.003, ITLP50Ms: 2, ITLP95Ms: 2, DurationMs: 4.7,
				GenerationMs: 2, FirstMs: 2, End: figures.EndCancelled, BusyMs: 4.6},
		},
		{
			// No terminal event yet: the start is the first event after
			// waiting, the end the last event.
			"sync stream going on", transcripttest.Stream(1, "demo/x", 0, nil,
				transcripttest.Phase(0.2, wire.PhaseWaiting), transcripttest.Phase(1000, wire.PhaseGenerating), transcripttest.Token(1100, "a"), transcripttest.Token(1150, "b"), transcripttest.Token(1300, "c")),
			figures.Stream{Tokens: 3, TTFTMs: 100, TokensPerS: 15, ITLP50Ms: 50, ITLP95Ms: 150, DurationMs: 300,
				GenerationMs: 200, FirstMs: 1100},
		},
		{
			"waiting", transcripttest.Stream(1, "demo/x", 0, nil, transcripttest.Phase(0.2, wire.PhaseWaiting)),
			figures.Stream{},
		},
		{"no events", wire.StreamTranscript{}, figures.Stream{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := figures.FromTranscript(tt.st)
			g, w := reflect.ValueOf(got), reflect.ValueOf(tt.want)
			for i := range g.NumField() {
				name := g.Type().Field(i).Name
				switch a, b := g.Field(i), w.Field(i); a.Kind() {
				case reflect.Float64:
					if math.Abs(a.Float()-b.Float()) > 1e-9 {
						t.Errorf("%s = %v, want %v", name, a.Float(), b.Float())
					}
				default:
					if a.Interface() != b.Interface() {
						t.Errorf("%s = %v, want %v", name, a.Interface(), b.Interface())
					}
				}
			}
		})
	}
}

func thinking(ms float64, text string) transcripttest.Event {
	return transcripttest.Event{Type: wire.EventThinking, Data: wire.EventData{Text: text, TMs: ms}}
}

// TestThinkingFiguresAgreeWithServer: the figures of a thinking stream are
// the server's (Thinking), unrounded.
func TestThinkingFiguresAgreeWithServer(t *testing.T) {
	st := transcripttest.Stream(0, "demo/think", 1.5, nil,
		transcripttest.Phase(1.6, wire.PhaseThinking), thinking(120.25, "a"), thinking(333.5, "b"), thinking(900.125, "c"),
		transcripttest.Token(1000.5, "x"), transcripttest.Token(1700.75, "y"), transcripttest.Done(1800, wire.ReasonStop))
	f := figures.FromTranscript(st)
	ttft, thinkingMs, rate := figures.Thinking(3, 2, 1.5, 120.25, 1000.5, 1800)
	if math.Abs(f.ThinkingTTFTMs-ttft) > 1e-3 || math.Abs(f.ThinkingMs-thinkingMs) > 1e-3 || math.Abs(f.TokensPerS-rate) > 0.05 {
		t.Errorf("figures %v ms, %v ms, %v tokens/s; the server's %v, %v, %v", f.ThinkingTTFTMs, f.ThinkingMs, f.TokensPerS, ttft, thinkingMs, rate)
	}
	if f.TTFTMs != 999 {
		t.Errorf("TTFT %v, want 999 ms: to the first answer token", f.TTFTMs)
	}
}

// TestThinking pins the server's figures of thinking streams (Thinking, as
// the stats carry them), to the bit: rounded to the microsecond and to 0.1
// token/s, the rate over both kinds of tokens from the first of either.
func TestThinking(t *testing.T) {
	tests := []struct {
		name                          string
		think, answer                 int
		start, thinkFirst, first, end float64
		ttft, thinkingMs, rate        float64
	}{
		{"thought, then answered", 3, 2, 1.5, 120.25, 1000.5, 1800, 118.75, 880.25, 3},
		{"thought until the end", 3, 0, 0.2, 100.0004999, 0, 250.3333, 99.8, 150.333, 20},
		{"did not think", 0, 2, 0.3, 0, 1000.9, 2001.5, 0, 0, 2},
		{"no tokens", 0, 0, 0.2, 0, 0, 5, 0, 0, 0},
		{"one thinking token: over the duration", 1, 0, 0, 40, 0, 50, 40, 10, 20},
		{"answered before it thought", 2, 3, 0, 500, 100.1236, 900.7777, 500, 0, 6.2},
		{"thought before the start", 4, 1, 10, 5, 20, 20, -5, 15, 333.3},
		{"every token at the end", 1, 1, 0, 30, 30, 30, 30, 0, 66.7},
		{"to the microsecond", 12, 7, 0.123456, 12.0004999, 1012.0005001, 1012.0004999, 11.877, 1000, 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ttft, thinkingMs, rate := figures.Thinking(tt.think, tt.answer, tt.start, tt.thinkFirst, tt.first, tt.end)
			if ttft != tt.ttft || thinkingMs != tt.thinkingMs || rate != tt.rate {
				t.Errorf("Thinking = %v, %v ms, %v tokens/s; want %v, %v, %v", ttft, thinkingMs, rate, tt.ttft, tt.thinkingMs, tt.rate)
			}
		})
	}
}

// TestFirstGenerated: the first token of either kind, a kind without
// tokens left out.
func TestFirstGenerated(t *testing.T) {
	for _, c := range []struct {
		think, answer           int
		thinkFirst, answerFirst float64
		want                    float64
	}{
		{3, 2, 100, 400, 100},
		{3, 2, 400, 100, 100},
		{3, 0, 100, 0, 100},
		{0, 2, 0, 400, 400},
		{0, 0, 0, 0, 0},
	} {
		if got := figures.FirstGenerated(c.think, c.answer, c.thinkFirst, c.answerFirst); got != c.want {
			t.Errorf("FirstGenerated(%d, %d, %v, %v) = %v, want %v", c.think, c.answer, c.thinkFirst, c.answerFirst, got, c.want)
		}
	}
}

// TestThoughtFor: the reasoning's summary, one token not "1 tokens".
func TestThoughtFor(t *testing.T) {
	if got, want := figures.ThoughtFor(1400.25, 2), "Thought for 1.4 s · 2 tokens"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got, want := figures.ThoughtFor(50, 1), "Thought for 0.1 s · 1 token"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestNearestRank checks the percentile used by the stats and the bench,
// on durations given in reverse order.
func TestNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {1, time.Millisecond}, {0, time.Millisecond}} {
		if got := figures.NearestRank(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := figures.NearestRank([]float64{}, 99); got != 0 {
		t.Errorf("p99 of nothing = %v", got)
	}
	if got := figures.NearestRank([]float64{3, 1, 2}, 50); got != 2 {
		t.Errorf("p50 of 3 1 2 = %v", got)
	}
}

// TestTiming checks the server's TTFT and tokens/s of ended streams: the
// rate over the time after the first token, over the whole duration for a
// single token or when no time passed after the first, rounded to 0.1.
func TestTiming(t *testing.T) {
	tests := []struct {
		name                   string
		tokens                 int
		start, first, end      float64
		wantTTFT, wantTokensPS float64
	}{
		{"no tokens", 0, 0.2, 0, 5, 0, 0},
		{"demo/hello", 2, 0.3, 1000.9, 2001.5, 1000.6, 2.0},
		{"demo/hamlet", 13, 0, 231.25, 3000, 231.25, 4.7},
		{"one token: over the duration", 1, 0, 40, 50, 40, 20},
		{"every token at the end: over the duration", 3, 0, 10, 10, 10, 300},
		{"no time at all", 2, 5, 5, 5, 0, 0},
		{"TTFT to the microsecond", 4, 0, 12.0004999, 1012.0004999, 12, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ttft, rate := figures.Timing(tt.tokens, tt.start, tt.first, tt.end)
			if math.Abs(ttft-tt.wantTTFT) > 1e-9 || rate != tt.wantTokensPS {
				t.Errorf("Timing = %v ms, %v tokens/s; want %v, %v", ttft, rate, tt.wantTTFT, tt.wantTokensPS)
			}
		})
	}
	// The live figures of a pane use the same formula, unrounded.
	if got := figures.TokensPerS(3, 100, 1100, 0); got != 3 {
		t.Errorf("TokensPerS(3 tokens over 1 s) = %v", got)
	}
}
