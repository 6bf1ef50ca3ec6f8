package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/testkit/ollamatest"
	"github.com/tokenloom/tokenloom/internal/testkit/testmodel"
)

// TestOllamaThinkingPane: a real Ollama (the version the tests are written
// against) serving the thinking variant of the tiny model: the pane offers
// the think option (from Ollama's capabilities), and with it on shows the
// exact reasoning above the exact answer, folded once the answer began.
func TestOllamaThinkingPane(t *testing.T) {
	o := ollamatest.Start(t)
	thinker := o.CreateThinker() + ":latest"
	h := newHarness(t, test.NewTempApp(t), o.URL())
	h.q.waitFor(t, "the thinker in the model list", func() bool {
		return slices.Contains(h.app.models, thinker)
	})
	h.setPanes(thinker)
	p := h.app.panes[0]
	if !p.thinkRow.Visible() {
		t.Fatalf("no think option for %s", thinker)
	}
	p.think.SetSelected("on")
	h.app.prompt.SetText(testmodel.ThinkingPrompt)
	h.runAndWait()
	if got := p.thought.view.Text(); got != testmodel.ThinkingText {
		t.Errorf("reasoning %q, want %q", got, testmodel.ThinkingText)
	}
	if got := p.view.Text(); got != testmodel.ThinkingAnswer {
		t.Errorf("answer %q, want %q", got, testmodel.ThinkingAnswer)
	}
	if p.thought.line.Open() || p.thought.line.Text() == "" {
		t.Errorf("reasoning open %v, line %q: want folded", p.thought.line.Open(), p.thought.line.Text())
	}
}
