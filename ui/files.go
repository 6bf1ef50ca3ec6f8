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
	"github.com/tokenloom/tokenloom/internal/export"
)

// Replay speeds offered when opening a saved run.
var replaySpeeds = []string{"1×", "2×", "4×"}

// showExport asks where to save the last run, as JSON or Markdown by the
// file's extension.
func (a *App) showExport() {
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
			a.runStatus.SetText("Saved " + filepath.Base(path) + ".")
		})
	}, a.win)
	d.SetFileName("tokenloom-run-" + time.Now().Format("2006-01-02-150405") + ".json")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".json", ".md", ".markdown"}))
	d.Show()
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
					a.replay(t, replaySpeed(speed.Selected))
				}
			}, a.win)
	}, a.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
	d.Show()
}

// savedConfig is the pane set-up of a saved stream: its model and the
// options it ran with (its think option among them).
func savedConfig(st client.StreamTranscript) PaneConfig {
	cfg := PaneConfig{Model: st.Model}
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
func (a *App) replay(t *client.Transcript, speed float64) {
	if a.running || len(t.Streams) == 0 || len(t.Streams) > MaxPanes {
		a.runStatus.SetText(fmt.Sprintf("A saved run must have 1 to %d streams.", MaxPanes))
		return
	}
	a.panes = a.panes[:0]
	for i, st := range t.Streams {
		a.panes = append(a.panes, newPane(a, i, savedConfig(st)))
	}
	a.selectMode(t.Mode)
	a.prompt.SetText(t.Prompt)
	a.system.SetText(t.System)
	a.launch(fmt.Sprintf("replaying at %g×…", speed), "Could not replay: ", func(ctx context.Context, cl *client.Client) (*client.RunCreated, error) {
		return cl.StartReplay(ctx, t, speed)
	})
}
