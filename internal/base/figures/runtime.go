package figures

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Outcome is one stream of a run as the run's figures take it: its final
// stats, how it ended and its model.
type Outcome struct {
	// Stats are the stats of its terminal event; nil while it has none.
	Stats *wire.Stats
	// End is how it ended.
	End End
	// Model names its model, MODEL or MODEL@ENDPOINT: streams of one
	// model on one server whose loads of it overlap waited for one load.
	// "" when unknown.
	Model string
}

// EndOf is how a stream ended, from the type of its terminal event and
// the reason of a done event; EndNone for any other event.
func EndOf(event, reason string) End {
	switch {
	case event == wire.EventError:
		return EndFailed
	case event == wire.EventDone && reason == wire.ReasonCancelled:
		return EndCancelled
	case event == wire.EventDone:
		return EndNormal
	}
	return EndNone
}

// OutcomesOf are the outcomes of t's streams, in their order, each named
// MODEL or MODEL@ENDPOINT.
func OutcomesOf(t *wire.Transcript) []Outcome {
	out := make([]Outcome, len(t.Streams))
	for i, st := range t.Streams {
		o := Outcome{Stats: st.Stats, Model: endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String()}
		if n := len(st.Events); n > 0 {
			var d struct {
				Reason string `json:"reason"`
			}
			last := st.Events[n-1]
			_ = json.Unmarshal(last.Data, &d)
			o.End = EndOf(last.Event, d.Reason)
		}
		out[i] = o
	}
	return out
}

// RunTime is a run's lesson: how long it took (its wall time) against the
// work its model servers did, and how much of that work was done side by
// side. A stream's work is its busy time (wire.Stats.BusyMs: loading,
// prompt, thinking and generating, by the server's own clock where it
// gives one); its wait in a server's queue is not work. Only the streams
// that finished count: a failed or stopped stream says nothing of how
// long its work takes.
type RunTime struct {
	// WallMs is the time from the run's start to its last stream's end.
	WallMs float64
	// Streams is the number of streams with an end; Finished, Stopped and
	// Failed how many of them ended normally, were cancelled, failed.
	Streams, Finished, Stopped, Failed int
	// Generated is how many finished streams produced a token (of
	// reasoning or of the answer).
	Generated int
	// WorkMs is the finished streams' busy time, summed, a load of one
	// model that several of them waited for at once counted once.
	WorkMs float64
	// BusyMs is the part of the wall time in which at least one of them
	// was busy, OverlapMs the part in which two or more were.
	BusyMs, OverlapMs float64
	// Queued is how many streams waited in a model server's queue for a
	// while (queuedAtLeast), and QueuedMs how long, together.
	Queued   int
	QueuedMs float64
	// Observed is how many finished streams have figures of Tokenloom's
	// observation only: their server sent no clock of its own.
	Observed int
	// Loads are the models that loaded cold: for at least ColdLoad and a
	// tenth of the wall time, enough to skew a comparison with the other
	// streams or with another run. In the order of the streams.
	Loads []Load
}

// Load is one model's load in a run.
type Load struct {
	// Stream is the index of the first stream that waited for it.
	Stream int
	// Model is its model's name, "" when RunTimeOf was not told.
	Model string
	// Ms is how long the model loaded.
	Ms float64
}

// ColdLoad is the least load time of a model that counts as a cold start:
// Ollama reports a few milliseconds for a model it holds in memory, and
// seconds for one it reads from disk.
const ColdLoad = 250 * time.Millisecond

// coldLoadShare is the least part of a run's wall time a cold load takes
// for the run's caveat to tell: less does not change what the run shows.
const coldLoadShare = 0.1

// Queued time below queuedAtLeastMs, or below queuedShare of the stream's
// busy time, is not worth a word: Ollama's clock puts a few milliseconds
// of templating in every request's wait.
const (
	queuedAtLeastMs = 10
	queuedShare     = 0.1
)

// WasQueued reports whether the stream waited in its server's queue long
// enough to say so.
func WasQueued(st *wire.Stats) bool {
	return st.QueuedMs >= queuedAtLeastMs && st.QueuedMs >= queuedShare*st.BusyMs
}

// span is a stretch of run time.
type span struct{ from, to float64 }

// busySpans are the spans in which the server worked on the stream of st,
// its loads apart: from its phases; for a stream kept before its phases
// were (no Phases), from its start and its queued time to its end, the
// load at the start by Ollama's metrics.
func busySpans(st *wire.Stats) (work, loads []span) {
	if len(st.Phases) == 0 {
		from := st.StartMs + st.QueuedMs
		if o := st.Ollama; o != nil && o.LoadDurationNs > 0 {
			load := min(float64(o.LoadDurationNs)/1e6, st.EndMs-st.StartMs)
			loads = append(loads, span{st.StartMs, st.StartMs + load})
			from = max(from, st.StartMs+load)
		}
		if st.EndMs > from {
			work = append(work, span{from, st.EndMs})
		}
		return work, loads
	}
	for _, p := range st.Phases {
		switch {
		case p.Phase == wire.PhaseLoading:
			loads = append(loads, span{p.StartMs, p.EndMs})
		case wire.Busy(p.Phase):
			work = append(work, span{p.StartMs, p.EndMs})
		}
	}
	return work, loads
}

