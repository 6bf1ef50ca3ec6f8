package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestPaneOptionsSummedUp: a pane's options start closed even when set, and
// while the pane is idle its status line names what is set, or the option
// that is not a number.
func TestPaneOptionsSummedUp(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	rate, maxTok := 3.0, 1
	h.app.addPane(PaneConfig{Model: "demo/echo", Rate: &rate, MaxTokens: &maxTok})
	p := h.app.panes[len(h.app.panes)-1]
	if p.options.Visible() {
		t.Error("options open at start")
	}
	if got, want := p.statusText(), "ready · at most 1 token · pace 3 tokens/s"; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	p.temp.SetText("warm")
	if got, want := p.statusText(), `ready · temperature "warm" is not a number`; got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	p.temp.SetText("")
	p.rate.SetText("")
	p.maxTok.SetText("")
	if p.statusText() != "ready" {
		t.Errorf("status %q with no options", p.statusText())
	}
}
