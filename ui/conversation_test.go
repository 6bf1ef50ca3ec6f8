package ui

import (
	"image/color"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// TestFollowUps holds a conversation with four panes: after a run, Run
// sends a follow-up in which each pane carries its own conversation (its
// answers, not the others'), in the mode chosen for the turn; the panes
// show the turns with their figures. A pane whose model changed, or whose
// stream failed before answering, goes on without the lost turn; New
// conversation starts over.
func TestFollowUps(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	two, fast := 2, 0.0
	h.setPanes("demo/echo", "demo/hello")
	h.app.panes[0].rate.SetText("0")
	h.app.addPane(PaneConfig{Model: "demo/echo", MaxTokens: &two, Rate: &fast})
	h.app.addPane(PaneConfig{Model: "nowhere-model"}) // Ollama is nowhere: it fails
	transcript := func() *wire.Transcript {
		t.Helper()
		tr, err := h.app.opts.Client.Run(t.Context(), h.app.runID)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	histories := func(tr *wire.Transcript) [][]wire.Turn {
		var out [][]wire.Turn
		for _, st := range tr.Streams {
			out = append(out, st.History)
		}
		return out
	}
	if h.app.runBtn.Text != "Run" || !h.app.newBtn.Disabled() {
		t.Fatalf("before a run: button %q, New conversation enabled", h.app.runBtn.Text)
	}

	h.app.prompt.SetText("alpha beta gamma")
	h.runAndWait()
	first := transcript()
	answers := []string{"alpha beta gamma", "Hello world", "alpha beta", ""}
	for i, p := range h.app.panes {
		if first.Streams[i].Text != answers[i] || first.Streams[i].History != nil {
			t.Fatalf("first turn, stream %d: %q with history %q", i, first.Streams[i].Text, first.Streams[i].History)
		}
		if strings.Contains(p.view.Text(), "›") {
			t.Errorf("pane %d shows the user's line of a first turn: %q", i+1, p.view.Text())
		}
	}
	if h.app.runBtn.Text != "Run again" || h.app.newBtn.Disabled() || !strings.Contains(h.app.prompt.PlaceHolder, "Follow-up") {
		t.Errorf("after a run: button %q, New conversation disabled %v, hint %q", h.app.runBtn.Text, h.app.newBtn.Disabled(), h.app.prompt.PlaceHolder)
	}

	// The second turn, one stream after another.
	h.app.mode.SetSelected(syncLabel)
	h.app.prompt.SetText("delta epsilon")
	if h.app.runBtn.Text != "Follow up" {
		t.Errorf("with a new prompt the button says %q", h.app.runBtn.Text)
	}
	h.runAndWait()
	second := transcript()
	turn1 := func(i int) []wire.Turn { return []wire.Turn{{Prompt: "alpha beta gamma", Answer: answers[i]}} }
	want := [][]wire.Turn{turn1(0), turn1(1), turn1(2), nil}
	if got := histories(second); second.Mode != wire.ModeSync || !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("second turn: %s run with histories %q; want sync with %q", second.Mode, got, want)
	}
	p := h.app.panes[0]
	view := p.view.Text()
	if !strings.HasPrefix(view, "› alpha beta gamma\nalpha beta gamma\nturn 1 · 0.") || !strings.HasSuffix(view, "\n\n› delta epsilon\ndelta epsilon") {
		t.Errorf("pane 1 shows %q; want both turns, each with its line and the first with its figures", view)
	}
	if !strings.HasPrefix(p.status.Text, "turn 2 · finished") {
		t.Errorf("pane 1's status %q", p.status.Text)
	}
	v := h.app.fyneApp.Settings().ThemeVariant()
	fg := h.app.fyneApp.Settings().Theme().Color(theme.ColorNameForeground, v)
	if cs := textColors(h.app.Window(), "› delta epsilon"); len(cs) == 0 || cs[0] != fg {
		t.Errorf("the user's line in %v, want the text's colour %v", cs, fg)
	}
	if cs := textColors(h.app.Window(), "delta epsilon"); !slices.ContainsFunc(cs, func(c color.Color) bool { return c == widgets.SlotColor(0, v) }) {
		t.Errorf("the answer in %v, want the slot's colour %v", cs, widgets.SlotColor(0, v))
	}
	// Copy takes the turn's answer, not the conversation.
	test.Tap(p.copyBtn)
	if got := h.app.fyneApp.Clipboard().Content(); got != "delta epsilon" {
		t.Errorf("copied %q", got)
	}

	// The same prompt again runs the turn again, in place of its answers.
	if h.app.runBtn.Text != "Run again" {
		t.Errorf("with the last prompt in the box the button says %q", h.app.runBtn.Text)
	}
	h.runAndWait()
	if got := histories(transcript()); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("the second turn again: histories %q; want %q", got, want)
	}
	if n := strings.Count(p.view.Text(), "› "); n != 2 || len(p.turns) != 2 {
		t.Errorf("after the second turn again, pane 1 has %d turns and shows %d: %q", len(p.turns), n, p.view.Text())
	}
	h.app.prompt.SetText("zeta")
	if h.app.runBtn.Text != "Follow up" {
		t.Errorf("with a new prompt in the box the button says %q", h.app.runBtn.Text)
	}

	// Pane 2 changes model: its conversation starts over; the others go on.
	h.app.panes[1].model.SetSelected("demo/hamlet")
	h.app.mode.SetSelected(asyncLabel)
	h.runAndWait()
	third := transcript()
	turn2 := func(i int) []wire.Turn {
		return append(turn1(i), wire.Turn{Prompt: "delta epsilon", Answer: second.Streams[i].Text})
	}
	want = [][]wire.Turn{turn2(0), nil, turn2(2), nil}
	if got := histories(third); third.Mode != wire.ModeAsync || !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("third turn: %s run with histories %q; want async with %q", third.Mode, got, want)
	}

	// New conversation (Ctrl+N): the next run asks afresh. The prompt has
	// the focus, and Fyne hands a focused entry the shortcuts typed.
	if f := h.app.Window().Canvas().Focused(); f != h.app.prompt {
		t.Errorf("after a run the focus is on %T, want the prompt", f)
	}
	h.app.prompt.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault})
	if h.app.inConversation() || h.app.runBtn.Text != "Run" || !h.app.newBtn.Disabled() || h.app.panes[0].view.Text() != "" {
		t.Errorf("after New conversation: in one %v, button %q, pane 1 %q", h.app.inConversation(), h.app.runBtn.Text, h.app.panes[0].view.Text())
	}
	h.app.prompt.SetText("eta theta")
	h.runAndWait()
	if got := histories(transcript()); slices.ContainsFunc(got, func(h []wire.Turn) bool { return h != nil }) {
		t.Errorf("after New conversation: histories %q", got)
	}
}

