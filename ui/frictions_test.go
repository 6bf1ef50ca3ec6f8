package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/ui/widgets"
)

// inView reports whether pane p is shown and within the row's visible part.
func (h *harness) inView(p *Pane) bool {
	s := h.app.panesLayout.scroll
	left := p.root.Position().X - s.Offset.X
	return p.root.Visible() && left >= -0.5 && left+p.root.Size().Width <= s.Size().Width+0.5
}

// TestClosingScrolledPanes: panes closed while the row is scrolled to its
// end leave no blank space behind, and every pane left is drawn and in
// view.
func TestClosingScrolledPanes(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.Window().Resize(fyne.NewSize(1100, 720))
	h.setPanes("demo/hello", "demo/hamlet", "demo/echo", "demo/hello", "demo/hamlet", "demo/echo")
	s := h.app.panesLayout.scroll
	s.ScrollToOffset(fyne.NewPos(h.app.panesBox.Size().Width, 0))
	s.OnScrolled(s.Offset)
	if s.Offset.X <= 0 || h.app.panes[0].root.Visible() {
		t.Fatalf("not scrolled to the end: offset %v", s.Offset.X)
	}
	for len(h.app.panes) > 3 {
		test.Tap(h.app.panes[len(h.app.panes)-1].closeBtn)
	}
	if s.Offset.X != 0 {
		t.Errorf("three panes fit, yet the row stays scrolled by %v", s.Offset.X)
	}
	for i, p := range h.app.panes {
		if !h.inView(p) {
			t.Errorf("pane %d hidden or out of view at x %v", i+1, p.root.Position().X-s.Offset.X)
		}
	}
}

// TestNewPaneInView: a pane added beyond the right edge is scrolled into
// view.
func TestNewPaneInView(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.app.Window().Resize(fyne.NewSize(1100, 720))
	h.setPanes("demo/hello", "demo/hamlet", "demo/echo")
	for range 3 {
		test.Tap(h.app.addBtn)
		if p := h.app.panes[len(h.app.panes)-1]; !h.inView(p) {
			t.Errorf("pane %d added out of view", len(h.app.panes))
		}
	}
}

// TestStreamsNamedByPane: three panes of one model are told apart by their
// numbers in the timeline and the stats; a closed pane's stream leaves the
// timeline, the stats and the interleaved text.
func TestStreamsNamedByPane(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hello", "demo/hamlet")
	h.app.prompt.SetText("hi")
	h.runAndWait()
	tl := h.app.views.timeline
	if got := laneLabels(tl); strings.Join(got, "|") != "1 demo/hello|2 demo/hello|3 demo/hamlet" {
		t.Fatalf("lanes %q", got)
	}
	if got := h.app.panes[1].badge; got == nil || paneNumber(got.slot) != "2" {
		t.Errorf("pane 2's badge: %v", got)
	}
	test.Tap(h.app.panes[2].closeBtn) // the hamlet pane
	if got := laneLabels(tl); strings.Join(got, "|") != "1 demo/hello|2 demo/hello" {
		t.Errorf("lanes after closing pane 3: %q", got)
	}
	if n := len(h.app.views.stats.labels); n != 2 {
		t.Errorf("%d stats rows after closing pane 3", n)
	}
	if text := h.app.views.interleaved.Text(); strings.Contains(text, "To be") || !strings.Contains(text, "Hello world") {
		t.Errorf("interleaved after closing pane 3: %q", text)
	}
}

func laneLabels(t *widgets.Timeline) []string {
	var out []string
	for i := range t.Lanes() {
		out = append(out, t.Lane(i).Label)
	}
	return out
}

