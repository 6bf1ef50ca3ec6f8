package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestPaneLimitAndSlots(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	for range 10 {
		test.Tap(h.app.addBtn)
	}
	if len(h.app.panes) != MaxPanes || !h.app.addBtn.Disabled() {
		t.Fatalf("%d panes, add enabled %v", len(h.app.panes), !h.app.addBtn.Disabled())
	}
	test.Tap(h.app.panes[3].closeBtn)
	test.Tap(h.app.addBtn)
	if h.app.panes[len(h.app.panes)-1].slot != 3 {
		t.Errorf("new pane took slot %d, want the freed 3", h.app.panes[len(h.app.panes)-1].slot)
	}
	// Eight panes at 1000 px: narrower than their minimum, so they scroll.
	if min := h.app.panesBox.MinSize().Width; min <= 1000 {
		t.Errorf("panes' minimum width %v", min)
	}
}
