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
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
	"github.com/tokenloom/tokenloom/internal/services/export"
)

// save saves f to path as the app does once its dialog has the path, and
// returns what the app says then.
func (h *harness) save(f fileSave, path string) string {
	h.app.notice.SetText("")
	h.app.saveTo(f, path)
	h.q.waitFor(h.t, "the save", func() bool { return h.app.notice.Text != "" })
	return h.app.notice.Text
}

// lastRun is the server's transcript of the app's last run.
func (h *harness) lastRun() *wire.Transcript {
	h.t.Helper()
	t, err := h.app.client().Run(context.Background(), h.app.runID)
	if err != nil {
		h.t.Fatal(err)
	}
	return t
}

// firstTokenMs is the time of the first token of stream i of tr.
func firstTokenMs(t *testing.T, tr *wire.Transcript, i int) float64 {
	t.Helper()
	evs, err := wire.CheckTranscript(tr)
	if err != nil {
		t.Fatal(err)
	}
	for k, e := range tr.Streams[i].Events {
		if e.Event == wire.EventToken {
			return evs[i][k].TMs
		}
	}
	t.Fatalf("stream %d of run %s has no token", i, tr.ID)
	return 0
}

// TestSaveFails: a save that fails says so, what and where, in the colour
// of danger, whatever is saved; one that works says where it went.
func TestSaveFails(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo")
	h.app.prompt.SetText("keep")
	h.runAndWait()
	tr := h.lastRun()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	picture := pictureFile(diagram.OfRun(tr, []int{0}), "x.svg", "timeline", 640, 360)
	for _, tt := range []struct {
		name string
		f    fileSave
		path string
		want string
	}{
		{"the last run", h.app.lastRunFile(false), filepath.Join(missing, "run.json"), "Could not save the run to " + filepath.Join(missing, "run.json") + ": "},
		{"a kept run", runFile(tr, tr.ID, "run", ".md"), filepath.Join(missing, "run.md"), "Could not save the run to " + filepath.Join(missing, "run.md") + ": "},
		{"a run gone from the server", runFile(nil, "r_gone", "run", ".json"), filepath.Join(dir, "gone.json"), "Could not save the run to " + filepath.Join(dir, "gone.json") + ": "},
		{"a picture", picture, filepath.Join(missing, "x.svg"), "Could not save the timeline to " + filepath.Join(missing, "x.svg") + ": "},
		{"a picture of no known kind", picture, filepath.Join(dir, "x.gif"), "Could not save the timeline to " + filepath.Join(dir, "x.gif") + ": "},
	} {
		said := h.save(tt.f, tt.path)
		if !strings.HasPrefix(said, tt.want) || h.app.notice.Importance != widget.DangerImportance || !h.app.notice.Visible() {
			t.Errorf("%s: the app says %q (importance %v); want %q, in danger's colour", tt.name, said, h.app.notice.Importance, tt.want)
		}
		if httpStatus.MatchString(said) {
			t.Errorf("%s: %q shows an HTTP status", tt.name, said)
		}
	}
	if said := h.save(picture, filepath.Join(dir, "x.svg")); said != "Saved the timeline as a 640×360 picture: "+filepath.Join(dir, "x.svg") ||
		h.app.notice.Importance == widget.DangerImportance {
		t.Errorf("a picture saved: %q (importance %v)", said, h.app.notice.Importance)
	}
}

// TestTakeRun: a saved run opens in the panes (a file's replay, the
// history's Open and Replay) only when no run goes on and its streams fit
// the panes; otherwise the app says why, and the panes stay as they are.
func TestTakeRun(t *testing.T) {
	h := newHarness(t, test.NewTempApp(t), "")
	h.setPanes("demo/echo", "demo/hello")
	h.app.prompt.SetText("saved")
	h.runAndWait()
	tr := h.lastRun()
	tooMany := *tr
	for len(tooMany.Streams) <= MaxPanes {
		tooMany.Streams = append(tooMany.Streams, tr.Streams...)
	}
	none := *tr
	none.Streams = nil
	h.setPanes("demo/hamlet")
	for _, tt := range []struct {
		name string
		t    *wire.Transcript
		want string
	}{
		{"too many streams", &tooMany, fmt.Sprintf("A saved run opens with 1 to %d streams; this one has %d.", MaxPanes, len(tooMany.Streams))},
		{"no stream", &none, fmt.Sprintf("A saved run opens with 1 to %d streams; this one has 0.", MaxPanes)},
	} {
		if h.app.takeRun(tt.t) || h.app.notice.Text != tt.want || len(h.app.panes) != 1 {
			t.Errorf("%s: the app says %q with %d panes; want %q and the pane as it was", tt.name, h.app.notice.Text, len(h.app.panes), tt.want)
		}
	}
	test.Tap(h.app.runBtn)
	if h.app.takeRun(tr) || h.app.notice.Text != "A run is going on: stop it first, then open the saved run." || h.app.panes[0].model.Selected != "demo/hamlet" {
		t.Errorf("while a run goes on: the app says %q, the pane shows %q", h.app.notice.Text, h.app.panes[0].model.Selected)
	}
	h.q.waitFor(t, "the run to end", func() bool { return !h.app.running })
	if !h.app.takeRun(tr) || len(h.app.panes) != 2 || h.app.panes[1].model.Selected != "demo/hello" || h.app.prompt.Text != "saved" {
		t.Errorf("the run did not open: %d panes, prompt %q", len(h.app.panes), h.app.prompt.Text)
	}
}