// TestTabMovesFocus: Tab leaves the prompt and the system prompt (no tab
// characters typed into them), and moving the focus on reaches every
// control: the run's buttons, the mode, each pane's model and buttons.
func TestTabMovesFocus(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hamlet")
	h.app.prompt.SetText("hi")
	h.runAndWait() // Export and the panes' copy buttons are enabled now
	if h.app.prompt.AcceptsTab() || h.app.system.AcceptsTab() {
		t.Fatal("a prompt takes Tab as a character")
	}
	c := h.app.Window().Canvas()
	c.Focus(h.app.prompt)
	reached := map[fyne.Focusable]bool{}
	for range 200 {
		test.FocusNext(c)
		if f := c.Focused(); f != nil {
			reached[f] = true
		}
	}
	want := map[string]fyne.Focusable{"run": h.app.runBtn, "add": h.app.addBtn, "export": h.app.exportBtn}
	for i, p := range h.app.panes {
		n := paneNumber(p.slot)
		want["model "+n], want["options "+n], want["copy "+n], want["close "+n] = p.model, p.optsBtn, p.copyBtn, p.closeBtn
		if i == 0 {
			p.options.Show()
			want["temperature"] = p.temp
		}
	}
	// The options opened after the walk: walk again.
	for range 200 {
		test.FocusNext(c)
		if f := c.Focused(); f != nil {
			reached[f] = true
		}
	}
	for name, f := range want {
		if !reached[f] {
			t.Errorf("Tab never reaches %s", name)
		}
	}
	if !reached[h.app.prompt] {
		t.Error("Tab never comes back to the prompt")
	}
}

// TestIconButtonsSayWhatTheyDo: each icon-only button of a pane has a tip
// that shows while the pointer rests on it and goes when it leaves; the
// copy button shows that it copied.
func TestIconButtonsSayWhatTheyDo(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello")
	h.app.prompt.SetText("hi")
	h.runAndWait()
	p := h.app.panes[0]
	for _, b := range []*widgets.TipButton{p.optsBtn, p.stopBtn, p.copyBtn, p.closeBtn} {
		if b.Text != "" || b.Tip() == "" {
			t.Errorf("button %q has tip %q", b.Text, b.Tip())
		}
	}
	p.copyBtn.MouseIn(&desktop.MouseEvent{PointEvent: fyne.PointEvent{AbsolutePosition: fyne.NewPos(100, 100)}})
	h.q.waitFor(t, "the tip", func() bool { return h.app.tips.Tip() == p.copyBtn.Tip() })
	p.copyBtn.MouseOut()
	if tip := h.app.tips.Tip(); tip != "" {
		t.Errorf("tip %q stays after the pointer left", tip)
	}
	test.Tap(p.copyBtn)
	if got := h.app.fyneApp.Clipboard().Content(); got != "Hello world" {
		t.Errorf("copied %q", got)
	}
	if p.copyBtn.Icon != theme.ConfirmIcon() {
		t.Error("the copy button does not show that it copied")
	}
	h.q.waitFor(t, "the copy icon back", func() bool { return p.copyBtn.Icon == theme.ContentCopyIcon() })
	// The settings button says its name: it is not a pane's options.
	if h.findButton("Settings") == nil {
		t.Error("no Settings button with its name")
	}
}

