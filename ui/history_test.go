package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/services/history"
)

// TestHistoryTab: the window keeps each run in the history as it streams;
// the History tab lists it, finds it by a word of its answer, opens it in
// the panes as it ended, and deletes it. A replay is not kept again.
func TestHistoryTab(t *testing.T) {
	store := tempHistory(t)
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{History: store})
	h.setPanes("demo/hello", "demo/hamlet")
	h.app.prompt.SetText("keep this")
	h.runAndWait()
	id := h.app.runID
	v := h.app.views.history
	h.q.waitFor(t, "the run in the history", func() bool {
		return len(v.runs) == 1 && v.runs[0].ID == id && v.runs[0].State == history.StateFinished
	})
	if line := runLine(v.runs[0]); !strings.Contains(line, "async · 3.") || !strings.Contains(line, "demo/hello, demo/hamlet · keep this") {
		t.Errorf("line %q", line)
	}

	v.search.SetText("question")
	v.search.OnSubmitted(v.search.Text)
	h.q.waitFor(t, "the search", func() bool { return len(v.runs) == 1 && v.runs[0].Snippet != "" })
	v.search.SetText("nowhere")
	v.search.OnSubmitted(v.search.Text)
	h.q.waitFor(t, "the empty search", func() bool { return len(v.runs) == 0 })
	v.search.SetText("")
	v.search.OnSubmitted("")
	h.q.waitFor(t, "the list", func() bool { return len(v.runs) == 1 })

	// Another set-up, then Open: the panes show the kept run as it ended.
	h.setPanes("demo/echo")
	h.app.prompt.SetText("something else")
	v.list.Select(0)
	v.withPicked(v.open)
	h.q.waitFor(t, "the run opened", func() bool { return h.app.prompt.Text == "keep this" })
	if len(h.app.panes) != 2 || h.app.runID != id || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." || h.app.prompt.Text != "keep this" {
		t.Fatalf("opened: %d panes, %q, prompt %q", len(h.app.panes), h.app.panes[len(h.app.panes)-1].view.Text(), h.app.prompt.Text)
	}
	if !strings.HasPrefix(h.app.panes[1].statusText(), "finished · 3.") {
		t.Errorf("hamlet's status %q", h.app.panes[1].statusText())
	}

	// A replay plays the run back, and is not kept as a run of its own.
	v.withPicked(v.replay)
	h.q.waitFor(t, "the replay to end", func() bool { return h.app.replaying != nil && !h.app.running && h.app.runID != id })
	v.refresh()
	h.q.waitFor(t, "the list after the replay", func() bool { return v.gen > 0 && len(v.runs) == 1 })

	v.list.Select(0)
	v.deleteRun(store, v.runs[v.picked].ID)
	h.q.waitFor(t, "the run deleted", func() bool { return len(v.runs) == 0 })
}

// TestHistoryCap: Settings takes the history's size cap in MiB within its
// range, gives it to the history and keeps it for the next start.
func TestHistoryCap(t *testing.T) {
	store := tempHistory(t)
	fa := test.NewTempApp(t)
	h := newHarnessWith(t, fa, "", Options{History: store})
	obj, save := h.app.historyEditor()
	entry := obj.(*widget.Form).Items[0].Widget.(*widget.Entry)
	if entry.Text != "512" {
		t.Errorf("the cap shows %q", entry.Text)
	}
	entry.SetText("5")
	if err := save(); err == nil || !strings.Contains(err.Error(), "from 16 to") {
		t.Errorf("a 5 MiB cap: %v", err)
	}
	entry.SetText("64")
	if err := save(); err != nil {
		t.Fatal(err)
	}
	h.q.waitFor(t, "the new cap", func() bool { return store.MaxBytes() == 64<<20 })
	if got := fa.Preferences().Int(prefHistoryMiB); got != 64 {
		t.Errorf("kept %d MiB", got)
	}
	// The next window gives the history the kept cap.
	store.SetMaxBytes(t.Context(), history.DefaultMaxBytes)
	h2 := newHarnessWith(t, fa, "", Options{History: store})
	h2.q.waitFor(t, "the kept cap", func() bool { return store.MaxBytes() == 64<<20 })
}