// TestExportThenOpen saves the run, opens it again and replays it at 4×
// on a fake clock: the saved run equals the server's, the replay shows the
// same texts and the recorded figures, and plays in a quarter of the
// recorded time.
func TestExportThenOpen(t *testing.T) {
	h := newHarnessWith(t, test.NewTempApp(t), "", Options{})
	h.setPanes("demo/hamlet")
	rate, seed := 40.0, int64(7)
	h.app.addPane(PaneConfig{Model: "demo/echo", Rate: &rate, Seed: &seed})
	h.app.prompt.SetText("save this run")
	h.runAndWait()
	want := h.lastRun()
	dir := t.TempDir()
	for name, want := range map[string]string{
		"run.json": "Saved the run as JSON (Open replays it): ",
		"run.md":   "Saved the run as a Markdown report: ",
		"run.txt":  "Could not save the run to " + filepath.Join(dir, "run.txt") + ": cannot tell the format",
	} {
		if said := h.save(h.app.lastRunFile(false), filepath.Join(dir, name)); !strings.HasPrefix(said, want) {
			t.Errorf("export to %s: the app says %q, want %q", name, said, want)
		}
	}
	opened, err := export.Load(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(opened, want) {
		t.Fatalf("opened run differs from the server's transcript")
	}
	h.app.replay(opened, 4)
	h.q.waitFor(t, "the replay to end", func() bool { return !h.app.running && h.app.runID != want.ID })
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
	// Hamlet's first token came at 3/13 s, of its 13 over 3 s, in the
	// server's whole microseconds.
	hamletFirst := float64((3 * time.Second / 13).Microseconds()) / 1000
	s := h.app.views.stats
	h.q.waitFor(t, "the figures", func() bool { return s.figures[0] != nil && s.figures[1] != nil })
	if got, rec := s.figures[0].TTFTMs, want.Streams[0].Stats.TTFTMs; got != rec || rec != hamletFirst {
		t.Errorf("hamlet's TTFT in the stats %v, recorded %v; want %v", got, rec, hamletFirst)
	}
	if got, rec := h.app.panes[0].figuresLine(), fmt.Sprintf("TTFT %.0f ms", want.Streams[0].Stats.TTFTMs); !strings.HasPrefix(got, rec) {
		t.Errorf("hamlet's pane %q, recorded %q", got, rec)
	}
	// The timeline puts the replay's events back on the recorded clock:
	// the replay's time (in whole microseconds) times 4.
	rep := h.lastRun()
	if got, rec, played := h.app.views.timeline.Lane(0).Ticks[0], firstTokenMs(t, want, 0), firstTokenMs(t, rep, 0); got != 4*played || math.Abs(got-rec) > 0.004 || rec != hamletFirst {
		t.Errorf("hamlet's first tick at %v ms, replayed at %v ms, recorded at %v ms; want 4× the replayed, the recorded %v to 4 µs", got, played, rec, hamletFirst)
	}
	if got := savedWords("/x/run.md"); got != "Saved the run as a Markdown report: /x/run.md" {
		t.Errorf("saved %q", got)
	}
	// Hamlet takes 3 s, the run too; at 4× the replay takes a quarter of
	// that on the server's clock. The gaps between the events are checked
	// in the server's tests.
	if rep.ReplayOf != want.ID || rep.Speed != 4 || want.WallMs != 3000 || rep.WallMs != 750 {
		t.Errorf("replay of %q at %v×: %v ms for a run of %v ms; want 750 for 3000", rep.ReplayOf, rep.Speed, rep.WallMs, want.WallMs)
	}
}
