package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/figures"
	"github.com/tokenloom/tokenloom/internal/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testenv"
)

// compareAndWait presses Compare and waits for the comparison to show.
func (h *harness) compareAndWait() *compareView {
	v := h.app.views.compare
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
	if v.runs[0].Mode != client.ModeSync || v.runs[1].Mode != client.ModeAsync {
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
	if h.app.runID != v.runs[0].ID || h.app.runMode != client.ModeSync || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." {
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
	h.runAndWait() // loads the model: both runs of the comparison find it warm
	v := h.compareAndWait()
	c := comparisonOf(v)
	t.Logf("%s\n%s", v.heading.Text, v.lesson.Text)
	if c.Regime != figures.RegimeQueued || c.Async.Queued == 0 || c.Saved() != "async saved nothing" {
		t.Errorf("async run: regime %q, %d queued, %s", c.Regime, c.Async.Queued, c.Saved())
	}
	if !strings.Contains(v.lesson.Text, "answered them one at a time") || !strings.Contains(v.lesson.Text, "does not interleave") || strings.Contains(v.lesson.Text, "overlapped") {
		t.Errorf("lesson %q", v.lesson.Text)
	}
}
