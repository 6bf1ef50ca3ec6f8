package figures

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/wire"
)

// RunTime is a run's lesson: its wall time against its stream time, the sum
// of its streams' durations. Async streams overlap, so the wall time is
// shorter; sync streams follow one another, so the two are equal.
type RunTime struct {
	WallMs, StreamMs float64
	// Generated is how many streams produced a token (of reasoning or of
	// the answer); Overlapped whether two of them ever generated at the
	// same time, from the first token to the last, for a tenth of the
	// shorter one's time or more.
	Generated  int
	Overlapped bool
	// Queued is how many streams waited in the queued phase (their model
	// server served another stream first), and QueuedMs how long, together.
	Queued   int
	QueuedMs float64
	// Loads are the streams whose model loaded cold: for at least
	// ColdLoad and a tenth of the wall time, enough to skew a comparison
	// with the other streams or with another run. In the order of the
	// stats.
	Loads []Load
}

// Load is one stream's load of its model in a run.
type Load struct {
	// Stream is the stream's index among the stats given to RunTimeOf.
	Stream int
	// Model is its model's name, "" when RunTimeOf was not told.
	Model string
	// Ms is how long the model loaded (Ollama's load_duration).
	Ms float64
}

// ColdLoad is the least load time of a model that counts as a cold start:
// Ollama reports a few milliseconds for a model it holds in memory, and
// seconds for one it reads from disk.
const ColdLoad = 250 * time.Millisecond

// overlapShare is the least part of the shorter of two streams' spans of
// generation that they must share to count as overlapping.
const overlapShare = 0.1

// coldLoadShare is the least part of a run's wall time a cold load takes
// for the run's caveat to tell: less does not change what the run shows.
const coldLoadShare = 0.1

// RunTimeOf is the run time of streams from their stats: the wall time is
// the latest end, the stream time the sum of the durations. Nil stats (a
// stream without an end) count for nothing. models, if given, are the
// streams' model names in the order of stats: the caveat names the models
// that loaded cold.
func RunTimeOf(stats []*wire.Stats, models ...string) RunTime {
	var r RunTime
	type span struct{ from, to float64 }
	var spans []span
	for i, st := range stats {
		if st == nil {
			continue
		}
		r.WallMs = max(r.WallMs, st.EndMs)
		r.StreamMs += st.DurationMs
		if o := st.Ollama; o != nil && time.Duration(o.LoadDurationNs) >= ColdLoad {
			l := Load{Stream: i, Ms: float64(o.LoadDurationNs) / 1e6}
			if i < len(models) {
				l.Model = models[i]
			}
			r.Loads = append(r.Loads, l)
		}
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
		// Tokens are stamped as they are read. When the reading falls
		// behind the model (a fast model, a busy machine), the stamps of
		// a stream go on after the model server has finished it and
		// begun the next; the model server's own generation time says
		// when it stopped.
		if o := st.Ollama; o != nil && o.EvalDurationNs > 0 {
			last = min(last, st.StartMs+first+float64(o.EvalDurationNs)/1e6)
		}
		spans = append(spans, span{st.StartMs + first, last})
	}
	r.Loads = slices.DeleteFunc(r.Loads, func(l Load) bool { return l.Ms < coldLoadShare*r.WallMs })
	r.Generated = len(spans)
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	// Two streams overlap when one generated for a while (overlapShare
	// of the shorter's span) while the other did: a model server that
	// serves one stream at a time hands over within a few milliseconds,
	// and the stamps of a burst's last tokens may pass the next stream's
	// first by a hair.
	last := span{math.Inf(-1), math.Inf(-1)} // the span that ends last so far
	for _, s := range spans {
		shorter := min(s.to-s.from, last.to-last.from)
		if over := min(last.to, s.to) - s.from; over > 0 && over > overlapShare*shorter {
			r.Overlapped = true
		}
		if s.to > last.to {
			last = s
		}
	}
	return r
}

// Caveat is what the figures of a run in mode do not say by themselves,
// or "": that streams of an async run waited queued, because the model
// server answered one stream of a model at a time (Ollama since 0.10,
// unless OLLAMA_NUM_PARALLEL says otherwise), so that their stream time
// counts the wait, and when the streams were never generated at the same
// time, that async bought nothing; and in either mode, which models
// loaded cold (Loads), so that the run is slower than the next one will
// be. Both may be said, joined by "; ". It starts in lower case and has no
// full stop: each place that prints it makes it a sentence of its own.
func (r RunTime) Caveat(mode string) string {
	var says []string
	for _, c := range []string{r.queuedCaveat(mode), r.loadCaveat()} {
		if c != "" {
			says = append(says, c)
		}
	}
	return strings.Join(says, "; ")
}

// loadCaveat names the models that loaded cold and for how long, or "":
// "llama3.2 loaded for 2.1 s in this run (a cold start): run again to
// compare warm models". A model of several streams is named once, with
// its longest load; a stream without a model name by its number.
func (r RunTime) loadCaveat() string {
	var names []string
	longest := map[string]float64{}
	for _, l := range r.Loads {
		name := l.Model
		if name == "" {
			name = fmt.Sprintf("the model of stream %d", l.Stream+1)
		}
		if _, seen := longest[name]; !seen {
			names = append(names, name)
		}
		longest[name] = max(longest[name], l.Ms)
	}
	if len(names) == 0 {
		return ""
	}
	parts := make([]string, len(names))
	for i, name := range names {
		verb := "for" // "llama3.2 loaded for 2.1 s, qwen3 for 1.4 s"
		if i == 0 {
			verb = "loaded for"
		}
		parts[i] = fmt.Sprintf("%s %s %.1f s", name, verb, longest[name]/1000)
	}
	list, starts := parts[0], "a cold start"
	if n := len(parts); n > 1 {
		list, starts = strings.Join(parts[:n-1], ", ")+" and "+parts[n-1], "cold starts"
	}
	return list + " in this run (" + starts + "): run again to compare warm models"
}

// queuedCaveat is the caveat of an async run whose streams waited
// queued, or "".
func (r RunTime) queuedCaveat(mode string) string {
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
