package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/export"
)

// Replay speeds offered when opening a saved run.
var replaySpeeds = []string{"1×", "2×", "4×"}

// Export formats offered, by what each is for.
const (
	formatJSON     = "JSON: every event with its time; Open replays it"
	formatMarkdown = "Markdown: a report with the options, figures and texts"
)

// showExport asks for a format, then where to save the last run in it.
func (a *App) showExport() {
	format := widget.NewRadioGroup([]string{formatJSON, formatMarkdown}, nil)
	format.Required = true
	format.SetSelected(formatJSON)
	dialog.ShowCustomConfirm("Export the run", "Choose a file…", "Cancel", format, func(ok bool) {
		if ok {
			a.chooseExportFile(format.Selected == formatMarkdown)
		}
	}, a.win)
}

// chooseExportFile asks where to save the run, as Markdown or JSON; a name
// typed with the other extension takes that format, and the message says
// which one it was.
func (a *App) chooseExportFile(markdown bool) {
	a.askSave(a.lastRunFile(markdown))
}

// fileSave is something the app saves to a file the user picks.
type fileSave struct {
	// what is saved, for the app's words: "the run", "the timeline".
	what string
	// name is the file's name offered; exts are the extensions listed.
	name string
	exts []string
	// write writes it to path, off the Fyne thread.
	write func(ctx context.Context, cl *client.Client, path string) error
	// saved says, once it is saved, where it went and in which form.
	saved func(path string) string
}

// askSave asks where to save f, then saves it there (saveTo). When the
// dialog fails, the app says so; a dialog cancelled saves nothing.
func (a *App) askSave(f fileSave) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			a.sayProblem("Could not save "+f.what, err)
			return
		}
		if w == nil {
			return
		}
		path := w.URI().Path()
		_ = w.Close()
		a.saveTo(f, path)
	}, a.win)
	d.SetFileName(f.name)
	d.SetFilter(storage.NewExtensionFileFilter(f.exts))
	a.fileDialogSize(d)
	d.Show()
}

// saveTo writes f to path off the Fyne thread, then says where it went,
// or why it could not be saved.
func (a *App) saveTo(f fileSave, path string) {
	a.background(func(ctx context.Context, cl *client.Client) func() {
		err := f.write(ctx, cl, path)
		return func() {
			if err != nil {
				a.sayProblem("Could not save "+f.what+" to "+path, err)
				return
			}
			a.say(f.saved(path))
		}
	})
}

// runFile is saving run t (nil: the server's transcript of the run id, read
// when it is saved) as JSON or a Markdown report, by the extension of the
// file's name; the name offered is base with ext.
func runFile(t *wire.Transcript, id, base, ext string) fileSave {
	return fileSave{
		what: "the run",
		name: base + ext,
		exts: []string{".json", ".md", ".markdown"},
		write: func(ctx context.Context, cl *client.Client, path string) error {
			if _, err := export.FormatForPath(path); err != nil {
				return err // before reading the run
			}
			run := t
			if run == nil {
				var err error
				if run, err = cl.Run(ctx, id); err != nil {
					return err
				}
			}
			return export.Save(path, run)
		},
		saved: savedWords,
	}
}

// lastRunFile is saving the last run, as a Markdown report or JSON.
func (a *App) lastRunFile(markdown bool) fileSave {
	ext := ".json"
	if markdown {
		ext = ".md"
	}
	return runFile(nil, a.runID, "tokenloom-run-"+time.Now().Format("2006-01-02-150405"), ext)
}

// savedWords says where the run went and in which format.
func savedWords(path string) string {
	if f, _ := export.FormatForPath(path); f == export.FormatMarkdown {
		return "Saved the run as a Markdown report: " + path
	}
	return "Saved the run as JSON (Open replays it): " + path
}

// fileDialogSize gives a file dialog most of the window: at its own size it
// shows three rows of files.
func (a *App) fileDialogSize(d interface{ Resize(fyne.Size) }) {
	win := a.win.Canvas().Size()
	d.Resize(fyne.NewSize(max(win.Width*0.9, 560), max(win.Height*0.9, 400)))
}

