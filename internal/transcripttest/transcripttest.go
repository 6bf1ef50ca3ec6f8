// Package transcripttest builds hand-made transcripts with known times for
// the tests of the packages that read runs (export, figures): events as the
// server would log them, stats computed with the server's formulas, and a
// fixed run that covers every kind of stream.
package transcripttest

import (
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/figures"
	"github.com/tokenloom/tokenloom/internal/wire"
)

// Event is one event of a hand-made stream: its type and data (Stream sets
// its seq).
type Event struct {
	Type string
	Data wire.EventData
}

// Phase is a phase event at ms.
func Phase(ms float64, p string) Event {
	return Event{wire.EventPhase, wire.EventData{Phase: p, TMs: ms}}
}

// Token is a token event at ms.
func Token(ms float64, text string) Event {
	return Event{wire.EventToken, wire.EventData{Text: text, TMs: ms}}
}

// Done is a done event at ms.
func Done(ms float64, reason string) Event {
	return Event{wire.EventDone, wire.EventData{Reason: reason, TMs: ms}}
}

// Failed is an error event at ms.
func Failed(ms float64, msg, hint string) Event {
	return Event{wire.EventError, wire.EventData{Message: msg, Hint: hint, TMs: ms}}
}

// Stream builds stream index of a transcript the way the server would: ids
// and seqs from 0, the text of its tokens, and stats on its terminal event
// computed with the server's formulas from startMs (nil stats when it has no
// terminal event). ollama, if not nil, goes into the stats.
func Stream(index int, model string, startMs float64, ollama *wire.OllamaStats, evs ...Event) wire.StreamTranscript {
	st := wire.StreamTranscript{ID: "s_" + strings.Repeat(string(rune('a'+index)), 12), Model: model, Index: index}
	var text strings.Builder
	tokens, first := 0, 0.0
	for i, e := range evs {
		d := e.Data
		d.Seq = int64(i)
		switch e.Type {
		case wire.EventToken:
			if tokens == 0 {
				first = d.TMs
			}
			tokens++
			text.WriteString(d.Text)
		case wire.EventDone, wire.EventError:
			stats := &wire.Stats{Tokens: tokens, StartMs: startMs, EndMs: d.TMs, DurationMs: figures.RoundMs(d.TMs - startMs), Ollama: ollama}
			stats.TTFTMs, stats.TokensPerS = figures.Timing(tokens, startMs, first, d.TMs)
			d.Stats = stats
			st.Stats = stats
			st.Error = d.Message
		}
		data, err := wire.Marshal(d)
		if err != nil {
			panic(err)
		}
		st.Events = append(st.Events, wire.LoggedEvent{Event: e.Type, ID: int64(i), Data: data})
	}
	st.Text = text.String()
	return st
}

// Run is a finished async run of four streams with known times: a demo
// stream, an Ollama stream with its metrics, a label and a text with
// backticks, Markdown and a line break, a stream that failed, and a
// cancelled one. Each call returns a new copy.
func Run() *wire.Transcript {
	t := &wire.Transcript{
		ID: "r_0123456789ab", Mode: wire.ModeAsync, Prompt: "Why is the sky blue?\nAnswer briefly.",
		System:    "You are terse.",
		StartedAt: time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC), Finished: true,
	}
	t.Streams = []wire.StreamTranscript{
		Stream(0, "demo/hello", 0.3, nil,
			Phase(0.4, wire.PhaseGenerating), Token(1000.9, "Hello"), Token(2001.2, " world"), Done(2001.5, wire.ReasonStop)),
		Stream(1, "llama3.2:1b", 0.2, &wire.OllamaStats{EvalCount: 9, EvalDurationNs: 300e6, PromptEvalCount: 12, PromptEvalDurationNs: 12.5e6, LoadDurationNs: 1.5e9, TotalDurationNs: 2e9},
			Phase(0.5, wire.PhaseLoading), Phase(90, wire.PhasePrompt), Phase(100, wire.PhaseGenerating),
			Token(100, "Rayleigh"), Token(110, " scattering:"), Token(130, " `blue`"), Token(160, " light"),
			Token(200, " ```scatters```"), Token(250, "\n\n#"), Token(251, " more"), Token(252, " |"), Token(400, " <b>."),
			Done(410, wire.ReasonLength)),
		Stream(2, "demo/nope", 0.1, nil,
			Failed(0.2, `model "demo/nope" not found`, "demo sources: demo/hello, demo/hamlet")),
		Stream(3, "demo/flood", 0.3, nil,
			Phase(0.4, wire.PhaseGenerating), Token(2, "lorem"), Token(4, " ipsum"), Done(5, wire.ReasonCancelled)),
	}
	t.Streams[1].Label = "cold | start"
	temp, seed, numPredict := 0.0, int64(1), 9
	t.Streams[1].Options = &wire.Options{Temperature: &temp, Seed: &seed, NumPredict: &numPredict}
	t.WallMs = 2001.5
	return t
}
