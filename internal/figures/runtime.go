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
	// same time, from the first token to the end.
	Generated  int
	Overlapped bool
	// Queued is whether a stream waited in the queued phase: its model
	// server served another stream first.
	Queued bool
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
		r.Queued = r.Queued || st.QueuedMs > 0
		if st.Tokens+st.ThinkingTokens == 0 {
			continue
		}
		first := st.TTFTMs
		if st.ThinkingTokens > 0 && (st.Tokens == 0 || st.ThinkingTTFTMs < first) {
			first = st.ThinkingTTFTMs
		}
		spans = append(spans, span{st.StartMs + first, st.EndMs})
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
// or "": that an async run's streams were never generated at the same time
// while some waited queued, so the model server answered one at a time
// (Ollama since 0.10 does that for the streams of one model unless
// OLLAMA_NUM_PARALLEL says otherwise) and the wall time shows no gain from
// async.
func (r RunTime) Caveat(mode string) string {
	if mode == wire.ModeAsync && r.Generated >= 2 && !r.Overlapped && r.Queued {
		return "the streams were never generated at the same time: the model server answered one at a time (for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10)"
	}
	return ""
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
	if r.WallMs > 0 && r.Generated > 0 {
		s += fmt.Sprintf(" (%.2f×)", r.StreamMs/r.WallMs)
	}
	return s
}
