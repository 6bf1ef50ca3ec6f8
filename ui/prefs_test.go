package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"github.com/tokenloom/tokenloom/internal/base/wire"
)

// TestSettingsPersist: panes, options and mode come back in a new window of
// the same app.
func TestSettingsPersist(t *testing.T) {
	fa := test.NewTempApp(t)
	h := newHarness(t, fa, "")
	h.setPanes("demo/hamlet", "demo/echo", "demo/flood")
	h.app.panes[2].maxTok.SetText("42")
	h.app.mode.SetSelected("Sync")
	h.app.save()

	h2 := newHarness(t, fa, "")
	var models []string
	for _, p := range h2.app.panes {
		models = append(models, p.model.Selected)
	}
	if strings.Join(models, ",") != "demo/hamlet,demo/echo,demo/flood" || h2.app.panes[2].maxTok.Text != "42" || h2.app.selectedMode() != wire.ModeSync {
		t.Errorf("restored panes %v, max tokens %q, mode %s", models, h2.app.panes[2].maxTok.Text, h2.app.selectedMode())
	}
	if h2.app.panes[2].slot != 2 {
		t.Errorf("third pane in slot %d", h2.app.panes[2].slot)
	}
}
