package export

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// Figures are the timing figures of one stream, for the stats table of the
// app and of the Markdown export. Times are in milliseconds of run time
// (t_ms) unless the name says otherwise; figures that cannot be known yet
// (no token, no Ollama metrics) are 0.
type Figures struct {
	// Tokens is the number of token events.
	Tokens int
	// TTFTMs is the time from the stream's start to its first token. The
	// start is the stream's turn: its stats' start_ms once it has ended,
	// before that its first event other than the sync-mode "waiting"
	// phase.
	TTFTMs float64
	// TokensPerS is tokens per second of generation: Tokens divided by the
	// time from the first token to the end (the last event while the stream
	// goes on), or by DurationMs for a single token — the server's formula,
	// unrounded.
	TokensPerS float64
	// ITLP50Ms and ITLP95Ms are the median and the 95th percentile of the
	// inter-token latency: the gaps between the t_ms of consecutive tokens.
	// Percentiles are nearest-rank: of the n gaps sorted in increasing
	// order, the p-th percentile is the one at rank ceil(p/100 × n), so it
	// is always a gap that happened, never an interpolation. 0 with fewer
	// than two tokens.
	ITLP50Ms, ITLP95Ms float64
	// DurationMs is the time from the stream's start to its end (its
	// terminal event, or its last event while it goes on).
	DurationMs float64
	// HasOllama is true when the stream's stats carry Ollama's own metrics;
	// the three figures below are set only then.
	HasOllama bool
	// EvalRate is Ollama's generation rate in tokens per second:
	// eval_count / eval_duration.
	EvalRate float64
	// PromptEvalMs is how long Ollama took to read the prompt, and LoadMs
	// how long it took to load the model.
	PromptEvalMs, LoadMs float64
}

// MarkKind is what kind of event a Mark is, as far as the figures go.
type MarkKind uint8

// The kinds of marks.
const (
	MarkOther   MarkKind = iota // a phase other than waiting
	MarkWaiting                 // the sync-mode "waiting" phase: not yet the stream's turn
	MarkToken
	MarkEnd // done or error
)

// Mark is what the figures need of one event: its kind and time. A stream
// holds one per event, so it is small.
type Mark struct {
	TMs  float64
	Kind MarkKind
}

// MarkOf is the mark of an event.
func MarkOf(event, phase string, tMs float64) Mark {
	switch {
	case event == wire.EventToken:
		return Mark{TMs: tMs, Kind: MarkToken}
	case event == wire.EventDone || event == wire.EventError:
		return Mark{TMs: tMs, Kind: MarkEnd}
	case event == wire.EventPhase && phase == wire.PhaseWaiting:
		return Mark{TMs: tMs, Kind: MarkWaiting}
	}
	return Mark{TMs: tMs, Kind: MarkOther}
}

// StreamFigures computes the figures of one stream from its events (and,
// once it has ended, its stats' start time and Ollama metrics). It works on
// a stream still going on too: the figures are then those so far. Events
// whose data cannot be decoded are skipped.
func StreamFigures(st wire.StreamTranscript) Figures {
	marks := make([]Mark, 0, len(st.Events))
	stats := st.Stats
	for _, e := range st.Events {
		var d wire.EventData
		if json.Unmarshal(e.Data, &d) != nil {
			continue
		}
		marks = append(marks, MarkOf(e.Event, d.Phase, d.TMs))
		if (e.Event == wire.EventDone || e.Event == wire.EventError) && d.Stats != nil {
			stats = d.Stats
		}
	}
	return FiguresOf(marks, stats)
}

// FiguresOf computes the figures of one stream from the marks of its
// events and its stats (nil while it goes on), as StreamFigures does.
func FiguresOf(marks []Mark, stats *wire.Stats) Figures {
	var f Figures
	start, end := math.NaN(), math.NaN()
	first := math.NaN()
	prevToken := math.NaN()
	var gaps []float64
	for _, m := range marks {
		if math.IsNaN(start) && m.Kind != MarkWaiting {
			start = m.TMs
		}
		end = m.TMs
		if m.Kind == MarkToken {
			f.Tokens++
			if math.IsNaN(first) {
				first = m.TMs
			} else {
				gaps = append(gaps, m.TMs-prevToken)
			}
			prevToken = m.TMs
		}
	}
	if stats != nil {
		start = stats.StartMs
		if o := stats.Ollama; o != nil {
			f.HasOllama = true
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
		f.TTFTMs = max(first-start, 0)
		gen := end - first
		if f.Tokens == 1 || gen <= 0 {
			gen = f.DurationMs
		}
		if gen > 0 {
			f.TokensPerS = float64(f.Tokens) / (gen / 1000)
		}
	}
	f.ITLP50Ms = NearestRank(gaps, 50)
	f.ITLP95Ms = NearestRank(gaps, 95)
	return f
}

// NearestRank returns the p-th percentile of xs by the nearest-rank method,
// or the zero value for no values. It sorts xs.
func NearestRank[T cmp.Ordered](xs []T, p float64) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	slices.Sort(xs)
	rank := int(math.Ceil(p * float64(len(xs)) / 100)) // p*n is exact for whole p
	return xs[min(max(rank, 1), len(xs))-1]
}
