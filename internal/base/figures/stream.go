package figures

import (
	"encoding/json"
	"math"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Stream are the timing figures of one stream, for the stats table of the
// app and of the Markdown report. Figures that cannot be known yet (no
// token, no Ollama metrics) are 0.
type Stream struct {
	// Tokens is the number of token events: the answer.
	Tokens int
	// TTFTMs is the time from the stream's start to its first token of the
	// answer, what a reader waits for. The start is the stream's turn: its
	// stats' start_ms once it has ended, before that its first event other
	// than the sync-mode "waiting" phase.
	TTFTMs float64
	// ThinkingTokens is the number of thinking events: the reasoning of a
	// thinking model, before its answer. The two figures below are set
	// only when it is not 0.
	ThinkingTokens int
	// ThinkingTTFTMs is the time from the stream's start to its first
	// thinking token.
	ThinkingTTFTMs float64
	// ThinkingMs is how long the stream thought: from its first thinking
	// token to its first answer token, or to its end (or last event) when
	// no answer came.
	ThinkingMs float64
	// TokensPerS is tokens per second of generation (see TokensPerS), the
	// thinking and the answer tokens together, from the first of either;
	// the end being the terminal event, or the last event while the stream
	// goes on: the server's formula, unrounded.
	TokensPerS float64
	// ITLP50Ms and ITLP95Ms are the median and the 95th percentile of the
	// inter-token latency of the answer: the gaps between the t_ms of
	// consecutive tokens, by NearestRank. 0 with fewer than two tokens.
	ITLP50Ms, ITLP95Ms float64
	// GenerationMs is the time from the first generated token (of the
	// reasoning or of the answer) to the last: the span over which tokens
	// per second are worth showing or not (RateShown). 0 with fewer than
	// two tokens.
	GenerationMs float64
	// FirstMs is when the first answer token arrived, on the run's clock
	// (t_ms): in a sync run the user waited for it from the run's start,
	// while TTFTMs counts from the stream's turn. 0 without an answer.
	FirstMs float64
	// DurationMs is the time from the stream's start to its end (its
	// terminal event, or its last event while it goes on).
	DurationMs float64
	// End is how the stream ended: EndNone while it goes on.
	End End
	// HasOllama is true when the stream's stats carry Ollama's own metrics;
	// the four figures below are set only then.
	HasOllama bool
	// EvalCount is how many tokens Ollama says it generated, the
	// reasoning's and the answer's: compare with Tokens + ThinkingTokens.
	EvalCount int
	// EvalRate is Ollama's generation rate in tokens per second:
	// eval_count / eval_duration.
	EvalRate float64
	// PromptEvalMs is how long Ollama took to read the prompt, and LoadMs
	// how long it took to load the model.
	PromptEvalMs, LoadMs float64
	// QueuedMs and BusyMs are how long the stream waited in its server's
	// queue and how long the server worked on it, once it has ended (its
	// stats'); ServerClock whether they are by the server's own clock
	// rather than Tokenloom's observation.
	QueuedMs, BusyMs float64
	ServerClock      bool
}

// End is how a stream ended.
type End uint8

// The ends of a stream.
const (
	EndNone      End = iota // no terminal event yet
	EndNormal               // done, on its own or at its token limit (stop, length)
	EndCancelled            // done, cancelled by a client or the server
	EndFailed               // an error event
)

// Comparable reports whether the stream's figures compare with other
// streams' (the stats table ranks only those): it ended normally. A
// cancelled stream's duration is the moment it was stopped, a failed
// stream's the moment it broke; neither says how fast its model is.
func (f Stream) Comparable() bool { return f.End == EndNormal }

// RateShown reports whether the stream's tokens per second mean something
// (see the function RateShown): its tokens, of the reasoning and the
// answer, came over at least MinRateSpanMs.
func (f Stream) RateShown() bool { return RateShown(f.Tokens+f.ThinkingTokens, f.GenerationMs) }

// MarkKind is what kind of event a Mark is, as far as the figures go.
type MarkKind uint8

// The kinds of marks.
const (
	MarkOther   MarkKind = iota // a phase other than waiting
	MarkWaiting                 // the sync-mode "waiting" phase: not yet the stream's turn
	MarkToken
	MarkEnd       // done, ended normally (or for a reason not told: see MarkOf)
	MarkThinking  // a token of the reasoning
	MarkCancelled // done, cancelled
	MarkFailed    // error
)

// Mark is what the figures need of one event: its kind and time. A stream
// holds one per event, so it is small.
type Mark struct {
	TMs  float64
	Kind MarkKind
}

// MarkOfEvent is the mark of an event: its type, its phase (of a phase
// event) and its reason (of a done event), which tells a cancelled stream
// from one that ended normally.
func MarkOfEvent(event, phase, reason string, tMs float64) Mark {
	switch {
	case event == wire.EventToken:
		return Mark{TMs: tMs, Kind: MarkToken}
	case event == wire.EventThinking:
		return Mark{TMs: tMs, Kind: MarkThinking}
	case event == wire.EventDone && reason == wire.ReasonCancelled:
		return Mark{TMs: tMs, Kind: MarkCancelled}
	case event == wire.EventDone:
		return Mark{TMs: tMs, Kind: MarkEnd}
	case event == wire.EventError:
		return Mark{TMs: tMs, Kind: MarkFailed}
	case event == wire.EventPhase && phase == wire.PhaseWaiting:
		return Mark{TMs: tMs, Kind: MarkWaiting}
	}
	return Mark{TMs: tMs, Kind: MarkOther}
}

// MarkOf is the mark of an event without its reason: a done event counts
// as a normal end, even a cancelled one. MarkOfEvent tells them apart.
func MarkOf(event, phase string, tMs float64) Mark { return MarkOfEvent(event, phase, "", tMs) }

// FromTranscript computes the figures of one stream from its events (and,
// once it has ended, its stats' start time and Ollama metrics). It works on
// a stream still going on too: the figures are then those so far. Events
// whose data cannot be decoded are skipped.
func FromTranscript(st wire.StreamTranscript) Stream {
	marks := make([]Mark, 0, len(st.Events))
	stats := st.Stats
	for _, e := range st.Events {
		var d wire.EventData
		if json.Unmarshal(e.Data, &d) != nil {
			continue
		}
		marks = append(marks, MarkOfEvent(e.Event, d.Phase, d.Reason, d.TMs))
		if (e.Event == wire.EventDone || e.Event == wire.EventError) && d.Stats != nil {
			stats = d.Stats
		}
	}
	return FromMarks(marks, stats)
}

// FromMarks computes the figures of one stream from the marks of its
// events and its stats (nil while it goes on), as FromTranscript does.
func FromMarks(marks []Mark, stats *wire.Stats) Stream {
	var f Stream
	start, end := math.NaN(), math.NaN()
	first, thought := math.NaN(), math.NaN() // the first answer and thinking tokens
	prevToken, lastGenerated := math.NaN(), math.NaN()
	var gaps []float64
	for _, m := range marks {
		if math.IsNaN(start) && m.Kind != MarkWaiting {
			start = m.TMs
		}
		end = m.TMs
		switch m.Kind {
		case MarkToken:
			f.Tokens++
			if math.IsNaN(first) {
				first = m.TMs
			} else {
				gaps = append(gaps, m.TMs-prevToken)
			}
			prevToken, lastGenerated = m.TMs, m.TMs
		case MarkThinking:
			f.ThinkingTokens++
			if math.IsNaN(thought) {
				thought = m.TMs
			}
			lastGenerated = m.TMs
		case MarkEnd:
			f.End = EndNormal
		case MarkCancelled:
			f.End = EndCancelled
		case MarkFailed:
			f.End = EndFailed
		}
	}
	if stats != nil {
		start = stats.StartMs
		f.QueuedMs, f.BusyMs, f.ServerClock = stats.QueuedMs, stats.BusyMs, stats.Clock == wire.ClockServer
		if o := stats.Ollama; o != nil {
			f.HasOllama = true
			f.EvalCount = o.EvalCount
			if o.EvalDurationNs > 0 {
				f.EvalRate = float64(o.EvalCount) / (float64(o.EvalDurationNs) / 1e9)
			}
			f.PromptEvalMs = float64(o.PromptEvalDurationNs) / 1e6
			f.LoadMs = float64(o.LoadDurationNs) / 1e6
		}
	}
	if math.IsNaN(start) || math.IsNaN(end) {
		return f
	}
	f.DurationMs = max(end-start, 0)
	if f.Tokens > 0 {
		f.TTFTMs = max(TTFT(start, first), 0)
		f.FirstMs = first
	}
	if f.Tokens+f.ThinkingTokens > 1 {
		f.GenerationMs = max(lastGenerated-FirstGenerated(f.ThinkingTokens, f.Tokens, thought, first), 0)
	}
	// The server's formula (thinking, which Thinking rounds), unrounded.
	var thinkTTFT float64
	thinkTTFT, f.ThinkingMs, f.TokensPerS = thinking(f.ThinkingTokens, f.Tokens, start, thought, first, end, f.DurationMs)
	f.ThinkingTTFTMs = max(thinkTTFT, 0)
	f.ITLP50Ms = NearestRank(gaps, 50)
	f.ITLP95Ms = NearestRank(gaps, 95)
	return f
}
