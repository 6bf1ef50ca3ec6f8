package export_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokenloom/tokenloom/internal/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// ev is one event of a hand-made stream: its type and data (seq is set by
// streamOf).
type ev struct {
	typ string
	d   wire.EventData
}

func phase(ms float64, p string) ev { return ev{wire.EventPhase, wire.EventData{Phase: p, TMs: ms}} }
func token(ms float64, text string) ev {
	return ev{wire.EventToken, wire.EventData{Text: text, TMs: ms}}
}
func done(ms float64, reason string) ev {
	return ev{wire.EventDone, wire.EventData{Reason: reason, TMs: ms}}
}
func failed(ms float64, msg, hint string) ev {
	return ev{wire.EventError, wire.EventData{Message: msg, Hint: hint, TMs: ms}}
}

// streamOf builds stream index of a transcript the way the server would:
// ids and seqs from 0, the text of its tokens, and stats on its terminal
// event computed with the server's formulas from startMs (nil stats when
// it has no terminal event). ollama, if not nil, goes into the stats.
func streamOf(index int, model string, startMs float64, ollama *wire.OllamaStats, evs ...ev) wire.StreamTranscript {
	st := wire.StreamTranscript{ID: "s_" + strings.Repeat(string(rune('a'+index)), 12), Model: model, Index: index}
	var text strings.Builder
	tokens, first := 0, 0.0
	for i, e := range evs {
		d := e.d
		d.Seq = int64(i)
		switch e.typ {
		case wire.EventToken:
			if tokens == 0 {
				first = d.TMs
			}
			tokens++
			text.WriteString(d.Text)
		case wire.EventDone, wire.EventError:
			stats := &wire.Stats{Tokens: tokens, StartMs: startMs, EndMs: d.TMs, DurationMs: round3(d.TMs - startMs), Ollama: ollama}
			if tokens > 0 {
				stats.TTFTMs = round3(first - startMs)
				gen := (d.TMs - first) / 1000
				if tokens == 1 || gen <= 0 {
					gen = stats.DurationMs / 1000
				}
				stats.TokensPerS = math.Round(float64(tokens)/gen*10) / 10
			}
			d.Stats = stats
			st.Stats = stats
			st.Error = d.Message
		}
		data, err := wire.Marshal(d)
		if err != nil {
			panic(err)
		}
		st.Events = append(st.Events, wire.LoggedEvent{Event: e.typ, ID: int64(i), Data: data})
	}
	st.Text = text.String()
	return st
}

func round3(ms float64) float64 { return math.Round(ms*1000) / 1000 }

// fixture is a finished async run of four streams with known times: a demo
// stream, an Ollama stream with its metrics, a label and a text with
// backticks, Markdown and a line break, a stream that failed, and a
// cancelled one.
func fixture() *wire.Transcript {
	t := &wire.Transcript{
		ID: "r_0123456789ab", Mode: wire.ModeAsync, Prompt: "Why is the sky blue?\nAnswer briefly.",
		System:    "You are terse.",
		StartedAt: time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC), Finished: true,
	}
	t.Streams = []wire.StreamTranscript{
		streamOf(0, "demo/hello", 0.3, nil,
			phase(0.4, wire.PhaseGenerating), token(1000.9, "Hello"), token(2001.2, " world"), done(2001.5, wire.ReasonStop)),
		streamOf(1, "llama3.2:1b", 0.2, &wire.OllamaStats{EvalCount: 9, EvalDurationNs: 300e6, PromptEvalCount: 12, PromptEvalDurationNs: 12.5e6, LoadDurationNs: 1.5e9, TotalDurationNs: 2e9},
			phase(0.5, wire.PhaseLoading), phase(90, wire.PhasePrompt), phase(100, wire.PhaseGenerating),
			token(100, "Rayleigh"), token(110, " scattering:"), token(130, " `blue`"), token(160, " light"),
			token(200, " ```scatters```"), token(250, "\n\n#"), token(251, " more"), token(252, " |"), token(400, " <b>."),
			done(410, wire.ReasonLength)),
		streamOf(2, "demo/nope", 0.1, nil,
			failed(0.2, `model "demo/nope" not found`, "demo sources: demo/hello, demo/hamlet")),
		streamOf(3, "demo/flood", 0.3, nil,
			phase(0.4, wire.PhaseGenerating), token(2, "lorem"), token(4, " ipsum"), done(5, wire.ReasonCancelled)),
	}
	t.Streams[1].Label = "cold | start"
	t.Streams[1].Options = &wire.Options{Temperature: ptr(0.0), Seed: ptr[int64](1), NumPredict: ptr(9)}
	t.WallMs = 2001.5
	return t
}

func ptr[T any](v T) *T { return &v }
