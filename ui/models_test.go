package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestOllamaDownBanner(t *testing.T) {
	url := closedURL(t)
	h := newHarness(t, test.NewTempApp(t), url)
	if !h.app.banner.Visible() || !strings.Contains(h.app.bannerMsg.Text, "Ollama is not reachable at "+url) || !strings.Contains(h.app.bannerMsg.Text, "ollama serve") {
		t.Errorf("banner visible %v: %q", h.app.banner.Visible(), h.app.bannerMsg.Text)
	}
	for _, p := range h.app.panes {
		if !strings.HasPrefix(p.model.Selected, "demo/") {
			t.Errorf("pane model %q without Ollama", p.model.Selected)
		}
	}
}