// findButton is the window's button with text, nil if none.
func (h *harness) findButton(text string) *widget.Button {
	var found *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == text {
				found = x
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(h.app.Window().Content())
	return found
}

// TestOllamaURLPrecedence: a URL saved in Settings overrides OLLAMA_HOST, and
// the banner's hint says so instead of sending the user to OLLAMA_HOST.
func TestOllamaURLPrecedence(t *testing.T) {
	t.Setenv("OLLAMA_HOST", "127.0.0.1:1")
	fa := test.NewTempApp(t)
	h := newHarness(t, fa, "")
	serverHint := "start it with `ollama serve`, or point OLLAMA_HOST at a running Ollama"
	if got := h.app.ollamaHint(serverHint); got != serverHint {
		t.Errorf("hint without a saved URL: %q", got)
	}
	fa.Preferences().SetString(PrefOllamaURL, closedURL(t))
	if got := h.app.ollamaHint(serverHint); !strings.Contains(got, "Settings") || !strings.Contains(got, "instead of OLLAMA_HOST") {
		t.Errorf("hint with a saved URL: %q", got)
	}
	if note := h.app.settingsNote(); !strings.Contains(note, "127.0.0.1:1") || !strings.Contains(note, "instead of OLLAMA_HOST") {
		t.Errorf("settings note %q", note)
	}
	h.app.retry()
	h.q.waitFor(t, "the retry's word", func() bool { return h.app.notice.Visible() })
	if got := h.app.notice.Text; !strings.HasPrefix(got, "Ollama does not answer at http://127.0.0.1:") {
		t.Errorf("notice %q", got)
	}
	h.q.waitFor(t, "the banner to send the user to Settings", func() bool {
		return strings.Contains(h.app.bannerMsg.Text, "change the Ollama URL in Settings")
	})
}

// TestModelSwitchClears: a pane switched to another model shows none of
// the old model's text or figures.
func TestModelSwitchClears(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello")
	h.app.prompt.SetText("hi")
	h.runAndWait()
	p := h.app.panes[0]
	if p.view.Text() == "" {
		t.Fatal("no text after the run")
	}
	p.model.SetSelected("demo/hamlet")
	if p.view.Text() != "" || p.statusText() != "ready" || p.figuresLine() != "" {
		t.Errorf("after switching: text %q, status %q, figures %q", p.view.Text(), p.statusText(), p.figuresLine())
	}
}

// TestEndingWords: a stream says how it ended in plain words: finished, hit
// the limit asked for, stopped by the user.
func TestEndingWords(t *testing.T) {
	h := newHarnessOn(t, test.NewTempApp(t), startRealTime(t), Options{}) // stops a stream midway
	one, rate := 1, 20.0
	h.setPanes("demo/hello")
	h.app.addPane(PaneConfig{Model: "demo/echo", MaxTokens: &one})
	h.app.addPane(PaneConfig{Model: "demo/echo", Rate: &rate})
	h.app.prompt.SetText("one two three four five six seven eight nine ten eleven twelve")
	test.Tap(h.app.runBtn)
	slow := h.app.panes[2]
	h.q.waitFor(t, "the slow echo's first token", func() bool { return slow.tokens > 0 })
	test.Tap(slow.stopBtn)
	h.q.waitFor(t, "the run to end", func() bool { return !h.app.running })
	for i, want := range []string{"finished", "hit the 1-token limit", "stopped by you"} {
		if got := h.app.panes[i].status.Text; !strings.HasPrefix(got, want) {
			t.Errorf("pane %d: %q, want it to start %q", i+1, got, want)
		}
		if h.app.panes[i].errLabel.Visible() {
			t.Errorf("pane %d has a note: %q", i+1, h.app.panes[i].errLabel.Text)
		}
	}
	// A stream that stops at a length limit short of what was asked says
	// why: Ollama's context window.
	p := h.app.panes[1]
	p.reason, p.tokens, p.asked = wire.ReasonLength, 2560, 3000
	if got := p.endingWords(); got != "hit the context limit" {
		t.Errorf("short of the limit: %q", got)
	}
	if note := p.lengthNote(); !strings.Contains(note, "2560 of the 3000 tokens asked") || !strings.Contains(note, "num_ctx") {
		t.Errorf("note %q", note)
	}
}

// TestSyncFirstTokenAt: in a sync run a stream that waited for its turn
// shows when its first token came on the run's clock beside its TTFT.
func TestSyncFirstTokenAt(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hello", "demo/hamlet")
	h.app.selectMode(wire.ModeSync)
	h.app.prompt.SetText("hi")
	h.runAndWait()
	first, second := h.app.panes[0].figuresLine(), h.app.panes[1].figuresLine()
	if strings.Contains(first, "first token at") {
		t.Errorf("the first stream did not wait: %q", first)
	}
	// demo/hello takes 2 s; demo/hamlet's first token comes about 0.23 s
	// after its start.
	if !strings.Contains(second, "TTFT") || !strings.Contains(second, "first token at 2.") {
		t.Errorf("the second stream: %q", second)
	}
}

// TestToolbarWraps: in a narrow window the toolbar takes more rows, and
// every button stays inside the window.
func TestToolbarWraps(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	w := h.app.Window()
	w.Resize(fyne.NewSize(600, 400))
	size := w.Canvas().Size()
	if size.Width < minWindow.Width-1 || size.Height < minWindow.Height-1 {
		// The test driver takes any size; the content's floor is what a
		// real window keeps.
		if m := w.Content().MinSize(); m.Width < minWindow.Width || m.Height < minWindow.Height {
			t.Errorf("content's minimum %v below the floor %v", m, minWindow)
		}
	}
	for _, name := range []string{"Run", "Stop", "Stream", "Models", "Open", "Export", "Settings"} {
		b := h.findButton(name)
		if b == nil {
			t.Fatalf("no %s button", name)
		}
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
		if right := pos.X + b.Size().Width; right > size.Width+0.5 || b.Size().Width < b.MinSize().Width-0.5 {
			t.Errorf("%s ends at %v in a %v-wide window (width %v)", name, right, size.Width, b.Size().Width)
		}
	}
}
