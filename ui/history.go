package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/history"
)

// historyLimit is the most runs the History tab lists at once.
const historyLimit = 500

// historyView is the History tab: the runs kept in the history database,
// newest first or found by words of their prompts and answers, to open in
// the panes, replay, export or delete.
type historyView struct {
	app    *App
	root   fyne.CanvasObject
	search *widget.Entry
	list   *widget.List
	size   *widget.Label
	runs   []history.RunSummary
	picked int // the selected row, -1 for none
	gen    int // counts the lists asked for: a late one is dropped
}

func newHistoryView(a *App) *historyView {
	v := &historyView{app: a, picked: -1}
	if a.opts.History == nil {
		off := widget.NewLabel("The history is off (TOKENLOOM_HISTORY=off, or its file could not be opened): runs are kept only by Export.")
		off.Wrapping = fyne.TextWrapWord
		v.root = off
		return v
	}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search the prompts and answers (Enter)")
	v.search.OnSubmitted = func(string) { v.refresh() }
	v.list = widget.NewList(func() int { return len(v.runs) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.runs) {
				o.(*widget.Label).SetText(runLine(v.runs[id]))
			}
		})
	v.list.OnSelected = func(id widget.ListItemID) { v.picked = id }
	v.list.OnUnselected = func(widget.ListItemID) { v.picked = -1 }
	v.size = widget.NewLabel("")
	v.size.SizeName = theme.SizeNameCaptionText
	buttons := container.NewHBox(
		widget.NewButtonWithIcon("Open", theme.FolderOpenIcon(), func() { v.withPicked(v.open) }),
		widget.NewButtonWithIcon("Replay", theme.MediaPlayIcon(), func() { v.withPicked(v.replay) }),
		widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), func() { v.withPicked(v.export) }),
		widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), v.delete),
		widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), v.refresh),
	)
	v.root = container.NewBorder(v.search, container.NewBorder(nil, nil, nil, buttons, v.size), nil, nil, v.list)
	return v
}

// runLine is a run in the list: when, how, how long, which models, what.
func runLine(r history.RunSummary) string {
	parts := []string{r.StartedAt.Local().Format("2006-01-02 15:04"), r.Mode}
	switch r.State {
	case history.StateFinished:
		parts = append(parts, fmt.Sprintf("%.2f s", r.WallMs/1000))
	default:
		parts = append(parts, r.State)
	}
	if r.ReplayOf != "" {
		parts = append(parts, "replay")
	}
	if r.Turn > 1 {
		parts = append(parts, fmt.Sprintf("turn %d", r.Turn))
	}
	parts = append(parts, strings.Join(r.Models, ", "), strings.Join(strings.Fields(r.Prompt), " "))
	line := strings.Join(parts, " · ")
	if r.Snippet != "" {
		line += " · " + strings.Join(strings.Fields(r.Snippet), " ")
	}
	return line
}

// refresh lists the runs again, found by the search's words if any.
func (v *historyView) refresh() {
	if v.app.opts.History == nil {
		return
	}
	v.gen++
	gen, text, store := v.gen, strings.TrimSpace(v.search.Text), v.app.opts.History
	v.app.background(func(ctx context.Context, _ *client.Client) func() {
		var runs []history.RunSummary
		var err error
		if text != "" {
			runs, err = store.Search(ctx, text, historyLimit)
		} else {
			runs, err = store.List(ctx, history.Query{Limit: historyLimit})
		}
		size, serr := store.Size(ctx)
		return func() {
			if gen != v.gen {
				return
			}
			if err != nil {
				v.app.sayProblem("Could not read the history", err)
				return
			}
			v.runs = runs
			v.picked = -1
			v.list.UnselectAll()
			v.list.Refresh()
			if serr == nil {
				v.size.SetText(fmt.Sprintf("%d runs shown · the history holds %.1f MiB of at most %.0f MiB · %s",
					len(runs), float64(size)/(1<<20), float64(store.MaxBytes())/(1<<20), store.Path()))
			}
		}
	})
}

// withPicked reads the picked run and hands it to f on the Fyne thread.
func (v *historyView) withPicked(f func(t *wire.Transcript)) {
	if v.picked < 0 || v.picked >= len(v.runs) {
		v.app.say("Pick a run in the list first.")
		return
	}
	id, store := v.runs[v.picked].ID, v.app.opts.History
	v.app.background(func(ctx context.Context, _ *client.Client) func() {
		t, err := store.Get(ctx, id)
		return func() {
			if err != nil {
				v.app.sayProblem("Could not read run "+id, err)
				return
			}
			f(t)
		}
	})
}

// open shows a kept run in the panes and the run's views, as it ended.
func (v *historyView) open(t *wire.Transcript) {
	a := v.app
	if !a.takeRun(t) {
		return
	}
	if err := a.showRun(t, a.panes); err != nil {
		a.sayProblem("Could not open the run", err)
		return
	}
	a.endTurns(a.panes) // a follow-up goes on from it
	a.runStatus.SetText(fmt.Sprintf("Run of %s from the history, as it ended.", t.StartedAt.Local().Format("2006-01-02 15:04")))
	a.tabs.SelectIndex(0)
}

