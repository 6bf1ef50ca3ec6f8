package ui

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
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
// other, then side by side: two timelines of exactly 5 s and 3 s on one
// clock, 2 s saved, a lesson that says the waits overlapped; the panes show
// either run's texts.
func TestCompareDemos(t *testing.T) {
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{})
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
	if c.Sync.WallMs != 5000 || c.Async.WallMs != 3000 || c.SavedMs() != 2000 {
		t.Errorf("wall times %v and %v ms, saved %v ms; want 5000, 3000, 2000", c.Sync.WallMs, c.Async.WallMs, c.SavedMs())
	}
	const saved = "async saved 2.00 s (40%)"
	if d := v.diagram; len(d.Groups) != 2 || len(d.Groups[0].Lanes) != 2 || len(d.Groups[1].Lanes) != 2 ||
		!slices.Equal(d.Spans, []diagram.Span{{FromMs: 3000, ToMs: 5000, Label: saved}}) {
		t.Errorf("diagram %d groups, spans %+v", len(d.Groups), d.Spans)
	}
	if want := "Sync 5.00 s · async 3.00 s · " + saved; v.heading.Text != want {
		t.Errorf("heading %q, want %q", v.heading.Text, want)
	}
	if want := "One after another (sync), each stream waited for the one before it to end: demo/hello took 2.00 s, then demo/hamlet 3.00 s; the run took 5.00 s, the sum of its streams. " +
		"Side by side (async), all 2 streams were sent at once and each ran as fast as alone (at 100% of its solo rate): they were waiting, not working, so their waits overlapped: the run took 3.00 s, about as long as its longest stream (demo/hamlet, 3.00 s), not the sum of them (5.00 s). " +
		"Async saved 2.00 s (40%)."; v.lesson.Text != want {
		t.Errorf("lesson\n%s\nwant\n%s", v.lesson.Text, want)
	}
	// The panes show the async run; picking the sync one shows its texts
	// and its figures: hamlet's first token came 231 ms after hello's 2 s.
	if h.app.runID != v.runs[1].ID || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("panes show run %s: %q", h.app.runID, h.app.panes[1].view.Text())
	}
	v.pick.SetSelected(showSync)
	if h.app.runID != v.runs[0].ID || h.app.runMode != wire.ModeSync || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("after picking the sync run, panes show run %s (%s): %q", h.app.runID, h.app.runMode, h.app.panes[1].view.Text())
	}
	if got, want := h.app.panes[1].figuresLine(), "TTFT 231 ms · first token at 2.23 s · 4.7 tok/s · 13 tokens"; got != want {
		t.Errorf("hamlet in the sync run: %q, want %q", got, want)
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
// bought, sentence by sentence, with the figures behind it, in each of the
// three regimes the demo sources show: the lesson's tasks only wait (async
// saves all it can: 2 s of 5), demo/shared's streams share one engine
// (each at exactly half its solo rate, nothing saved), demo/oneslot's take
// turns (one queued for the other's 0.5 s, nothing saved).
func TestCompareRegimes(t *testing.T) {
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{})
	h.app.prompt.SetText("go")
	type figuresOf struct {
		syncWall, syncWork                              float64
		asyncWall, asyncWork, asyncOverlap, asyncQueued float64
		speedup                                         float64 // 0: none
		savedMs                                         float64
		saved                                           string
		paces                                           []float64
	}
	for _, tt := range []struct {
		models    []string
		maxTokens string
		regime    figures.Regime
		figures   figuresOf
		sentences []string
	}{
		{[]string{wire.DemoTask1, wire.DemoTask2}, "", figures.RegimeWaiting,
			figuresOf{5000, 5000, 3000, 5000, 2000, 0, 5000.0 / 3000, 2000, "async saved 2.00 s (40%)", []float64{1, 1}}, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/task1 took 2.00 s, then demo/task2 3.00 s; the run took 5.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once and each ran as fast as alone (at 100% of its solo rate): they were waiting, not working, so their waits overlapped: the run took 3.00 s, about as long as its longest stream (demo/task2, 3.00 s), not the sum of them (5.00 s).",
				"Async saved 2.00 s (40%).",
			}},
		{[]string{wire.DemoShared, wire.DemoShared}, "5", figures.RegimeSharing,
			figuresOf{1000, 1000, 1000, 1900, 900, 0, 1.9, 0, "async saved nothing", []float64{0.5, 0.5}}, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/shared took 0.50 s, then demo/shared 0.50 s; the run took 1.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once and ran at the same time, but each stream generated at 50% of its solo rate: they shared the machine.",
				"Async saved nothing: sharing the machine, the streams took as long side by side as one after another.",
			}},
		{[]string{wire.DemoOneSlot, wire.DemoOneSlot}, "5", figures.RegimeQueued,
			figuresOf{1000, 1000, 1000, 1000, 0, 500, 0, 0, "async saved nothing", []float64{1, 1}}, []string{
				"One after another (sync), each stream waited for the one before it to end: demo/oneslot took 0.50 s, then demo/oneslot 0.50 s; the run took 1.00 s, the sum of its streams.",
				"Side by side (async), all 2 streams were sent at once, but the model server answered them one at a time: the other waited 0.50 s in its queue (hatched on the timeline) while one was generated (Ollama answers one request per model at a time unless OLLAMA_NUM_PARALLEL says more; it is 1 by default since 0.10).",
				"A server that does not interleave gives async nothing back: 1.00 s against 1.00 s one after another.",
				"Async saved nothing.",
			}},
	} {
		t.Run(tt.models[0], func(t *testing.T) {
			h.setPanes(tt.models...)
			for _, p := range h.app.panes {
				p.maxTok.SetText(tt.maxTokens)
			}
			v := h.compareAndWait()
			c := comparisonOf(v)
			if got := c.Sentences(); c.Regime != tt.regime || !slices.Equal(got, tt.sentences) || v.lesson.Text != strings.Join(got, " ") {
				t.Errorf("regime %q, lesson:\n%s\nwant %q:\n%s", c.Regime, strings.Join(got, "\n"), tt.regime, strings.Join(tt.sentences, "\n"))
			}
			speedup, _ := c.Async.Speedup()
			got := figuresOf{c.Sync.WallMs, c.Sync.WorkMs, c.Async.WallMs, c.Async.WorkMs, c.Async.OverlapMs, c.Async.QueuedMs, speedup, c.SavedMs(), c.Saved(), c.Paces}
			if !reflect.DeepEqual(got, tt.figures) {
				t.Errorf("figures\n%+v\nwant\n%+v", got, tt.figures)
			}
			// The chart marks a saving only where the lesson says one.
			if d := v.diagram; (len(d.Spans) > 0) != c.AsyncSaved() || c.AsyncSaved() != (tt.regime == figures.RegimeWaiting) {
				t.Errorf("spans %+v, saved %v", d.Spans, c.AsyncSaved())
			}
		})
	}
}