// TestConversationFromHistory opens a follow-up kept in the history: the
// panes show its turns, and a follow-up goes on from where it ended.
func TestConversationFromHistory(t *testing.T) {
	store := tempHistory(t)
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{History: store})
	h.setPanes("demo/echo", "demo/hello")
	h.app.panes[0].rate.SetText("0")
	h.app.prompt.SetText("alpha beta")
	h.runAndWait()
	h.app.prompt.SetText("gamma")
	h.runAndWait()
	kept := h.app.runID
	v := h.app.views.history
	v.refresh()
	h.q.waitFor(t, "both runs in the history", func() bool {
		return len(v.runs) == 2 && v.runs[0].ID == kept && v.runs[0].State == history.StateFinished
	})
	tr, err := store.Get(t.Context(), kept)
	if err != nil {
		t.Fatal(err)
	}

	h.app.newConversation()
	h.setPanes("demo/hamlet")
	h.app.prompt.SetText("something else")
	v.list.Select(0)
	v.withPicked(v.open)
	h.q.waitFor(t, "the run opened", func() bool { return h.app.prompt.Text == "gamma" })
	if got := h.app.panes[1].view.Text(); !strings.HasPrefix(got, "› alpha beta\nHello world\nturn 1\n\n› gamma\nHello world") {
		t.Errorf("pane 2 shows %q", got)
	}
	if h.app.runBtn.Text != "Run again" || len(h.app.panes[0].turns) != 2 {
		t.Errorf("opened: button %q, pane 1 with %d turns", h.app.runBtn.Text, len(h.app.panes[0].turns))
	}
	h.app.prompt.SetText("delta")
	h.runAndWait()
	next, err := h.app.opts.Client.Run(t.Context(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range next.Streams {
		if want := tr.Conversation(i); len(want) != 2 || !slices.Equal(st.History, want) {
			t.Errorf("stream %d went on from %q, want %q", i, st.History, want)
		}
	}
}
