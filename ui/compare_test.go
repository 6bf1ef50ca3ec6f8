package ui

import (
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testenv"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// compareAndWait presses Compare and waits for the comparison to show.
func (h *harness) compareAndWait() *compareView {
	v := h.app.views.compare
	v.diagram = nil // an earlier comparison's
	test.Tap(h.app.compareBtn)
	h.q.waitFor(h.t, "the comparison", func() bool { return v.diagram != nil && !h.app.running })
	return v
}

// comparisonOf is the comparison the view shows, from its runs.
func comparisonOf(v *compareView) figures.Comparison {
	return figures.Compare(figures.OutcomesOf(v.runs[0]), figures.OutcomesOf(v.runs[1]))
}

// TestCompareDemos: Compare runs demo/hello and demo/hamlet one after the
// other, then side by side: two timelines of about 5 s and 3 s on one
// clock, about 2 s saved, a lesson that says the waits overlapped; the
// panes show either run's texts.
func TestCompareDemos(t *testing.T) {
	testenv.Long(t, "takes 8 s")
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hamlet")
	h.app.prompt.SetText("hi")
	v := h.compareAndWait()
	if h.app.tabs.Selected() != h.app.views.compareTab {
		t.Error("the Compare tab is not shown")
	}
	if v.runs[0].Mode != wire.ModeSync || v.runs[1].Mode != wire.ModeAsync {
		t.Fatalf("runs in modes %s and %s", v.runs[0].Mode, v.runs[1].Mode)
	}
	c := comparisonOf(v)
	// Timers never fire early: the lower bounds are exact.
	if c.Sync.WallMs < 5000 || c.Sync.WallMs > 5300 || c.Async.WallMs < 3000 || c.Async.WallMs > 3300 {
		t.Errorf("wall times %.0f and %.0f ms, want 5.0 and 3.0 s (+0.3 s)", c.Sync.WallMs, c.Async.WallMs)
	}
	if saved := c.SavedMs(); saved < 1700 || saved > 2300 {
		t.Errorf("saved %.0f ms, want about 2 s", saved)
	}
	if d := v.diagram; len(d.Groups) != 2 || len(d.Groups[0].Lanes) != 2 || len(d.Groups[1].Lanes) != 2 || len(d.Spans) != 1 || d.Spans[0].Label != c.Saved() {
		t.Errorf("diagram %d groups, spans %+v", len(d.Groups), d.Spans)
	}
	if !strings.HasPrefix(v.heading.Text, "Sync "+c.Sync.Wall()+" · async "+c.Async.Wall()+" · async saved ") {
		t.Errorf("heading %q", v.heading.Text)
	}
	if !strings.Contains(v.lesson.Text, "their waits overlapped") || strings.Contains(v.lesson.Text, "one at a time") {
		t.Errorf("lesson %q", v.lesson.Text)
	}
	// The panes show the async run; picking the sync one shows its texts
	// and its figures: hamlet's first token came after hello's 2 s.
	if h.app.runID != v.runs[1].ID || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("panes show run %s: %q", h.app.runID, h.app.panes[1].view.Text())
	}
	v.pick.SetSelected(showSync)
	if h.app.runID != v.runs[0].ID || h.app.runMode != wire.ModeSync || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("after picking the sync run, panes show run %s (%s): %q", h.app.runID, h.app.runMode, h.app.panes[1].view.Text())
	}
	if got := h.app.panes[1].figuresLine(); !strings.Contains(got, "first token at 2.") {
		t.Errorf("hamlet in the sync run: %q", got)
	}
	if lanes := laneLabels(h.app.views.timeline); len(lanes) != 2 {
		t.Errorf("timeline lanes %q", lanes)
	}
}

// TestCompareOneSlot: two streams of the tiny model on a real Ollama at one
// slot per model (its default since 0.10): async requests, served one at a
// time, do not overlap, and the lesson says why instead of claiming a
// saving.
func TestCompareOneSlot(t *testing.T) {
	o := ollamatest.Start(t)
	h := newHarness(t, test.NewTempApp(t), o.URL())
	h.q.waitFor(t, "the tiny model in the list", func() bool { return h.app.modelInfo[o.Model()+":latest"].Name != "" })
	model := o.Model() + ":latest"
	h.setPanes(model, model)
	for _, p := range h.app.panes {
		p.maxTok.SetText("2500") // long enough to queue well past the queued margin
	}
	h.app.prompt.SetText("one")
	// The model is cold: the sync run loads it, the async run finds it
	// loaded. Its wall time is the shorter by the load, which is not
	// async's doing: nothing is saved (or async took longer), on the chart
	// neither, and the heading says a cold load is left out.
	v := h.compareAndWait()
	c := comparisonOf(v)
	t.Logf("%s\n%s", v.heading.Text, v.lesson.Text)
	if c.Regime != figures.RegimeQueued || c.Async.Queued == 0 || c.AsyncSaved() || len(v.diagram.Spans) != 0 ||
		!strings.HasSuffix(v.heading.Text, c.Saved()) || c.Sync.LoadMs() > 0 && !strings.Contains(c.Saved(), "the sync run's cold load") {
		t.Errorf("async run: regime %q, %d queued, %s, spans %+v", c.Regime, c.Async.Queued, c.Saved(), v.diagram.Spans)
	}
	// Once warm, no saving either (async may even take longer: reading
	// two replies at once costs this process more).
	v = h.compareAndWait()
	c = comparisonOf(v)
	t.Logf("%s\n%s", v.heading.Text, v.lesson.Text)
	if c.Regime != figures.RegimeQueued || c.AsyncSaved() || len(v.diagram.Spans) != 0 || len(c.Sync.Loads)+len(c.Async.Loads) != 0 {
		t.Errorf("warm: regime %q, %s, loads %+v %+v", c.Regime, c.Saved(), c.Sync.Loads, c.Async.Loads)
	}
	if !strings.Contains(v.lesson.Text, "answered them one at a time") || !strings.Contains(v.lesson.Text, "does not interleave") || strings.Contains(v.lesson.Text, "overlapped") {
		t.Errorf("lesson %q", v.lesson.Text)
	}
}