// replay plays a kept run back.
func (v *historyView) replay(t *wire.Transcript) {
	if !t.Finished {
		v.app.say("That run was cut off before its end: Open shows what it kept; only a finished run replays.")
		return
	}
	v.app.replayName = "the run of " + t.StartedAt.Local().Format("2006-01-02 15:04")
	v.app.replay(t, 1)
	v.app.tabs.SelectIndex(0)
}

// export saves a kept run as JSON or Markdown, by the name's extension.
func (v *historyView) export(t *wire.Transcript) {
	v.app.askSave(runFile(t, t.ID, "tokenloom-run-"+t.StartedAt.Local().Format("2006-01-02-150405"), ".json"))
}

// delete removes the picked run from the history, once asked.
func (v *historyView) delete() {
	if v.picked < 0 || v.picked >= len(v.runs) {
		v.app.say("Pick a run in the list first.")
		return
	}
	r, store := v.runs[v.picked], v.app.opts.History
	dialog.ShowConfirm("Delete the run?", "Delete the run of "+r.StartedAt.Local().Format("2006-01-02 15:04")+" ("+strings.Join(r.Models, ", ")+") from the history?", func(ok bool) {
		if ok {
			v.deleteRun(store, r.ID)
		}
	}, v.app.win)
}

func (v *historyView) deleteRun(store *history.Store, id string) {
	v.app.background(func(ctx context.Context, _ *client.Client) func() {
		err := store.Delete(ctx, id)
		return func() {
			if err != nil {
				v.app.sayProblem("Could not delete the run", err)
			}
			v.refresh()
		}
	})
}

// historyCap is the history's size cap in MiB the user chose, 0 for the
// history's default.
func (a *App) historyCap() int { return a.fyneApp.Preferences().Int(prefHistoryMiB) }

// applyHistoryCap gives the history the cap the user chose, off the Fyne
// thread (a smaller cap deletes the oldest runs at once), then says what
// the history holds.
func (a *App) applyHistoryCap(mib int) {
	store := a.opts.History
	if store == nil {
		return
	}
	n := history.DefaultMaxBytes
	if mib > 0 {
		n = int64(mib) << 20
	}
	a.background(func(ctx context.Context, _ *client.Client) func() {
		err := store.SetMaxBytes(ctx, n)
		return func() {
			if err != nil {
				a.sayProblem("Could not set the history's size", err)
			}
			a.views.history.refresh()
		}
	})
}

// historyEditor is the History part of Settings: the history's file, its
// size and its cap.
func (a *App) historyEditor() (fyne.CanvasObject, func() error) {
	store := a.opts.History
	if store == nil {
		l := widget.NewLabel("History: off (TOKENLOOM_HISTORY=off, or its file could not be opened).")
		l.Wrapping = fyne.TextWrapWord
		return l, func() error { return nil }
	}
	capMiB := widget.NewEntry()
	capMiB.SetText(strconv.FormatInt(store.MaxBytes()>>20, 10))
	note := widget.NewLabel("Every run is kept in " + store.Path() + "; beyond this size the oldest runs are deleted.")
	note.Wrapping = fyne.TextWrapWord
	note.SizeName = theme.SizeNameCaptionText
	form := widget.NewForm(widget.NewFormItem("History, MiB", capMiB), widget.NewFormItem("", note))
	return form, func() error {
		mib, err := strconv.Atoi(strings.TrimSpace(capMiB.Text))
		if err != nil || mib < minHistoryMiB || mib > maxHistoryMiB {
			return fmt.Errorf("the history's size is whole MiB from %d to %d, not %q", minHistoryMiB, maxHistoryMiB, capMiB.Text)
		}
		if int64(mib)<<20 != store.MaxBytes() {
			a.fyneApp.Preferences().SetInt(prefHistoryMiB, mib)
			a.applyHistoryCap(mib)
		}
		return nil
	}
}

// The history's size cap the Settings take, in MiB.
const (
	minHistoryMiB = 16
	maxHistoryMiB = 1 << 20 // a TiB
)

// finishRecording writes a recorded run's last events off the Fyne thread,
// then lists the runs again.
func (a *App) finishRecording(rec *history.Recorder) {
	a.background(func(ctx context.Context, _ *client.Client) func() {
		err := rec.Finish(ctx)
		return func() {
			if err != nil {
				a.sayProblem("The history could not keep the end of this run", err)
			}
			a.views.history.refresh()
		}
	})
}

// recordRun starts recording a run the server created for req; nil when
// the history is off or the run cannot be recorded (the app says why).
func (a *App) recordRun(created *wire.RunCreated, req wire.RunRequest) *history.Recorder {
	store := a.opts.History
	if store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	rec, err := store.StartRun(ctx, history.MetaOf(created, req, time.Now()))
	if err != nil {
		a.do(func() { a.sayProblem("This run is not kept in the history", err) })
		return nil
	}
	return rec
}
