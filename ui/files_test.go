package ui

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/export"
)

// TestExportThenOpen saves the run, opens it again and replays it: the
// saved run equals the server's, the replay shows the same texts.
func TestExportThenOpen(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo", "demo/hamlet")
	h.app.prompt.SetText("save this run")
	h.runAndWait()
	want, err := h.app.client().Run(context.Background(), h.app.runID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"run.json", "run.md", "run.txt"} {
		var got error
		done := false
		h.app.exportTo(filepath.Join(dir, name), func(err error) { got, done = err, true })
		h.q.waitFor(t, "the export", func() bool { return done })
		if (got == nil) != (name != "run.txt") {
			t.Errorf("export to %s: %v", name, got)
		}
	}
	opened, err := export.Load(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(opened, want) {
		t.Fatalf("opened run differs from the server's transcript")
	}
	began := time.Now()
	h.app.replay(opened, 4)
	h.q.waitFor(t, "the replay to end", func() bool { return !h.app.running && h.app.runID != want.ID })
	took := time.Since(began)
	if h.app.panes[0].view.Text() != "save this run" || h.app.panes[1].view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("replayed texts %q, %q", h.app.panes[0].view.Text(), h.app.panes[1].view.Text())
	}
	// Hamlet takes 3 s; at 4× its replay cannot end before 0.75 s (timers
	// never fire early). The exact gaps are checked with a fake clock in
	// the server's tests.
	if took < 750*time.Millisecond {
		t.Errorf("replay at 4× took only %v", took)
	}
}