// TestCompareRegimes: Compare on the Fyne test driver names what async
// bought, sentence by sentence, in each of the three regimes the demo
// sources show: the lesson's tasks only wait (async saves nearly all),
// demo/shared's streams share one engine (each at half its solo rate,
// nothing saved), demo/oneslot's take turns (nothing saved).
func TestCompareRegimes(t *testing.T) {
	testenv.Long(t, "three comparisons of 12 s")
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.prompt.SetText("go")
	for _, tt := range []struct {
		models    []string
		maxTokens string
		regime    figures.Regime
		sentences []string
	}{
		{[]string{wire.DemoTask1, wire.DemoTask2}, "", figures.RegimeWaiting, []string{
			`One after another \(sync\), each stream waited for the one before it to end: demo/task1 took 2\.0\d s, then demo/task2 3\.0\d s; the run took 5\.0\d s, the sum of its streams\.`,
			`Side by side \(async\), all 2 streams were sent at once and each ran as fast as alone \(at 100% of its solo rate\): they were waiting, not working, so their waits overlapped: the run took 3\.0\d s, about as long as its longest stream \(demo/task2, 3\.0\d s\), not the sum of them \(5\.0\d s\)\.`,
			`Async saved 1\.9\d s \(\d\d%\)\.|Async saved 2\.0\d s \(\d\d%\)\.`,
		}},
		{[]string{wire.DemoShared, wire.DemoShared}, "5", figures.RegimeSharing, []string{
			`One after another \(sync\), each stream waited for the one before it to end: demo/shared took 0\.5\d s, then demo/shared 0\.5\d s; the run took 1\.0\d s, the sum of its streams\.`,
			`Side by side \(async\), all 2 streams were sent at once and ran at the same time, but each stream generated at (4[5-9]|5[0-5])% of its solo rate: they shared the machine\.`,
			`Async saved nothing: sharing the machine, the streams took as long side by side as one after another\.`,
		}},
		{[]string{wire.DemoOneSlot, wire.DemoOneSlot}, "5", figures.RegimeQueued, []string{
			`One after another \(sync\), each stream waited for the one before it to end: demo/oneslot took 0\.5\d s, then demo/oneslot 0\.5\d s; the run took 1\.0\d s, the sum of its streams\.`,
			`Side by side \(async\), all 2 streams were sent at once, but the model server answered them one at a time: the other waited 0\.5\d s in its queue \(hatched on the timeline\) while one was generated \(Ollama answers one request per model at a time unless OLLAMA_NUM_PARALLEL says more; it is 1 by default since 0\.10\)\.`,
			`A server that does not interleave gives async nothing back: 1\.0\d s against 1\.0\d s one after another\.`,
			`Async saved nothing\.`,
		}},
	} {
		t.Run(tt.models[0], func(t *testing.T) {
			h.setPanes(tt.models...)
			for _, p := range h.app.panes {
				p.maxTok.SetText(tt.maxTokens)
			}
			v := h.compareAndWait()
			c := comparisonOf(v)
			got := c.Sentences()
			if c.Regime != tt.regime || len(got) != len(tt.sentences) || v.lesson.Text != strings.Join(got, " ") {
				t.Fatalf("regime %q, lesson:\n%s", c.Regime, strings.Join(got, "\n"))
			}
			for i, want := range tt.sentences {
				if !regexp.MustCompile("^(" + want + ")$").MatchString(got[i]) {
					t.Errorf("sentence %d:\n%s\nwant\n%s", i+1, got[i], want)
				}
			}
			// The chart marks a saving only where the lesson says one.
			if d := v.diagram; (len(d.Spans) > 0) != c.AsyncSaved() || c.AsyncSaved() != (tt.regime == figures.RegimeWaiting) {
				t.Errorf("spans %+v, saved %v", d.Spans, c.AsyncSaved())
			}
			if tt.regime == figures.RegimeSharing {
				for i, p := range c.Paces {
					if p < 0.45 || p > 0.55 {
						t.Errorf("stream %d at %.0f%% of its solo rate, want 50%% ± 5%%", i+1, 100*p)
					}
				}
			}
		})
	}
}
