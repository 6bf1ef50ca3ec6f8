package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// TestDiffTab sets two answers against each other word by word: two panes
// of the run, then a pane against a run kept in the history. Words in both
// are in the text's colour, the others in their side's.
func TestDiffTab(t *testing.T) {
	store := tempHistory(t)
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{History: store})
	two, fast := 2, 0.0
	h.setPanes("demo/echo")
	h.app.panes[0].rate.SetText("0")
	h.app.addPane(PaneConfig{Model: "demo/echo", MaxTokens: &two, Rate: &fast})
	h.app.prompt.SetText("alpha beta gamma delta")
	h.runAndWait()
	h.app.prompt.SetText("alpha beta epsilon")
	h.runAndWait()

	v := h.app.views.diff
	h.app.system.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key7, Modifier: fyne.KeyModifierAlt}) // from a focused entry
	if h.app.tabs.Selected().Text != "Diff" {
		t.Fatalf("tab 7 is %q", h.app.tabs.Selected().Text)
	}
	h.q.waitFor(t, "the history's runs offered", func() bool { return len(v.b.Options) > 4 })
	v.a.SetSelected("1 demo/echo · turn 2")
	v.b.SetSelected("2 demo/echo · turn 2")
	h.q.waitFor(t, "the diff of the two panes", func() bool { return strings.HasPrefix(v.summary.Text, "2 words the same · 1 only in 1") })
	if want := "2 words the same · 1 only in 1 · 0 only in 2 · 80% alike"; !strings.HasPrefix(v.summary.Text, want) {
		t.Errorf("summary %q, want %q", v.summary.Text, want)
	}
	spans := v.view.Spans()
	if len(spans) != 2 || !spans[0].User || strings.TrimSpace(spans[0].Text) != "alpha beta" || spans[1].User || spans[1].Slot != 0 || strings.TrimSpace(spans[1].Text) != "epsilon" {
		t.Errorf("spans %+v: want the words in both in the text's colour, then pane 1's own in its colour", spans)
	}
	if !strings.Contains(v.legendA.Text, "1 demo/echo · turn 2") || !strings.Contains(v.legendB.Text, "2 demo/echo · turn 2") {
		t.Errorf("legend %q, %q", v.legendA.Text, v.legendB.Text)
	}

	// Against the first turn of pane 1, and then against a run of the
	// history (the first run's stream 1, the newest but one).
	v.b.SetSelected("1 demo/echo · turn 1")
	h.q.waitFor(t, "the diff of two turns", func() bool {
		return strings.HasPrefix(v.summary.Text, "2 words the same · 1 only in 1 · 2 only in 2")
	})
	spans = v.view.Spans()
	if n := len(spans); n != 4 || spans[1].Slot != 0 || strings.TrimSpace(spans[1].Text) != "epsilon" || spans[2].Text != replacedBy || !spans[2].Dim ||
		spans[3].Slot != 1 || strings.TrimSpace(spans[3].Text) != "gamma delta" {
		t.Errorf("spans %+v: want the first side's words, an arrow, then the other side's in the next colour when both sides share one", spans)
	}
	var kept string
	for _, o := range v.b.Options {
		if strings.HasPrefix(o, "1 demo/echo · ") && strings.HasSuffix(o, `"alpha beta gamma delta"`) {
			kept = o
		}
	}
	if kept == "" {
		t.Fatalf("no run of the history offered: %q", v.b.Options)
	}
	v.b.SetSelected(kept)
	h.q.waitFor(t, "the diff with the history's run", func() bool {
		return strings.HasPrefix(v.summary.Text, "2 words the same · 1 only in 1 · 2 only in 2")
	})
}
