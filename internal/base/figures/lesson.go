package figures

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// Regime is what async bought a comparison, by what its streams waited
// for (docs/protocol.md, "What async buys").
type Regime uint8

// The regimes.
const (
	// RegimeUnknown: fewer than two streams finished side by side.
	RegimeUnknown Regime = iota
	// RegimeWaiting: the streams overlapped and each ran as fast as
	// alone: they waited on something outside the machine that served
	// them (a timer, the network, a remote GPU).
	RegimeWaiting
	// RegimeSharing: the streams overlapped, but each ran slower than
	// alone: they shared one CPU or GPU.
	RegimeSharing
	// RegimeQueued: the server took the streams one at a time: some
	// waited in its queue while another was served.
	RegimeQueued
	// RegimeApart: the streams were never busy at the same time, and
	// none queued (streams too short to meet, say).
	RegimeApart
)

// String names the regime: "waiting", "sharing", "queued", "apart", or
// "" when unknown.
func (g Regime) String() string {
	return [...]string{"", "waiting", "sharing", "queued", "apart"}[g]
}

// Comparison is the same streams run one after another (sync), then side
// by side (async): the lesson of Tokenloom in two runs.
type Comparison struct {
	Sync, Async RunTime
	// SyncRun and AsyncRun are the streams of each run, in the same
	// order.
	SyncRun, AsyncRun []Outcome
	// Paces are each stream's pace side by side against its pace alone
	// (async ÷ sync, see paceOf); NaN where either run did not finish
	// it.
	Paces []float64
	// Regime is what async bought, named from the figures.
	Regime Regime
}

// asFastShare is the least pace side by side, against alone, at which a
// stream counts as running as fast as alone.
const asFastShare = 0.85

// Compare puts a sync run and an async run of the same streams side by
// side and names the regime.
func Compare(sync, async []Outcome) Comparison {
	c := Comparison{Sync: RunTimeOf(sync), Async: RunTimeOf(async), SyncRun: sync, AsyncRun: async}
	c.Paces = make([]float64, len(sync))
	var known []float64
	for i := range c.Paces {
		c.Paces[i] = math.NaN()
		if i >= len(async) || sync[i].End != EndNormal || async[i].End != EndNormal {
			continue
		}
		alone, ok1 := paceOf(sync[i].Stats)
		together, ok2 := paceOf(async[i].Stats)
		if ok1 && ok2 && alone > 0 {
			c.Paces[i] = together / alone
			known = append(known, c.Paces[i])
		}
	}
	_, overlapped := c.Async.Speedup()
	switch {
	case c.Async.Finished < 2:
		c.Regime = RegimeUnknown
	case !overlapped && c.Async.Queued > 0:
		c.Regime = RegimeQueued
	case !overlapped:
		c.Regime = RegimeApart
	case len(known) > 0 && Median(known) < asFastShare:
		c.Regime = RegimeSharing
	default:
		c.Regime = RegimeWaiting
	}
	return c
}

// paceOf is how fast a stream's work went: by its server's clock where
// it gives one (Ollama's eval rate); else its tokens' rate between the
// first and the last (of the reasoning and the answer), with three or
// more; else the inverse of its busy time.
func paceOf(st *wire.Stats) (float64, bool) {
	if st == nil {
		return 0, false
	}
	if o := st.Ollama; o != nil && o.EvalDurationNs > 0 && o.EvalCount > 0 {
		return float64(o.EvalCount) / float64(o.EvalDurationNs), true
	}
	n := st.Tokens + st.ThinkingTokens
	first := st.StartMs + FirstGenerated(st.ThinkingTokens, st.Tokens, st.ThinkingTTFTMs, st.TTFTMs)
	if span := st.LastTokenMs - first; n >= 3 && span > 0 {
		return float64(n-1) / span, true
	}
	busy := st.BusyMs
	if len(st.Phases) == 0 {
		busy = st.DurationMs - st.QueuedMs
	}
	if busy <= 0 {
		return 0, false
	}
	return 1 / busy, true
}

// SavedMs is the wall time async saved against sync, each run's cold
// loads left out (a model that one run loaded and the other found loaded
// is not async's doing); negative when async took longer. Streams the
// server took one at a time (or that never met) overlapped in nothing:
// whatever the two wall times, such a run saved nothing, so the figure is
// then 0 unless async took longer.
func (c Comparison) SavedMs() float64 {
	saved := c.rawSavedMs()
	if (c.Regime == RegimeQueued || c.Regime == RegimeApart) && saved > 0 {
		return 0
	}
	return saved
}

func (c Comparison) rawSavedMs() float64 {
	return (c.Sync.WallMs - c.Sync.LoadMs()) - (c.Async.WallMs - c.Async.LoadMs())
}

