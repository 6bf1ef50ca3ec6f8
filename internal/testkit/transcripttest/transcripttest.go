// Package transcripttest builds hand-made transcripts with known times for
// the tests of the packages that read runs (export, figures): events as the
// server would log them, stats computed with the server's formulas, and a
// fixed run that covers every kind of stream.
package transcripttest

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
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
			stats.Phases = observedPhases(evs[:i], d.TMs)
			stats.Clock = wire.ClockObserved
			setTimes(stats)
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

// observedPhases are the phases of evs as the server sees them: each
// phase event opens one (a token opens generating), and the last lasts
// until endMs.
func observedPhases(evs []Event, endMs float64) []wire.PhaseSpan {
	var out []wire.PhaseSpan
	open := func(phase string, at float64) {
		if n := len(out); n > 0 {
			if out[n-1].Phase == phase {
				return
			}
			out[n-1].EndMs = at
		}
		out = append(out, wire.PhaseSpan{Phase: phase, StartMs: at})
	}
	for _, e := range evs {
		switch e.Type {
		case wire.EventPhase:
			open(e.Data.Phase, e.Data.TMs)
		case wire.EventToken:
			open(wire.PhaseGenerating, e.Data.TMs)
		}
	}
	if n := len(out); n > 0 {
		out[n-1].EndMs = endMs
	}
	return out
}

// setTimes sets the busy and queued times of stats from its phases.
func setTimes(stats *wire.Stats) {
	stats.BusyMs, stats.QueuedMs = 0, 0
	for _, p := range stats.Phases {
		switch {
		case p.Phase == wire.PhaseQueued:
			stats.QueuedMs += p.EndMs - p.StartMs
		case wire.Busy(p.Phase):
			stats.BusyMs += p.EndMs - p.StartMs
		}
	}
	stats.BusyMs, stats.QueuedMs = figures.RoundMs(stats.BusyMs), figures.RoundMs(stats.QueuedMs)
}

// Clocked gives stream st the phases of its server's clock, as the server
// sets them when the stream ends normally, in its stats and its terminal
// event.
func Clocked(st wire.StreamTranscript, phases ...wire.PhaseSpan) wire.StreamTranscript {
	stats := *st.Stats
	stats.Phases, stats.Clock = phases, wire.ClockServer
	setTimes(&stats)
	st.Stats = &stats
	last := &st.Events[len(st.Events)-1]
	var d wire.EventData
	if err := json.Unmarshal(last.Data, &d); err != nil {
		panic(err)
	}
	d.Stats = &stats
	data, err := wire.Marshal(d)
	if err != nil {
		panic(err)
	}
	last.Data = data
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
		Clocked(Stream(0, "demo/hello", 0.3, nil,
			Phase(0.4, wire.PhaseGenerating), Token(1000.9, "Hello"), Token(2001.2, " world"), Done(2001.5, wire.ReasonStop)),
			wire.PhaseSpan{Phase: wire.PhaseGenerating, StartMs: 0.4, EndMs: 2001.4}),
		// Ollama's clock, from the request at 0.2 ms: the model loaded
		// (87.1 ms), the prompt was read (12.5 ms), the answer generated
		// (300 ms, the last token read a little later).
		Clocked(Stream(1, "llama3.2:1b", 0.2, &wire.OllamaStats{EvalCount: 9, EvalDurationNs: 300e6, PromptEvalCount: 12, PromptEvalDurationNs: 12.5e6, LoadDurationNs: 87.1e6, TotalDurationNs: 399.6e6},
			Phase(0.5, wire.PhaseLoading), Phase(90, wire.PhasePrompt), Phase(100, wire.PhaseGenerating),
			Token(100, "Rayleigh"), Token(110, " scattering:"), Token(130, " `blue`"), Token(160, " light"),
			Token(200, " ```scatters```"), Token(250, "\n\n#"), Token(251, " more"), Token(252, " |"), Token(400, " <b>."),
			Done(410, wire.ReasonLength)),
			wire.PhaseSpan{Phase: wire.PhaseLoading, StartMs: 0.2, EndMs: 87.3},
			wire.PhaseSpan{Phase: wire.PhasePrompt, StartMs: 87.3, EndMs: 99.8},
			wire.PhaseSpan{Phase: wire.PhaseGenerating, StartMs: 99.8, EndMs: 399.8}),
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