// RunTimeOf is the run time of streams. Streams without stats count for
// nothing; models, if the outcomes have them, name the loads.
func RunTimeOf(streams []Outcome) RunTime {
	var r RunTime
	var spans []span
	loads := map[string][]span{} // by model
	var loadOrder []string
	firstWaiter := map[string]int{}
	for i, o := range streams {
		st := o.Stats
		if st == nil {
			continue
		}
		r.Streams++
		r.WallMs = max(r.WallMs, st.EndMs)
		if WasQueued(st) {
			r.Queued++
			r.QueuedMs += st.QueuedMs
		}
		switch o.End {
		case EndCancelled:
			r.Stopped++
			continue
		case EndFailed:
			r.Failed++
			continue
		case EndNone:
			continue
		}
		r.Finished++
		if st.Tokens+st.ThinkingTokens > 0 {
			r.Generated++
		}
		if st.Clock != wire.ClockServer {
			r.Observed++
		}
		work, ls := busySpans(st)
		spans = append(spans, work...)
		key := o.Model
		if key == "" {
			key = fmt.Sprintf("\x00%d", i) // a model not named loads on its own
		}
		if len(ls) > 0 {
			if _, seen := loads[key]; !seen {
				loadOrder = append(loadOrder, key)
				firstWaiter[key] = i
			}
			loads[key] = append(loads[key], ls...)
		}
	}
	// A load that several streams of one model waited for at once is one
	// load: their spans merge before they count.
	for _, key := range loadOrder {
		merged := union(loads[key])
		spans = append(spans, merged...)
		ms := 0.0
		for _, s := range merged {
			ms += s.to - s.from
		}
		if time.Duration(ms*float64(time.Millisecond)) >= ColdLoad && ms >= coldLoadShare*r.WallMs {
			model := key
			if strings.HasPrefix(key, "\x00") {
				model = ""
			}
			r.Loads = append(r.Loads, Load{Stream: firstWaiter[key], Model: model, Ms: ms})
		}
	}
	for _, s := range spans {
		r.WorkMs += s.to - s.from
	}
	r.BusyMs, r.OverlapMs = coverage(spans)
	return r
}

// union merges spans into the ones that do not overlap.
func union(spans []span) []span {
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var out []span
	for _, x := range s {
		if n := len(out); n > 0 && x.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, x.to)
			continue
		}
		out = append(out, x)
	}
	return out
}

// coverage is how much time at least one of spans covers, and how much
// two or more do.
func coverage(spans []span) (once, twice float64) {
	type edge struct {
		at    float64
		delta int
	}
	edges := make([]edge, 0, 2*len(spans))
	for _, s := range spans {
		if s.to > s.from {
			edges = append(edges, edge{s.from, 1}, edge{s.to, -1})
		}
	}
	// Ends before starts at the same time: spans that touch do not
	// overlap.
	slices.SortFunc(edges, func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.delta, b.delta))
	})
	n := 0
	for k, e := range edges {
		if k > 0 {
			d := e.at - edges[k-1].at
			if n >= 1 {
				once += d
			}
			if n >= 2 {
				twice += d
			}
		}
		n += e.delta
	}
	return once, twice
}

// SavedMs is what doing the work side by side saved against doing it one
// stream at a time: the work less the time any of it was being done.
func (r RunTime) SavedMs() float64 { return max(r.WorkMs-r.BusyMs, 0) }

// sameShare is the least part of a wall time that counts as a difference:
// less is the noise of two runs of the same streams.
const sameShare = 0.05

// Speedup is how many times longer the run would have taken had its
// streams' work been done one at a time: (wall time + SavedMs) / wall
// time. ok is false, and no speed-up is claimed, unless two or more
// streams finished and their overlap saved at least a twentieth of the
// wall time: streams a server took one at a time, failed or stopped
// streams, a sync run.
func (r RunTime) Speedup() (x float64, ok bool) {
	saved := r.SavedMs()
	if r.WallMs <= 0 || r.Finished < 2 || saved < sameShare*r.WallMs {
		return 0, false
	}
	return (r.WallMs + saved) / r.WallMs, true
}

// Wall is the wall time in seconds, "3.00 s".
func (r RunTime) Wall() string { return seconds(r.WallMs) }

// seconds is ms in seconds, "3.00 s".
func seconds(ms float64) string { return fmt.Sprintf("%.2f s", ms/1000) }

