package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/testkit/uitest"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

var ev = uitest.Event

// TestThoughtFoldsOnAnswer feeds a pane a thinking stream batch by batch,
// as the pump does: while it thinks the reasoning shows, live and open, in
// the slot's subdued colour over the whole text area, its line counting
// its tokens (the time is the status line's alone, so that the two never
// disagree); when the answer begins it folds to one line that says how
// long it thought; a tap and the keyboard unfold and fold it again.
func TestThoughtFoldsOnAnswer(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	p := h.app.panes[0]
	th := p.thought
	p.begin("s_test", "demo/think", "Why?")
	if th.line.Visible() || th.view.Visible() {
		t.Fatal("a stream that has not thought shows a reasoning")
	}
	p.apply([]client.Event{
		ev(wire.EventPhase, 0, 0.5, wire.PhaseThinking),
		ev(wire.EventThinking, 1, 100, "The user"),
		ev(wire.EventThinking, 2, 300, " says hi."+strings.Repeat("\nmore thought", 40)),
	}, false)
	if got, want := th.line.Text(), "Thinking… 2 tokens"; got != want {
		t.Errorf("line %q while thinking, want %q", got, want)
	}
	if !th.line.Open() || !th.view.Visible() || !strings.HasPrefix(th.view.Text(), "The user says hi.\nmore thought") {
		t.Errorf("reasoning while thinking: open %v, visible %v, text %q", th.line.Open(), th.view.Visible(), th.view.Text())
	}
	if th.view.Size().Height < p.view.Size().Height || th.view.Size().Height == 0 {
		t.Errorf("while thinking the reasoning is %v high, the empty answer %v", th.view.Size().Height, p.view.Size().Height)
	}
	if !th.view.Following() || th.view.ScrollOffset() == 0 {
		t.Errorf("the live reasoning does not follow its end (scrolled %v)", th.view.ScrollOffset())
	}
	if s := p.statusText(); !strings.HasPrefix(s, "thinking… · ") || !strings.HasSuffix(s, "2 thinking tokens") {
		t.Errorf("status %q while thinking", s)
	}
	variant := h.app.fyneApp.Settings().ThemeVariant()
	if c := uitest.TextColors(p.root, "more thought"); len(c) == 0 || slices.ContainsFunc(c, func(c color.Color) bool { return c != widgets.SlotDimColor(p.slot, variant) }) {
		t.Errorf("reasoning drawn in %v, want the subdued %v", c, widgets.SlotDimColor(p.slot, variant))
	}

	p.apply([]client.Event{
		ev(wire.EventPhase, 3, 1500, wire.PhaseGenerating),
		ev(wire.EventToken, 4, 1500, "Hi"),
		ev(wire.EventToken, 5, 1600, "!"),
	}, false)
	if got, want := th.line.Text(), "Thought for 1.4 s · 2 tokens"; got != want {
		t.Errorf("line %q once answering, want %q", got, want)
	}
	if th.line.Open() || th.view.Visible() || !th.line.Visible() {
		t.Errorf("not folded once answering: open %v, reasoning visible %v", th.line.Open(), th.view.Visible())
	}
	if len(uitest.TextColors(p.root, "more thought")) != 0 {
		t.Error("the folded reasoning is still drawn")
	}
	if c := uitest.TextColors(p.root, "Hi!"); len(c) != 1 || c[0] != widgets.SlotColor(p.slot, variant) {
		t.Errorf("answer drawn in %v, want %v", c, widgets.SlotColor(p.slot, variant))
	}

	test.Tap(th.line)
	if !th.line.Open() || !th.view.Visible() || !th.sep.Visible() {
		t.Fatalf("a tap did not unfold: open %v, visible %v", th.line.Open(), th.view.Visible())
	}
	if th.view.ScrollOffset() != 0 {
		t.Errorf("the unfolded reasoning shows from %v, not from its start", th.view.ScrollOffset())
	}
	r, a := th.view, p.view
	if r.Size().Height <= 0 || a.Size().Height <= 0 || r.Position().Y+r.Size().Height > a.Position().Y {
		t.Errorf("unfolded reasoning at %v %v, answer at %v %v: want both, the reasoning above", r.Position(), r.Size(), a.Position(), a.Size())
	}
	if len(uitest.TextColors(p.root, "The user")) != 1 || len(uitest.TextColors(p.root, "Hi!")) != 1 {
		t.Error("unfolded, the reasoning and the answer are not both drawn")
	}

	// The keyboard: Space folds, Return unfolds.
	h.app.Window().Canvas().Focus(th.line)
	test.Type(th.line, " ")
	if th.line.Open() {
		t.Error("Space did not fold")
	}
	th.line.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !th.line.Open() {
		t.Error("Return did not unfold")
	}

	// At the end the line says the same, as the server's figures do.
	p.apply([]client.Event{{Type: wire.EventDone, Seq: 6, TMs: 1700, Reason: wire.ReasonStop,
		Stats: &wire.Stats{Tokens: 2, ThinkingTokens: 2, ThinkingMs: 1400.25, DurationMs: 1700, TTFTMs: 1500}}}, true)
	if got, want := th.line.Text(), "Thought for 1.4 s · 2 tokens"; got != want {
		t.Errorf("line %q at the end, want %q", got, want)
	}
	if s := p.statusText(); !strings.HasSuffix(s, "2 tokens + 2 thinking") {
		t.Errorf("status %q at the end", s)
	}
	// A new stream starts without a reasoning.
	p.begin("s_next", "demo/think", "Why?")
	if th.line.Visible() || th.view.Visible() || th.view.Text() != "" {
		t.Error("the reasoning of the last stream stays")
	}
}

