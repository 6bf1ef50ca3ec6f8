package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
)

// sweepAndWait sweeps model at streams in the Sweep tab and waits for the
// end; the timeline shows each step's lanes as it runs (a step that ends
// within a frame, on a fake clock, may pass unseen) and the last step's at
// the end.
func (h *harness) sweepAndWait(model, streams, maxTokens string) *sweepView {
	h.t.Helper()
	v := h.app.views.sweep
	v.model.SetSelected(model)
	v.streams.SetText(streams)
	v.maxTk.SetText(maxTokens)
	test.Tap(v.startBtn)
	if !h.app.running {
		h.t.Fatalf("the sweep did not start: %q", v.status.Text)
	}
	var lanes []int // the lanes the timeline had, step by step
	h.q.waitFor(h.t, "the sweep to end", func() bool {
		if n := h.app.views.timeline.Lanes(); len(lanes) == 0 || lanes[len(lanes)-1] != n {
			lanes = append(lanes, n)
		}
		return !h.app.running
	})
	want := lanesOf(streams)
	for _, n := range lanes {
		if n != 0 && !slices.Contains(want, n) {
			h.t.Errorf("the timeline's lanes went %v: %d is no step's, want the steps' %v", lanes, n, want)
		}
	}
	if lanes[len(lanes)-1] != want[len(want)-1] {
		h.t.Errorf("the timeline's lanes went %v, want the last step's %d at the end", lanes, want[len(want)-1])
	}
	return v
}

func lanesOf(streams string) []int {
	var out []int
	for _, f := range strings.Split(streams, ",") {
		n := 0
		for _, c := range f {
			n = 10*n + int(c-'0')
		}
		out = append(out, n)
	}
	return out
}

// TestSweepTab: the Sweep tab on the Fyne test driver, on a fake clock,
// sweeps at 1, 2, 4 and 8 streams, the steps' lanes on the timeline, and
// shows what tokenloom sweep prints: demo/task1's aggregate grows with the
// streams exactly (waiting: 8 streams take the 2 s of one), demo/shared's
// stays where one stream's is (sharing: one engine of 10 tokens a second).
// Each sweep is kept in the history and opens again.
func TestSweepTab(t *testing.T) {
	store := tempHistory(t)
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{History: store})
	h.app.prompt.SetText("go")

	v := h.sweepAndWait(wire.DemoTask1, "1,2,4,8", "128")
	p := v.points
	if len(p) != 4 || p[0].AggregateTokensPerS != 1.5 || p[3].AggregateTokensPerS != 8*p[0].AggregateTokensPerS || v.result.Regime() != figures.RegimeWaiting {
		t.Errorf("demo/task1: points %+v, regime %q: want 1.5 tokens/s at 1 stream (3 in 2 s), 8 times that at 8", p, v.result.Regime())
	}
	if !strings.HasPrefix(v.sentences.Text, "Aggregate throughput grew with the streams") || v.cell(3, 0) != "8" || !strings.HasPrefix(v.status.Text, "Done:") {
		t.Errorf("demo/task1: sentences %q, row 4 %q, status %q", v.sentences.Text, v.cell(3, 0), v.status.Text)
	}
	if got := laneLabels(h.app.views.timeline); len(got) != 8 || got[7] != "8 "+wire.DemoTask1 {
		t.Errorf("the last step's lanes %q", got)
	}
	task1 := v.result.ID

	v = h.sweepAndWait(wire.DemoShared, "1,2,4,8", "5")
	p = v.points
	if len(p) != 4 || p[0].AggregateTokensPerS != 10 || p[3].AggregateTokensPerS != p[0].AggregateTokensPerS || v.result.Regime() != figures.RegimeSharing {
		t.Errorf("demo/shared: points %+v, regime %q: want the engine's 10 tokens/s at 1 stream and at 8", p, v.result.Regime())
	}
	if !strings.Contains(v.sentences.Text, "the streams share the machine") {
		t.Errorf("demo/shared: sentences %q", v.sentences.Text)
	}
	if img := v.chart.Generator(400, 300); img.Bounds().Dx() != 400 {
		t.Errorf("chart of %v", img.Bounds())
	}

	// Both are kept, newest first, and the first opens again.
	v.listEarlier()
	h.q.waitFor(t, "the kept sweeps", func() bool { return len(v.earlierIDs) == 2 })
	if list, err := store.Sweeps(t.Context(), 0); err != nil || len(list) != 2 || list[1].ID != task1 || list[1].Steps != 4 {
		t.Fatalf("kept sweeps %+v, %v", list, err)
	}
	v.earlier.SetSelectedIndex(1)
	h.q.waitFor(t, "the first sweep", func() bool { return v.result.ID == task1 })
	if !strings.HasPrefix(v.sentences.Text, "Aggregate throughput grew with the streams") {
		t.Errorf("opened: %q", v.sentences.Text)
	}
	if _, err := store.SweepData(t.Context(), history.LastSweep); err != nil {
		t.Error(err)
	}
}

// TestSweepTabStop: Stop stops a sweep in its step; what ended stays.
func TestSweepTabStop(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.prompt.SetText("go")
	v := h.app.views.sweep
	v.model.SetSelected(wire.DemoOneSlot)
	v.streams.SetText("1,2")
	v.maxTk.SetText("100")
	test.Tap(v.startBtn)
	h.q.waitFor(t, "the first step", func() bool { return h.app.views.timeline.Lanes() == 1 })
	test.Tap(h.app.stopBtn)
	h.q.waitFor(t, "the sweep to stop", func() bool { return !h.app.running })
	if !strings.HasPrefix(v.status.Text, "Stopped after 0 steps of 2") || h.app.runBtn.Disabled() {
		t.Errorf("status %q", v.status.Text)
	}
	// A bad number of streams is refused before anything runs.
	v.streams.SetText("1,99")
	test.Tap(v.startBtn)
	if h.app.running || !strings.Contains(v.status.Text, "99 streams: want 1 to 16") {
		t.Errorf("status %q", v.status.Text)
	}
}

// TestSweepTabOneSlot: the Sweep tab on a real Ollama at one slot per
// model: every stream but one of a step queues, the regime is the queue's
// (the aggregate rate is not read against a bound: one step may run on a
// busier machine than another), and the tab says why.
func TestSweepTabOneSlot(t *testing.T) {
	o := ollamatest.Start(t)
	h := newHarness(t, test.NewTempApp(t), o.URL())
	model := o.Model() + ":latest"
	h.q.waitFor(t, "the tiny model in the list", func() bool { return h.app.modelInfo[model].Name != "" })
	h.app.prompt.SetText("one")
	h.setPanes(model)
	h.runAndWait() // loads the model
	v := h.sweepAndWait(model, "1,2,4", "2500")
	p := v.points
	if len(p) != 3 || p[1].Queued != 1 || p[2].Queued != 3 || v.result.Regime() != figures.RegimeQueued {
		t.Errorf("points %+v, regime %q", p, v.result.Regime())
	}
	if !strings.Contains(v.sentences.Text, "one request at a time") {
		t.Errorf("sentences %q", v.sentences.Text)
	}
}
