package figures_test

import (
	"strings"
	"testing"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// named are streams that ended normally, stream i of models[i].
func named(models []string, stats ...*wire.Stats) []figures.Outcome {
	out := make([]figures.Outcome, len(stats))
	for i, st := range stats {
		out[i] = figures.Outcome{Stats: st, End: figures.EndNormal, Model: models[i]}
	}
	return out
}

// after is a sync run's stream that waited for its turn until from, then
// generated tokens until to.
func after(tokens int, from, to float64) *wire.Stats {
	return clocked(tokens, ph(wire.PhaseWaiting, 0, from), ph(wire.PhaseGenerating, from, to))
}

// TestLesson: the comparison names the regime from the figures and says
// it sentence by sentence, in each case a comparison can take.
func TestLesson(t *testing.T) {
	tasks := []string{"demo/task1", "demo/task2"}
	shared := []string{"demo/shared", "demo/shared"}
	tiny := []string{"tiny", "tiny"}
	queued := clocked(20, ph(wire.PhaseQueued, 0, 2000), ph(wire.PhaseGenerating, 2000, 4000))
	for _, tt := range []struct {
		name        string
		sync, async []figures.Outcome
		regime      figures.Regime
		sentences   []string
		saved       string
	}{
		{
			"waiting", named(tasks, gen(3, 0, 2000), after(2, 2000, 5000)), named(tasks, gen(3, 0, 2000), gen(2, 0, 3000)),
			figures.RegimeWaiting, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/task1 took 2.00 s, then demo/task2 3.00 s; the run took 5.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once and each ran as fast as alone (at 100% of its solo rate): they were waiting, not working, so their waits overlapped: the run took 3.00 s, about as long as its longest stream (demo/task2, 3.00 s), not the sum of them (5.00 s).",
				"Async saved 2.00 s (40%).",
			}, "async saved 2.00 s (40%)",
		},
		{
			"sharing, nothing saved", named(shared, gen(20, 0, 2000), after(20, 2000, 4000)), named(shared, gen(20, 0, 4000), gen(20, 0, 4000)),
			figures.RegimeSharing, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/shared took 2.00 s, then demo/shared 2.00 s; the run took 4.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once and ran at the same time, but each stream generated at 50% of its solo rate: they shared the machine.",
				"Async saved nothing: sharing the machine, the streams took as long side by side as one after another.",
			}, "async saved nothing",
		},
		{
			"sharing, some saved", named(shared, gen(20, 0, 1000), after(20, 1000, 2000)), named(shared, gen(20, 0, 1400), gen(20, 0, 1400)),
			figures.RegimeSharing, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/shared took 1.00 s, then demo/shared 1.00 s; the run took 2.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once and ran at the same time, but each stream generated at 71% of its solo rate: they shared the machine.",
				"Async still saved 0.60 s (30%): together the streams used the machine better than one at a time.",
			}, "async saved 0.60 s (30%)",
		},
		{
			"queued", named(tiny, gen(20, 0, 2000), after(20, 2000, 4000)), named(tiny, gen(20, 0, 2000), queued),
			figures.RegimeQueued, []string{
				"One after another (sync), each stream waited for the one before it to end: tiny took 2.00 s, then tiny 2.00 s; the run took 4.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once, but the model server answered them one at a time: the other waited 2.00 s in its queue (hatched on the timeline) while one was generated (Ollama answers one request per model at a time unless OLLAMA_NUM_PARALLEL says more; it is 1 by default since 0.10).",
				"A server that does not interleave gives async nothing back: 4.00 s against 4.00 s one after another.",
				"Async saved nothing.",
			}, "async saved nothing",
		},
		{
			// The sync run paid the model's load, the async run found it
			// loaded: the async run is shorter, but not by async.
			"queued, after a cold start in the sync run",
			named(tiny, clocked(20, ph(wire.PhaseLoading, 0, 500), ph(wire.PhaseGenerating, 500, 1100)),
				clocked(20, ph(wire.PhaseWaiting, 0, 1100), ph(wire.PhaseLoading, 1100, 1101), ph(wire.PhaseGenerating, 1101, 1700))),
			named(tiny, clocked(20, ph(wire.PhaseLoading, 0, 2), ph(wire.PhaseGenerating, 2, 600)),
				clocked(20, ph(wire.PhaseLoading, 1, 2), ph(wire.PhaseQueued, 2, 600), ph(wire.PhaseGenerating, 600, 1200))),
			figures.RegimeQueued, []string{
				"One after another (sync), each stream waited for the one before it to end: tiny took 1.10 s, then tiny 0.60 s; the run took 1.70 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once, but the model server answered them one at a time: the other waited 0.60 s in its queue (hatched on the timeline) while one was generated (Ollama answers one request per model at a time unless OLLAMA_NUM_PARALLEL says more; it is 1 by default since 0.10).",
				"A server that does not interleave gives async nothing back: 1.20 s against 1.70 s one after another.",
				"Async saved nothing.",
				"The sync run also loaded a model cold (0.50 s), which the async run found loaded: that, not async, is most of the 0.50 s between the two runs.",
				"In the sync run, tiny loaded for 0.5 s in this run (a cold start): run again to compare warm models.",
			}, "async saved nothing (the sync run's cold load of 0.50 s left out)",
		},
		{
			"apart, async slower", named(tasks, gen(5, 0, 1000), after(5, 1000, 2000)), named(tasks, gen(5, 0, 1000), gen(5, 1000, 2500)),
			figures.RegimeApart, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/task1 took 1.00 s, then demo/task2 1.00 s; the run took 2.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once, but no two of them were busy at the same time: the run took 2.50 s.",
				"Async took 0.50 s longer.",
			}, "async took 0.50 s longer",
		},
		{
			"nothing finished", with(named(tasks, gen(1, 0, 10), gen(1, 0, 10)), 0, figures.EndFailed), with(named(tasks, gen(1, 0, 10), gen(1, 0, 10)), 1, figures.EndCancelled),
			figures.RegimeUnknown, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/task2 took 0.01 s; the run took 0.01 s, the sum of its streams.",
				"Side by side (async), only one stream finished: nothing ran beside it.",
				"Async saved nothing.",
			}, "async saved nothing",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := figures.Compare(tt.sync, tt.async)
			if c.Regime != tt.regime {
				t.Errorf("regime %q, want %q", c.Regime, tt.regime)
			}
			got := c.Sentences()
			if strings.Join(got, "\n") != strings.Join(tt.sentences, "\n") {
				t.Errorf("lesson:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.sentences, "\n"))
			}
			if got := c.Saved(); got != tt.saved {
				t.Errorf("Saved() = %q, want %q", got, tt.saved)
			}
			if want := strings.HasPrefix(tt.saved, "async saved ") && !strings.HasPrefix(tt.saved, "async saved nothing"); c.AsyncSaved() != want {
				t.Errorf("AsyncSaved() = %v with %q", c.AsyncSaved(), tt.saved)
			}
		})
	}
}