// TestThoughtAfterAnswer: a thinking token that comes once the answer has
// begun does not take the answer's place: the reasoning shows folded, the
// answer keeps its height, to the end.
func TestThoughtAfterAnswer(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	p := h.app.panes[0]
	th := p.thought
	p.begin("s_test", "demo/hello", "Hi")
	p.apply([]client.Event{ev(wire.EventPhase, 0, 0.5, wire.PhaseGenerating), ev(wire.EventToken, 1, 100, "Hello")}, false)
	answerH := p.view.Size().Height
	if answerH <= 0 || th.line.Visible() {
		t.Fatalf("answer %v high, reasoning line shown %v", answerH, th.line.Visible())
	}
	p.apply([]client.Event{ev(wire.EventThinking, 2, 200, "Hmm.")}, false)
	p.apply([]client.Event{{Type: wire.EventDone, Seq: 3, TMs: 300, Reason: wire.ReasonStop}}, true)
	if th.line.Open() || th.view.Visible() || !th.line.Visible() {
		t.Errorf("a late thought: open %v, reasoning visible %v, line visible %v; want folded", th.line.Open(), th.view.Visible(), th.line.Visible())
	}
	lineH := th.line.MinSize().Height + theme.Padding()
	if h := p.view.Size().Height; h < answerH-lineH-0.5 || h <= 0 {
		t.Errorf("the answer is %v high, was %v: it lost more than the fold line's %v", h, answerH, lineH)
	}
	if len(uitest.TextColors(p.root, "Hello")) != 1 {
		t.Error("the answer is not drawn")
	}
	if got, want := th.line.Text(), "Thought for 0.0 s · 1 token"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
}

// TestThoughtWithoutAnswer: a stream that ends while it thinks (here at
// its token limit) keeps its reasoning open, with how long it thought.
func TestThoughtWithoutAnswer(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	maxTok := 3
	h.setPanes(wire.DemoThink)
	h.app.panes[0].maxTok.SetText(fmtInt(&maxTok))
	h.runAndWait()
	p := h.app.panes[0]
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	st := tr.Streams[0]
	if p.reason != wire.ReasonLength || p.view.Text() != "" || st.Stats == nil {
		t.Fatalf("reason %q, answer %q: want a reasoning cut at 3 tokens", p.reason, p.view.Text())
	}
	th := p.thought
	if !th.line.Open() || !th.view.Visible() || th.view.Text() != st.Thinking || th.tokens != maxTok {
		t.Errorf("reasoning open %v, visible %v, %d tokens %q; the transcript's %q", th.line.Open(), th.view.Visible(), th.tokens, th.view.Text(), st.Thinking)
	}
	if want := figures.ThoughtFor(st.Stats.ThinkingMs, 3); th.line.Text() != want {
		t.Errorf("line %q, want %q", th.line.Text(), want)
	}
}