// Headline is the run's lesson in one line, the same in the app, the
// terminal, reports and pictures: "async run: 3.00 s wall time for 5.00 s
// of work: streams were busy at the same time for 2.00 s; one after
// another at the same speed, it would take 5.00 s (1.67×)". A speed-up is
// claimed only as Speedup allows, and only at the speed the streams had:
// whether they would have run faster alone, one run cannot tell
// (Comparison can). Streams that did not finish are said as such and
// counted in nothing.
func (r RunTime) Headline(mode string) string {
	s := mode + " run: " + r.Wall() + " wall time"
	if r.Finished == 0 {
		if r.Streams == 0 {
			return s
		}
		return s + ": " + r.unfinished(true)
	}
	s += " for " + seconds(r.WorkMs) + " of work"
	switch x, ok := r.Speedup(); {
	case ok:
		s += fmt.Sprintf(": streams were busy at the same time for %s; one after another at the same speed, it would take %s (%.2f×)", seconds(r.OverlapMs), seconds(r.WallMs+r.SavedMs()), x)
	case r.Finished < 2:
	case mode == wire.ModeSync:
		s += ", one stream after another"
	case r.OverlapMs < 5: // "0.00 s"
		s += ": no two streams were busy at the same time, so async saved nothing"
	default:
		s += fmt.Sprintf(": streams were busy at the same time for only %s, so async saved nothing", seconds(r.OverlapMs))
	}
	if r.Stopped+r.Failed > 0 {
		s += "; " + r.unfinished(false)
	}
	return s
}

// unfinished says which streams failed or were stopped: "2 streams
// failed", "1 stream failed and 1 was stopped (not counted)".
func (r RunTime) unfinished(all bool) string {
	var parts []string
	if r.Failed > 0 {
		parts = append(parts, Plural(r.Failed, "stream")+" failed")
	}
	if r.Stopped > 0 {
		was := " was stopped"
		if r.Stopped > 1 {
			was = " were stopped"
		}
		if len(parts) == 0 {
			parts = append(parts, Plural(r.Stopped, "stream")+was)
		} else {
			parts = append(parts, fmt.Sprint(r.Stopped)+was)
		}
	}
	s := strings.Join(parts, " and ")
	if !all {
		s += " (not counted)"
	}
	return s
}

// Caveat is what the headline of a run in mode does not say by itself, or
// "": that streams of an async run waited in a model server's queue
// (Ollama since 0.10 answers one request per model at a time unless
// OLLAMA_NUM_PARALLEL says otherwise); that some figures are Tokenloom's
// own observation, the server having sent no clock; and which models
// loaded cold (Loads), so that the run is slower than the next one will
// be. They are joined by "; ". It starts in lower case and has no full
// stop: each place that prints it makes it a sentence of its own.
func (r RunTime) Caveat(mode string) string {
	var says []string
	for _, c := range []string{r.queuedCaveat(mode), r.observedCaveat(), r.loadCaveat()} {
		if c != "" {
			says = append(says, c)
		}
	}
	return strings.Join(says, "; ")
}

// serverCause names why a model server answers one request at a time.
const serverCause = "for Ollama, OLLAMA_NUM_PARALLEL=1, its default since 0.10"

// queuedCaveat is the caveat of an async run whose streams waited
// queued, or "".
func (r RunTime) queuedCaveat(mode string) string {
	if mode != wire.ModeAsync || r.Queued == 0 {
		return ""
	}
	waited := fmt.Sprintf("%s waited %s in its queue", Plural(r.Queued, "stream"), seconds(r.QueuedMs))
	if _, ok := r.Speedup(); !ok && r.Finished >= 2 {
		return "the model server answered the streams one at a time (" + serverCause + "): " + waited
	}
	return waited + ", not counted as work: the model server answered some streams of a model one at a time (" + serverCause + ")"
}

// observedCaveat says which figures are Tokenloom's own observation, or "".
func (r RunTime) observedCaveat() string {
	switch {
	case r.Observed == 0:
		return ""
	case r.Observed == r.Finished && r.Observed == 1:
		return "the stream's times are what Tokenloom saw: its server sent no clock of its own"
	case r.Observed == r.Finished:
		return "the streams' times are what Tokenloom saw: their servers sent no clock of their own"
	case r.Observed == 1:
		return "the times of 1 stream are what Tokenloom saw: its server sent no clock of its own"
	}
	return fmt.Sprintf("the times of %d streams are what Tokenloom saw: their servers sent no clock of their own", r.Observed)
}

// loadCaveat names the models that loaded cold and for how long, or "":
// "llama3.2 loaded for 2.1 s in this run (a cold start): run again to
// compare warm models". A stream without a model name is named by its
// number.
func (r RunTime) loadCaveat() string {
	if len(r.Loads) == 0 {
		return ""
	}
	parts := make([]string, len(r.Loads))
	for i, l := range r.Loads {
		name := l.Model
		if name == "" {
			name = fmt.Sprintf("the model of stream %d", l.Stream+1)
		}
		verb := "for" // "llama3.2 loaded for 2.1 s, qwen3 for 1.4 s"
		if i == 0 {
			verb = "loaded for"
		}
		parts[i] = fmt.Sprintf("%s %s %.1f s", name, verb, l.Ms/1000)
	}
	list, starts := parts[0], "a cold start"
	if n := len(parts); n > 1 {
		list, starts = strings.Join(parts[:n-1], ", ")+" and "+parts[n-1], "cold starts"
	}
	return list + " in this run (" + starts + "): run again to compare warm models"
}

// LoadMs is how long the run's cold loads took, together (Loads).
func (r RunTime) LoadMs() float64 {
	ms := 0.0
	for _, l := range r.Loads {
		ms += l.Ms
	}
	return ms
}