// showOpen asks for a saved JSON run and a speed, then replays it.
func (a *App) showOpen() {
	if a.running {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			a.sayProblem("Could not open a file", err)
			return
		}
		if r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		t, err := export.Load(path)
		if err != nil {
			a.sayProblem("Could not open "+filepath.Base(path), err)
			return
		}
		speed := widget.NewRadioGroup(replaySpeeds, nil)
		speed.Horizontal = true
		speed.SetSelected(replaySpeeds[0])
		dialog.ShowCustomConfirm("Replay "+filepath.Base(path), "Replay", "Cancel",
			widget.NewForm(widget.NewFormItem("Speed", speed)), func(ok bool) {
				if ok {
					a.replayName = filepath.Base(path)
					a.replay(t, replaySpeed(speed.Selected))
				}
			}, a.win)
	}, a.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
	a.fileDialogSize(d)
	d.Show()
}

// savedConfig is the pane set-up of a saved stream: its model and the
// options it ran with (its think option among them).
func savedConfig(st wire.StreamTranscript) PaneConfig {
	cfg := PaneConfig{Model: st.Model, Endpoint: st.Endpoint}
	if o := st.Options; o != nil {
		cfg.Temperature, cfg.Seed, cfg.MaxTokens, cfg.Rate, cfg.Think = o.Temperature, o.Seed, o.NumPredict, o.Rate, o.Think
	}
	return cfg
}

// replaySpeed reads "2×" as 2; anything else is 1.
func replaySpeed(label string) float64 {
	for i, l := range replaySpeeds {
		if l == label {
			return float64(int(1) << i)
		}
	}
	return 1
}

// replay plays a saved run back through the server with its original
// timing divided by speed, in panes set to its streams.
func (a *App) replay(t *wire.Transcript, speed float64) {
	if !a.takeRun(t) {
		return
	}
	name := a.replayName
	if name == "" {
		name = "a saved run"
	}
	a.replaying = &replayed{name: name, speed: speed, t: t}
	a.launch(fmt.Sprintf("replaying %s at %g× (figures as recorded)…", name, speed), "Could not replay", func(ctx context.Context, cl *client.Client) (*wire.RunCreated, error) {
		return cl.StartReplay(ctx, t, speed)
	})
}

// takeRun opens saved run t (a file's, or the history's): the panes, the
// prompts and the mode become its (setPanesFor), so that Run runs it again.
// When it cannot (a run goes on, or t's streams do not fit the panes) it
// says why and reports false.
func (a *App) takeRun(t *wire.Transcript) bool {
	switch {
	case a.running:
		a.say("A run is going on: stop it first, then open the saved run.")
		return false
	case len(t.Streams) == 0 || len(t.Streams) > MaxPanes:
		a.say(fmt.Sprintf("A saved run opens with 1 to %d streams; this one has %d.", MaxPanes, len(t.Streams)))
		return false
	}
	a.setPanesFor(t)
	return true
}

// setPanesFor sets the panes, the prompts and the mode to those of a saved
// run t, so that Run runs it again.
func (a *App) setPanesFor(t *wire.Transcript) {
	a.panes = a.panes[:0]
	for i, st := range t.Streams {
		p := newPane(a, i, savedConfig(st))
		p.setHistory(st.History) // the conversation the run went on from
		a.panes = append(a.panes, p)
	}
	a.layoutPanes()
	a.selectMode(t.Mode)
	a.prompt.SetText(t.Prompt)
	a.system.SetText(t.System)
	a.save()
}

// replayed is a saved run being played back.
type replayed struct {
	name  string  // its file's name
	speed float64 // its playback rate
	t     *wire.Transcript
}

// asRecorded puts a replay's events back on the recorded clock, and gives
// their terminal events the recorded figures: the views show the run as it
// was, not the playback's times.
func (r *replayed) asRecorded(batch []client.IndexedEvent) {
	for k := range batch {
		ev := &batch[k]
		ev.TMs *= r.speed
		if ev.Terminal() && ev.Index < len(r.t.Streams) && r.t.Streams[ev.Index].Stats != nil {
			ev.Stats = r.t.Streams[ev.Index].Stats
		}
	}
}