// noise is the least difference between the two runs that counts: less
// is the noise of two runs of the same streams.
func (c Comparison) noise() float64 { return sameShare * (c.Sync.WallMs - c.Sync.LoadMs()) }

// AsyncSaved reports whether async saved time worth saying.
func (c Comparison) AsyncSaved() bool {
	return c.Sync.WallMs > 0 && c.SavedMs() >= c.noise() && c.SavedMs() > 0
}

// Saved says what async saved: "async saved 2.00 s (40%)", "async saved
// nothing", or "async took 0.20 s longer"; when a run loaded a model cold
// that the other found loaded, it says that its load is left out, so that
// the figure is not read against the two wall times alone.
func (c Comparison) Saved() string {
	s := c.saved()
	if loads := c.Sync.LoadMs() - c.Async.LoadMs(); math.Abs(loads) >= c.noise() && loads != 0 {
		run := "sync"
		if loads < 0 {
			run = "async"
		}
		s += fmt.Sprintf(" (the %s run's cold load of %s left out)", run, seconds(math.Abs(loads)))
	}
	return s
}

// saved is Saved without the word on loads.
func (c Comparison) saved() string {
	saved := c.SavedMs()
	switch {
	case c.Sync.WallMs <= 0 || math.Abs(saved) < c.noise() || saved == 0:
		return "async saved nothing"
	case saved < 0:
		return fmt.Sprintf("async took %s longer", seconds(-saved))
	}
	return fmt.Sprintf("async saved %s (%.0f%%)", seconds(saved), 100*saved/(c.Sync.WallMs-c.Sync.LoadMs()))
}

// model names stream i: its model, or "stream N".
func (c Comparison) model(i int) string {
	if i < len(c.SyncRun) && c.SyncRun[i].Model != "" {
		return c.SyncRun[i].Model
	}
	return fmt.Sprintf("stream %d", i+1)
}

// Lesson reads the comparison's figures in a few sentences: what waited in
// the sync run, what happened side by side and why (the regime), what
// async saved, and which models loaded cold. Every sentence is chosen by
// the figures, so it holds for the runs it describes.
func (c Comparison) Lesson() string {
	says := []string{c.syncLesson(), c.asyncLesson(), c.savedLesson()}
	for _, run := range []struct {
		name string
		r    RunTime
	}{{"sync", c.Sync}, {"async", c.Async}} {
		if l := run.r.loadCaveat(); l != "" {
			says = append(says, "In the "+run.name+" run, "+l+".")
		}
	}
	return strings.Join(slices.DeleteFunc(says, func(s string) bool { return s == "" }), " ")
}

// Sentences are the lesson's sentences, one a string.
func (c Comparison) Sentences() []string { return splitSentences(c.Lesson()) }

// splitSentences splits text after each ". " that ends a sentence.
func splitSentences(text string) []string {
	var out []string
	for text != "" {
		i := strings.Index(text, ". ")
		if i < 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:i+1])
		text = text[i+2:]
	}
	return out
}

// finished are the indexes of the streams that ended normally.
func finished(run []Outcome) []int {
	var out []int
	for i, o := range run {
		if o.End == EndNormal && o.Stats != nil {
			out = append(out, i)
		}
	}
	return out
}

// syncLesson: the streams waited for one another.
func (c Comparison) syncLesson() string {
	idx := finished(c.SyncRun)
	if len(idx) == 0 {
		return "The sync run has no stream that finished."
	}
	sum := 0.0
	var took string
	if len(idx) <= 4 {
		parts := make([]string, len(idx))
		for k, i := range idx {
			d := seconds(c.SyncRun[i].Stats.DurationMs)
			switch k {
			case 0:
				parts[k] = c.model(i) + " took " + d
			case len(idx) - 1:
				parts[k] = "then " + c.model(i) + " " + d
			default:
				parts[k] = c.model(i) + " " + d
			}
		}
		took = strings.Join(parts, ", ")
	} else {
		lo, hi := math.Inf(1), 0.0
		for _, i := range idx {
			lo, hi = min(lo, c.SyncRun[i].Stats.DurationMs), max(hi, c.SyncRun[i].Stats.DurationMs)
		}
		took = fmt.Sprintf("%s of %.2f to %.2f s each", Plural(len(idx), "stream"), lo/1000, hi/1000)
	}
	for _, i := range idx {
		sum += c.SyncRun[i].Stats.DurationMs
	}
	s := "One after another (sync), each stream waited for the one before it to end: " + took + "; the run took " + c.Sync.Wall()
	if math.Abs(c.Sync.WallMs-sum) <= sameShare*c.Sync.WallMs {
		return s + ", the sum of its streams."
	}
	return s + fmt.Sprintf(" for %s of streams.", seconds(sum))
}

