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
	"github.com/tokenloom/tokenloom/internal/services/export"
	"github.com/tokenloom/tokenloom/internal/base/wire"
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
	ext := ".json"
	if markdown {
		ext = ".md"
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		_ = w.Close()
		a.exportTo(path, func(err error) {
			if err != nil {
				dialog.ShowError(err, a.win)
				return
			}
			a.say(savedWords(path))
		})
	}, a.win)
	d.SetFileName("tokenloom-run-" + time.Now().Format("2006-01-02-150405") + ext)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".json", ".md", ".markdown"}))
	a.fileDialogSize(d)
	d.Show()
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

// exportTo saves the last run's transcript to path; done runs on the Fyne
// thread.
func (a *App) exportTo(path string, done func(error)) {
	if _, err := export.FormatForPath(path); err != nil {
		done(err)
		return
	}
	id := a.runID
	a.background(func(ctx context.Context, cl *client.Client) func() {
		t, err := cl.Run(ctx, id)
		if err == nil {
			err = export.Save(path, t)
		}
		return func() { done(err) }
	})
}

// showOpen asks for a saved JSON run and a speed, then replays it.
func (a *App) showOpen() {
	if a.running {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		_ = r.Close()
		t, err := export.Load(path)
		if err != nil {
			dialog.ShowError(fmt.Errorf("cannot open %s: %w", filepath.Base(path), err), a.win)
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
	if a.running || len(t.Streams) == 0 || len(t.Streams) > MaxPanes {
		a.runStatus.SetText(fmt.Sprintf("A saved run must have 1 to %d streams.", MaxPanes))
		return
	}
	a.setPanesFor(t)
	name := a.replayName
	if name == "" {
		name = "a saved run"
	}
	a.replaying = &replayed{name: name, speed: speed, t: t}
	a.launch(fmt.Sprintf("replaying %s at %g× (figures as recorded)…", name, speed), "Could not replay: ", func(ctx context.Context, cl *client.Client) (*wire.RunCreated, error) {
		return cl.StartReplay(ctx, t, speed)
	})
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
