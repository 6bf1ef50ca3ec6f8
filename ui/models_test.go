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

// TestModelRefreshSavesNothing: neither the window's start nor a refresh
// of the model list saves the settings (each save serialises every pane
// and writes the preferences): a picker that keeps its model is no change.
// The refresh still offers the think option of a model that thinks.
func TestModelRefreshSavesNothing(t *testing.T) {
	fa := test.NewTempApp(t)
	// Not as save writes it, so that any save shows.
	saved := `[ {"model": "demo/think"}, {"model": "demo/echo"}, {"model": "demo/hamlet"} ]`
	fa.Preferences().SetString(prefPanes, saved)
	h := newHarness(t, fa, "")
	if got := fa.Preferences().String(prefPanes); got != saved {
		t.Errorf("the start saved the panes as %s", got)
	}
	saved = strings.ReplaceAll(saved, " ", "  ")
	fa.Preferences().SetString(prefPanes, saved)
	h.app.modelInfo = nil
	h.app.refresh(false)
	h.q.waitFor(t, "the model list again", func() bool { return h.app.modelInfo != nil })
	if got := fa.Preferences().String(prefPanes); got != saved {
		t.Errorf("the refresh saved the panes as %s", got)
	}
	var models []string
	for _, p := range h.app.panes {
		models = append(models, p.model.Selected)
	}
	if got := strings.Join(models, " "); got != "demo/think demo/echo demo/hamlet" {
		t.Errorf("models %q after the refresh", got)
	}
	if p := h.app.panes[0]; !p.thinkRow.Visible() || h.app.panes[1].thinkRow.Visible() {
		t.Errorf("think option shown for demo/think %v, for demo/echo %v", p.thinkRow.Visible(), h.app.panes[1].thinkRow.Visible())
	}
}