// asyncLesson: what happened side by side, and why.
func (c Comparison) asyncLesson() string {
	a := c.Async
	idx := finished(c.AsyncRun)
	switch len(idx) {
	case 0:
		return "The async run has no stream that finished."
	case 1:
		return "Side by side (async), only one stream finished: nothing ran beside it."
	}
	sent := fmt.Sprintf("Side by side (async), all %s were sent at once", Plural(len(idx), "stream"))
	switch c.Regime {
	case RegimeQueued:
		others := "the others"
		if len(idx) == 2 {
			others = "the other"
		}
		return sent + fmt.Sprintf(", but the model server answered them one at a time: %s waited %s in its queue (hatched on the timeline) while one was generated", others, seconds(a.QueuedMs)) +
			" (Ollama answers one request per model at a time unless OLLAMA_NUM_PARALLEL says more; it is 1 by default since 0.10)" +
			fmt.Sprintf(". A server that does not interleave gives async nothing back: %s against %s one after another.", a.Wall(), c.Sync.Wall())
	case RegimeApart:
		return sent + fmt.Sprintf(", but no two of them were busy at the same time: the run took %s.", a.Wall())
	case RegimeSharing:
		return sent + " and ran at the same time, but " + c.paces(false) + ": they shared the machine."
	}
	longest := idx[0]
	sum := 0.0
	for _, i := range idx {
		d := c.AsyncRun[i].Stats.DurationMs
		sum += d
		if d > c.AsyncRun[longest].Stats.DurationMs {
			longest = i
		}
	}
	l := c.AsyncRun[longest].Stats.DurationMs
	s := sent + " and " + c.paces(true) + ": they were waiting, not working, so their waits overlapped: the run took " + a.Wall()
	if a.WallMs <= l*(1+sameShare)+50 {
		return s + fmt.Sprintf(", about as long as its longest stream (%s, %s), not the sum of them (%s).", c.model(longest), seconds(l), seconds(sum))
	}
	return s + fmt.Sprintf(", less than the sum of its streams (%s).", seconds(sum))
}

// paces says how fast each stream went side by side against alone: "each
// ran as fast as alone (at 100% of its solo rate)", "each stream
// generated at 52% of its solo rate", or one by one where they differ.
func (c Comparison) paces(asFast bool) string {
	var known []int
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, p := range c.Paces {
		if !math.IsNaN(p) {
			known = append(known, i)
			lo, hi = min(lo, p), max(hi, p)
		}
	}
	pct := func(p float64) string { return fmt.Sprintf("%.0f%%", 100*p) }
	if len(known) == 0 {
		if asFast {
			return "each ran as fast as alone"
		}
		return "each ran slower than alone"
	}
	if hi-lo <= 0.05 {
		p := pct((lo + hi) / 2)
		if asFast {
			return "each ran as fast as alone (at " + p + " of its solo rate)"
		}
		return "each stream generated at " + p + " of its solo rate"
	}
	parts := make([]string, len(known))
	for k, i := range known {
		parts[k] = c.model(i) + " at " + pct(c.Paces[i])
	}
	list := strings.Join(parts, ", ")
	if asFast {
		return "each ran about as fast as alone (" + list + " of their solo rates)"
	}
	return "the streams generated slower than alone (" + list + " of their solo rates)"
}

// savedLesson: what async saved, and where the difference between the
// runs came from when it was not async.
func (c Comparison) savedLesson() string {
	saved := c.saved() // the load is a sentence of its own below
	s := strings.ToUpper(saved[:1]) + saved[1:]
	switch {
	case c.Regime == RegimeSharing && c.AsyncSaved():
		s = "Async still saved" + strings.TrimPrefix(saved, "async saved") + ": together the streams used the machine better than one at a time"
	case c.Regime == RegimeSharing && c.SavedMs() < 0 && saved != "async saved nothing":
		s += ": sharing the machine cost more than it gave"
	case c.Regime == RegimeSharing:
		s += ": sharing the machine, the streams took as long side by side as one after another"
	}
	s += "."
	// A difference between the wall times that async did not make: a
	// model one run loaded cold and the other found loaded.
	raw := c.Sync.WallMs - c.Async.WallMs
	if loads := c.Sync.LoadMs() - c.Async.LoadMs(); math.Abs(loads) >= c.noise() && math.Abs(raw) >= c.noise() && math.Abs(raw-loads) < math.Abs(raw) {
		first, second := "sync", "async"
		if loads < 0 {
			first, second = second, first
		}
		s += fmt.Sprintf(" The %s run also loaded a model cold (%s), which the %s run found loaded: that, not async, is most of the %s between the two runs.", first, seconds(math.Abs(loads)), second, seconds(math.Abs(raw)))
	}
	return s
}
