package ui

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/services/export"
)

// TestExportThenOpen saves the run, opens it again and replays it: the
// saved run equals the server's, the replay shows the same texts.
func TestExportThenOpen(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/hamlet")
	rate, seed := 40.0, int64(7)
	h.app.addPane(PaneConfig{Model: "demo/echo", Rate: &rate, Seed: &seed})
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
	if h.app.panes[1].view.Text() != "save this run" || h.app.panes[0].view.Text() != "To be, or not to be, that is the question." {
		t.Errorf("replayed texts %q, %q", h.app.panes[0].view.Text(), h.app.panes[1].view.Text())
	}
	// The panes take the saved streams' options: Run runs the saved run.
	if cfg, err := h.app.panes[1].config(); err != nil || cfg.Rate == nil || *cfg.Rate != rate || cfg.Seed == nil || *cfg.Seed != seed {
		t.Errorf("replayed echo pane's options %+v, %v", cfg, err)
	}
	// The figures are the recorded ones, not the playback's at 4×, and
	// the replay says what it is.
	if got := h.app.runStatus.Text; !strings.HasPrefix(got, "Replay of a saved run at 4×, figures as recorded: async run: "+figures.RunTimeOf(figures.OutcomesOf(want)).Wall()) {
		t.Errorf("run status %q", got)
	}
	s := h.app.views.stats
	h.q.waitFor(t, "the figures", func() bool { return s.figures[0] != nil && s.figures[1] != nil })
	if got, rec := s.figures[0].TTFTMs, want.Streams[0].Stats.TTFTMs; math.Abs(got-rec) > 1 {
		t.Errorf("hamlet's TTFT in the stats %v, recorded %v", got, rec)
	}
	if got, rec := h.app.panes[0].figuresLine(), fmt.Sprintf("TTFT %.0f ms", want.Streams[0].Stats.TTFTMs); !strings.HasPrefix(got, rec) {
		t.Errorf("hamlet's pane %q, recorded %q", got, rec)
	}
	if got := h.app.views.timeline.Lane(0).Ticks[0]; got < 231 {
		t.Errorf("hamlet's first tick at %v ms, recorded after 231 ms", got)
	}
	if got := savedWords("/x/run.md"); got != "Saved the run as a Markdown report: /x/run.md" {
		t.Errorf("saved %q", got)
	}
	// Hamlet takes 3 s; at 4× its replay cannot end before 0.75 s (timers
	// never fire early). The exact gaps are checked with a fake clock in
	// the server's tests.
	if took < 750*time.Millisecond {
		t.Errorf("replay at 4× took only %v", took)
	}
}
