package figures

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// RunTime is a run's lesson: its wall time against its stream time, the sum
// of its streams' durations. Async streams overlap, so the wall time is
// shorter; sync streams follow one another, so the two are equal.
type RunTime struct {
	WallMs, StreamMs float64
	// Generated is how many streams produced a token (of reasoning or of
	// the answer); Overlapped whether two of them ever generated at the
	// same time, from the first token to the last.
	Generated  int
	Overlapped bool
	// Queued is how many streams waited in the queued phase (their model
	// server served another stream first), and QueuedMs how long, together.
	Queued   int
	QueuedMs float64
}

// RunTimeOf is the run time of streams from their stats: the wall time is
// the latest end, the stream time the sum of the durations. Nil stats (a
// stream without an end) count for nothing.
func RunTimeOf(stats []*wire.Stats) RunTime {
	var r RunTime
	type span struct{ from, to float64 }
	var spans []span
	for _, st := range stats {
		if st == nil {
			continue
		}
		r.WallMs = max(r.WallMs, st.EndMs)
		r.StreamMs += st.DurationMs
		if st.QueuedMs > 0 {
			r.Queued++
			r.QueuedMs += st.QueuedMs
		}
		if st.Tokens+st.ThinkingTokens == 0 {
			continue
		}
		first := FirstGenerated(st.ThinkingTokens, st.Tokens, st.ThinkingTTFTMs, st.TTFTMs)
		// Generation ends with the last token; the stream's end comes a
		// little later (Ollama's final chunk), when the model may already
		// serve the next stream.
		last := st.EndMs
		if st.LastTokenMs > 0 {
			last = st.LastTokenMs
		}
		spans = append(spans, span{st.StartMs + first, last})
	}
	r.Generated = len(spans)
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	end := math.Inf(-1)
	for _, s := range spans {
		if s.from < end {
			r.Overlapped = true
		}
		end = max(end, s.to)
	}
	return r
}

// Caveat is what the figures of a run in mode do not say by themselves,
// or "": that streams of an async run waited queued, because the model
// server answered one stream of a model at a time (Ollama since 0.10,
// unless OLLAMA_NUM_PARALLEL says otherwise), so that their stream time
// counts the wait; and when the streams were never generated at the same
// time, that async bought nothing.
func (r RunTime) Caveat(mode string) string {
	if mode != wire.ModeAsync || r.Queued == 0 {
		return ""
	}
	const cause = "for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10"
	if r.Generated >= 2 && !r.Overlapped {
		return "the streams were never generated at the same time: the model server answered one at a time (" + cause + ")"
	}
	streams := "1 stream"
	if r.Queued > 1 {
		streams = fmt.Sprintf("%d streams", r.Queued)
	}
	return fmt.Sprintf("%s waited %.2f s queued: the model server answered one stream of a model at a time (%s), and the stream time counts the wait",
		streams, r.QueuedMs/1000, cause)
}

// Wall is the wall time in seconds, "3.00 s".
func (r RunTime) Wall() string { return fmt.Sprintf("%.2f s", r.WallMs/1000) }

// AgainstStreams is the rest of the lesson, "for 5.00 s of stream time
// (1.67×)": the stream time and how many times the wall time it is, left
// out without wall time or when no stream produced a token (every stream
// failed or was cancelled first: the ratio would mean nothing). Each place
// that prints the lesson puts Wall before it in its own words, and the
// Caveat after it.
func (r RunTime) AgainstStreams() string {
	s := fmt.Sprintf("for %.2f s of stream time", r.StreamMs/1000)
	if x, ok := r.Speedup(); ok {
		s += fmt.Sprintf(" (%.2f×)", x)
	}
	return s
}

// Speedup is how many times the wall time the stream time is, unrounded:
// what running the streams at once bought. ok is false without wall time
// or when no stream produced a token (every stream failed or was cancelled
// first): the ratio would mean nothing.
func (r RunTime) Speedup() (x float64, ok bool) {
	if r.WallMs <= 0 || r.Generated == 0 {
		return 0, false
	}
	return r.StreamMs / r.WallMs, true
}