// TestDemoThinkRun runs demo/think beside demo/hello on the real server:
// the pane shows the reasoning the transcript holds, folded to the line
// the server's figures give once the answer is there; a tap unfolds it.
// The other views show it too: the interleaved text subdued, the timeline
// as a thinking phase with ticks of its own.
func TestDemoThinkRun(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes(wire.DemoThink, wire.DemoHello)
	think, hello := h.app.panes[0], h.app.panes[1]
	test.Tap(h.app.runBtn)
	// Whatever batches the machine's pace makes, each state the pane is
	// seen in is consistent: thinking (open, live) until the answer
	// begins, folded from then on.
	var bad []string
	h.q.waitFor(t, "the run to end", func() bool {
		th := think.thought
		switch {
		case think.state == paneRunning && th.tokens > 0 && think.tokens == 0:
			if !th.line.Open() || !th.view.Visible() || !strings.HasPrefix(th.line.Text(), "Thinking…") || !strings.HasPrefix(think.status.Text, "thinking…") {
				bad = append(bad, fmt.Sprintf("thinking: open %v, line %q, status %q", th.line.Open(), th.line.Text(), think.status.Text))
			}
		case think.tokens > 0:
			if th.line.Open() || !strings.HasPrefix(th.line.Text(), "Thought for") {
				bad = append(bad, fmt.Sprintf("answering: open %v, line %q", th.line.Open(), th.line.Text()))
			}
		}
		return !h.app.running && h.app.runID != ""
	})
	if len(bad) > 0 {
		t.Errorf("inconsistent states: %v", bad)
	}
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	st := tr.Streams[0]
	th := think.thought
	if st.Thinking == "" || th.view.Text() != st.Thinking || think.view.Text() != st.Text || st.Text != "Hello! How can I help?" {
		t.Fatalf("reasoning %q, answer %q; the transcript's %q, %q", th.view.Text(), think.view.Text(), st.Thinking, st.Text)
	}
	if want := figures.ThoughtFor(st.Stats.ThinkingMs, st.Stats.ThinkingTokens); th.line.Text() != want || th.line.Open() {
		t.Errorf("line %q (open %v), want %q folded", th.line.Text(), th.line.Open(), want)
	}
	if hello.thought.line.Visible() || hello.view.Text() != "Hello world" {
		t.Errorf("demo/hello shows a reasoning line, or answers %q", hello.view.Text())
	}
	reasoningWord := strings.Fields(st.Thinking)[2]
	if len(uitest.TextColors(think.root, reasoningWord)) != 0 {
		t.Errorf("the folded reasoning (%q) is drawn", reasoningWord)
	}
	test.Tap(th.line)
	variant := h.app.fyneApp.Settings().ThemeVariant()
	if c := uitest.TextColors(think.root, reasoningWord); len(c) == 0 || c[0] != widgets.SlotDimColor(think.slot, variant) {
		t.Errorf("unfolded reasoning %q drawn in %v, want %v", reasoningWord, c, widgets.SlotDimColor(think.slot, variant))
	}

	// The interleaved text: the reasoning subdued, the answer not.
	var reasoning, answer strings.Builder
	for _, sp := range h.app.views.interleaved.Spans() {
		if sp.Slot != think.slot {
			continue
		}
		if sp.Dim {
			reasoning.WriteString(sp.Text)
		} else {
			answer.WriteString(sp.Text)
		}
	}
	if reasoning.String() != st.Thinking || answer.String() != st.Text {
		t.Errorf("interleaved: subdued %q, plain %q", reasoning.String(), answer.String())
	}

	// The timeline: a thinking phase over the thinking tokens until the
	// answer, a tick per thinking token.
	lane := h.app.views.timeline.Lane(0)
	if n := len(lane.Thinks); n != st.Stats.ThinkingTokens {
		t.Errorf("%d thinking ticks for %d thinking tokens", n, st.Stats.ThinkingTokens)
	}
	var phases []string
	for _, p := range lane.Phases {
		phases = append(phases, p.Phase)
		if p.Phase == wire.PhaseThinking {
			ticks := lane.Thinks
			first, last, answered := ticks[0], ticks[len(ticks)-1], st.Stats.StartMs+st.Stats.TTFTMs
			if p.Start > first || p.End < last || p.End > answered+0.001 {
				t.Errorf("thinking phase %.3f–%.3f ms; thinking from %.3f to %.3f, answer at %.3f", p.Start, p.End, first, last, answered)
			}
		}
	}
	if got := strings.Join(phases, " "); got != "thinking generating" {
		t.Errorf("phases %q", got)
	}
}

// TestReplayShowsReasoning: a saved thinking run played back shows its
// reasoning in the pane, folded as in the run.
func TestReplayShowsReasoning(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes(wire.DemoThink)
	h.runAndWait()
	tr, err := h.app.client().Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	h.app.replay(tr, 16)
	h.q.waitFor(t, "the replay to end", func() bool { return !h.app.running && h.app.runID != tr.ID })
	p := h.app.panes[0]
	if p.thought.view.Text() != tr.Streams[0].Thinking || p.view.Text() != tr.Streams[0].Text || p.thought.line.Open() {
		t.Errorf("replayed reasoning %q (open %v), answer %q; saved %q, %q", p.thought.view.Text(), p.thought.line.Open(), p.view.Text(), tr.Streams[0].Thinking, tr.Streams[0].Text)
	}
}

// TestQueuedStatus: a queued stream's status line says why it waits, in
// as many words as fit the line.
func TestQueuedStatus(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes(wire.DemoThink, wire.DemoHello)
	p := h.app.panes[0]
	p.begin("s_test", "demo/think", "Why?")
	p.apply([]client.Event{ev(wire.EventPhase, 0, 0.3, wire.PhasePrompt), ev(wire.EventPhase, 1, 300, wire.PhaseQueued)}, false)
	if s := p.status.Text; !strings.HasPrefix(s, "queued in Ollama: demo/think is serving another stream · ") {
		t.Errorf("status %q at %v wide", s, p.status.Size().Width)
	}
	for _, w := range []float32{260, 150} {
		p.status.Resize(fyne.NewSize(w, p.status.Size().Height))
		p.updateStatus()
		s, _, _ := strings.Cut(p.status.Text, "\n")
		if !strings.HasPrefix(s, "queued") || strings.Contains(s, "demo/think") {
			t.Errorf("status %q at %v wide", s, w)
		}
		if tw := fyne.MeasureText(s, theme.Size(theme.SizeNameCaptionText), p.status.TextStyle).Width; w >= 200 && tw > w {
			t.Errorf("status %q (%v wide) does not fit %v", s, tw, w)
		}
	}
}

// TestQueuedStatusNamesItsModel: the queued status names the model the
// stream runs, not one picked in the pane after Run.
func TestQueuedStatusNamesItsModel(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes(wire.DemoHello)
	p := h.app.panes[0]
	test.Tap(h.app.runBtn)
	p.model.SetSelected(wire.DemoThink) // before the server has started the stream
	h.q.waitFor(t, "the stream to start", func() bool { return p.streamID != "" })
	p.apply([]client.Event{ev(wire.EventPhase, 0, 0.3, wire.PhaseQueued)}, false)
	if s := p.status.Text; !strings.HasPrefix(s, "queued in Ollama: demo/hello is serving another stream · ") {
		t.Errorf("status %q", s)
	}
	h.q.waitFor(t, "the run to end", func() bool { return !h.app.running })
}

// TestPhaseFromPhaseEvents: a pane's phase is what the phase events say;
// a thinking token does not set one (the sources send the thinking phase
// before it).
func TestPhaseFromPhaseEvents(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	p := h.app.panes[0]
	p.begin("s_test", "demo/think", "Why?")
	p.apply([]client.Event{ev(wire.EventPhase, 0, 0.3, wire.PhasePrompt), ev(wire.EventThinking, 1, 100, "Hmm")}, false)
	if p.phase != wire.PhasePrompt || !strings.HasPrefix(p.status.Text, "prompt · ") {
		t.Errorf("phase %q, status %q: want the prompt phase", p.phase, p.status.Text)
	}
	p.apply([]client.Event{ev(wire.EventPhase, 2, 150, wire.PhaseThinking), ev(wire.EventThinking, 3, 200, ".")}, false)
	if p.phase != wire.PhaseThinking || !strings.HasPrefix(p.status.Text, "thinking… · ") {
		t.Errorf("phase %q, status %q: want thinking", p.phase, p.status.Text)
	}
}
