package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokenloom/tokenloom/client"
	"github.com/tokenloom/tokenloom/internal/base/endpoints"
	"github.com/tokenloom/tokenloom/internal/base/figures"
	"github.com/tokenloom/tokenloom/internal/base/wire"
	"github.com/tokenloom/tokenloom/internal/services/diagram"
	"github.com/tokenloom/tokenloom/internal/services/history"
	"github.com/tokenloom/tokenloom/internal/services/sweep"
	"github.com/tokenloom/tokenloom/ui/frame"
)

// sweepView is the Sweep tab: the prompt on one model at 1, 2, 4, 8…
// streams at once, each step's lanes on the timeline as it runs, then a
// chart of the aggregate and per-stream tokens per second against the
// streams, a row per number of streams, and what they say. Sweeps are kept
// in the history and open again.
type sweepView struct {
	app  *App
	root fyne.CanvasObject

	model                  *widget.Select
	streams, repeat, maxTk *widget.Entry
	startBtn, saveBtn      *widget.Button
	earlier                *widget.Select
	progress               *widget.ProgressBar
	status                 *widget.Label
	chart                  *canvas.Raster
	table                  *widget.Table
	sentences              *widget.Label

	// result is the sweep shown: the one running, or the last, or one
	// opened from the history; points its figures.
	result *sweep.Result
	points []sweep.Point
	// earlierIDs are the ids of the kept sweeps, as earlier lists them.
	earlierIDs []string
}

// sweepIntro is what the tab says before it shows a sweep.
const sweepIntro = "A sweep runs the prompt above on one model at 1, 2, 4 and 8 streams at once, one step after another, " +
	"and shows how the aggregate and each stream's tokens per second change with the streams: demo/task1 only waits, " +
	"demo/shared shares one engine, demo/oneslot answers one request at a time."

// sweepColumns are the titles of the table's columns.
var sweepColumns = []string{"streams", "wall s", "aggregate tok/s", "per stream tok/s", "TTFT p50 ms", "TTFT p95 ms", "queued s", "failed"}

func newSweepView(a *App) *sweepView {
	v := &sweepView{app: a}
	v.model = widget.NewSelect(nil, nil)
	v.model.PlaceHolder = "(choose a model)"
	v.streams, v.repeat, v.maxTk = widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	v.streams.SetText(joinInts(sweep.DefaultStreams))
	v.repeat.SetText("1")
	v.maxTk.SetText(strconv.Itoa(sweep.DefaultMaxTokens))
	v.startBtn = widget.NewButtonWithIcon("Sweep", theme.MediaPlayIcon(), v.start)
	v.saveBtn = widget.NewButtonWithIcon("Save picture…", theme.DocumentSaveIcon(), func() {
		if r := v.result; r != nil {
			c := r.Chart()
			a.showSavePicture(func(dark bool) diagram.Picture { c.Dark = dark; return c }, "tokenloom-sweep", "sweep")
		}
	})
	v.saveBtn.Disable()
	v.earlier = widget.NewSelect(nil, func(string) { v.openEarlier() })
	v.earlier.PlaceHolder = "(earlier sweeps)"
	if a.opts.History == nil {
		v.earlier.PlaceHolder = "(the history is off)"
		v.earlier.Disable()
	}
	v.progress = widget.NewProgressBar()
	v.progress.Hide() // until a sweep is shown
	v.status = widget.NewLabel("")
	v.status.Truncation = fyne.TextTruncateEllipsis
	v.chart = canvas.NewRaster(func(w, h int) image.Image {
		if v.result == nil || len(v.points) == 0 {
			return image.NewRGBA(image.Rect(0, 0, 1, 1))
		}
		c := v.result.Chart()
		c.Dark = a.variant() == theme.VariantDark
		c.Title, c.Notes = "", nil // the tab says them
		scale := float64(w) / float64(max(v.chart.Size().Width, 1))
		c.TextSize = float64(theme.Size(theme.SizeNameCaptionText)) * scale
		return c.Image(w, h)
	})
	v.chart.SetMinSize(fyne.NewSize(240, 160))
	v.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(v.points), len(sweepColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("00000.0") },
		func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.cell(id.Row, id.Col)) })
	v.table.ShowHeaderColumn = false
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle = fyne.TextStyle{Bold: true}
		if id.Row < 0 && id.Col >= 0 && id.Col < len(sweepColumns) {
			l.SetText(sweepColumns[id.Col])
		} else {
			l.SetText("")
		}
	}
	for i, c := range sweepColumns {
		title := widget.NewLabel(c)
		title.TextStyle = fyne.TextStyle{Bold: true}
		v.table.SetColumnWidth(i, title.MinSize().Width+8)
	}
	v.sentences = widget.NewLabel(sweepIntro)
	v.sentences.Wrapping = fyne.TextWrapWord

	controls := container.NewHBox(
		widget.NewLabel("Model"), v.model,
		widget.NewLabel("Streams"), sized(v.streams, 90),
		widget.NewLabel("Repeat"), sized(v.repeat, 50),
		widget.NewLabel("Max tokens"), sized(v.maxTk, 70),
		v.startBtn, v.saveBtn, v.earlier)
	top := container.NewVBox(container.NewHScroll(controls), container.NewBorder(nil, nil, nil, sized(v.progress, 160), v.status))
	right := container.NewBorder(v.sentences, nil, nil, nil, v.table)
	split := container.NewHSplit(v.chart, right)
	split.Offset = 0.5
	v.root = container.NewBorder(top, nil, nil, nil, split)
	return v
}

// sized gives o a least width.
func sized(o fyne.CanvasObject, w float32) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(w, o.MinSize().Height), o)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// cell is the text of row, col of the table.
func (v *sweepView) cell(row, col int) string {
	if row >= len(v.points) {
		return ""
	}
	p := v.points[row]
	switch col {
	case 0:
		return strconv.Itoa(p.Streams)
	case 1:
		return fmt.Sprintf("%.2f", p.WallMs/1000)
	case 2:
		return fmt.Sprintf("%.1f", p.AggregateTokensPerS)
	case 3:
		return fmt.Sprintf("%.1f", p.PerStreamTokensPerS)
	case 4:
		return fmt.Sprintf("%.0f", p.TTFTP50Ms)
	case 5:
		return fmt.Sprintf("%.0f", p.TTFTP95Ms)
	case 6:
		return fmt.Sprintf("%.2f", p.QueuedMs/1000)
	case 7:
		return strconv.Itoa(p.Failed)
	}
	return ""
}

// setModels offers the model list; the first pane's model is the default.
func (v *sweepView) setModels(names []string) {
	v.model.SetOptions(names)
	if v.model.Selected == "" {
		if len(v.app.panes) > 0 && v.app.panes[0].model.Selected != "" {
			v.model.SetSelected(v.app.panes[0].model.Selected)
		} else if len(names) > 0 {
			v.model.SetSelected(names[0])
		}
	}
}

// spec is the sweep the controls ask for, or why it cannot run.
func (v *sweepView) spec() (sweep.Spec, error) {
	a := v.app
	if v.model.Selected == "" {
		return sweep.Spec{}, errors.New("choose a model to sweep")
	}
	ref, err := endpoints.ParseModelRef(v.model.Selected)
	if err != nil {
		return sweep.Spec{}, fmt.Errorf("model %w", err)
	}
	streams, err := sweep.ParseStreams(v.streams.Text)
	if err != nil {
		return sweep.Spec{}, err
	}
	repeat, err := strconv.Atoi(strings.TrimSpace(v.repeat.Text))
	if err != nil {
		return sweep.Spec{}, fmt.Errorf("repeat %q: want a whole number, 1 to %d", v.repeat.Text, sweep.MaxRepeat)
	}
	maxTk, err := strconv.Atoi(strings.TrimSpace(v.maxTk.Text))
	if err != nil || maxTk < 1 {
		return sweep.Spec{}, fmt.Errorf("max tokens %q: want a whole number of tokens, 1 or more", v.maxTk.Text)
	}
	spec := sweep.Spec{Model: ref.Model, Endpoint: ref.Endpoint, Prompt: a.prompt.Text, Streams: streams, Repeat: repeat,
		Options: wire.Options{NumPredict: &maxTk}}
	if strings.TrimSpace(spec.Prompt) == "" {
		return sweep.Spec{}, errors.New("write a prompt above first: every stream of the sweep gets it")
	}
	return spec, spec.Check()
}

// sweepUpdate is what the sweep's goroutine hands the tab: a step that
// started, an event of its run, or the sweep after a step.
type sweepUpdate struct {
	started *sweepStarted
	event   *client.IndexedEvent
	result  *sweep.Result
}

type sweepStarted struct{ k, total, n, repeat int }

// start runs the sweep the controls ask for. Run, Compare and this button
// wait until it ends; Stop (or Esc) stops it.
func (v *sweepView) start() {
	a := v.app
	if a.running {
		return
	}
	spec, err := v.spec()
	if err != nil {
		v.status.SetText(problem("Cannot sweep", err))
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	a.sweepStop = cancel
	a.setRunning(true)
	v.startBtn.Disable()
	v.saveBtn.Disable()
	v.result, v.points = &sweep.Result{Spec: spec}, nil
	v.refresh()
	v.progress.SetValue(0)
	v.progress.Show()
	v.status.SetText("Starting the sweep…")
	updates := make(chan sweepUpdate)
	send := func(u sweepUpdate) {
		select {
		case updates <- u:
		case <-a.ctx.Done():
		}
	}
	cl, store := a.client(), a.opts.History
	var last *sweep.Result
	var runErr error
	a.spawn(func() {
		defer close(updates)
		r, err := sweep.Run(ctx, cl, spec, sweep.Hooks{
			Started: func(k, total, n, repeat int, _ *wire.RunCreated) {
				send(sweepUpdate{started: &sweepStarted{k, total, n, repeat}})
			},
			Event: func(ev client.IndexedEvent) { send(sweepUpdate{event: &ev}) },
			Stepped: func(r *sweep.Result) {
				v.keep(store, r)
				send(sweepUpdate{result: r.Clone()})
			},
		})
		if r != nil {
			v.keep(store, r)
			last = r.Clone()
		}
		runErr = err
	})
	a.spawn(func() {
		frame.Pump(a.ctx, updates, a.clock, a.pace, a.do, func(batch []sweepUpdate, final bool) {
			v.apply(spec, batch)
			if final {
				v.ended(last, runErr)
			}
		})
	})
}

// keep saves r in the history, if there is one; on the sweep's goroutine.
func (v *sweepView) keep(store *history.Store, r *sweep.Result) {
	if store == nil || len(r.Steps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), history.BusyTimeout+5*time.Second)
	defer cancel()
	if err := sweep.Keep(ctx, store, r); err != nil {
		v.app.do(func() { v.app.sayProblem("The sweep could not be kept in the history", err) })
	}
}

// apply shows a batch of the running sweep: a step's lanes on the
// timeline, their events, the figures of the steps that ended.
func (v *sweepView) apply(spec sweep.Spec, batch []sweepUpdate) {
	tl := v.app.views.timeline
	touched, ended := false, false
	for _, u := range batch {
		switch {
		case u.started != nil:
			s := u.started
			labels := make([]string, s.n)
			slots := make([]int, s.n)
			for i := range labels {
				labels[i], slots[i] = streamLabel(i, spec.Name()), i
			}
			tl.Reset(labels, slots)
			rep := ""
			if spec.Repeat > 1 {
				rep = fmt.Sprintf(", repeat %d of %d", s.repeat, spec.Repeat)
			}
			what := fmt.Sprintf("Sweep step %d of %d: %s of %s at once%s", s.k+1, s.total, figures.Plural(s.n, "stream"), spec.Name(), rep)
			v.status.SetText(what + "…")
			v.app.views.heading.SetText("Timeline: " + what)
			v.progress.SetValue(float64(s.k) / float64(s.total))
		case u.event != nil:
			tl.Add(u.event.Index, u.event.Event)
			touched, ended = true, ended || u.event.Terminal()
		case u.result != nil:
			v.show(u.result)
			v.progress.SetValue(float64(len(u.result.Steps)) / float64(len(spec.Streams)*spec.Repeat))
		}
	}
	if touched {
		v.app.views.redrawTimeline(ended)
	}
}

// ended closes a sweep: it shows how it ended and frees the controls.
func (v *sweepView) ended(r *sweep.Result, err error) {
	a := v.app
	a.sweepStop = nil
	a.setRunning(false)
	v.startBtn.Enable()
	if r != nil && len(r.Steps) > 0 {
		v.show(r)
	}
	switch {
	case err != nil:
		v.status.SetText(problem("The sweep stopped", err))
	case r != nil && r.Stopped:
		v.status.SetText(fmt.Sprintf("Stopped after %s of %d.", figures.Plural(len(r.Steps), "step"), len(r.Spec.Streams)*r.Spec.Repeat))
	case r != nil:
		v.progress.SetValue(1)
		v.status.SetText("Done: " + r.Title() + ".")
	}
	v.listEarlier()
}

// show puts sweep r in the tab: its chart, its rows and its sentences.
func (v *sweepView) show(r *sweep.Result) {
	v.result, v.points = r, r.Points()
	v.refresh()
	if len(v.points) > 0 {
		v.saveBtn.Enable()
	}
}

// refresh redraws the figures of the sweep shown.
func (v *sweepView) refresh() {
	v.table.Refresh()
	v.chart.Refresh()
	if v.result == nil || len(v.points) == 0 {
		v.sentences.SetText(sweepIntro)
		return
	}
	v.sentences.SetText(strings.Join(v.result.Sentences(), " "))
}

// listEarlier lists the sweeps kept in the history, newest first.
func (v *sweepView) listEarlier() {
	store := v.app.opts.History
	if store == nil {
		return
	}
	v.app.background(func(ctx context.Context, _ *client.Client) func() {
		list, err := store.Sweeps(ctx, 100)
		return func() {
			if err != nil {
				v.app.sayProblem("Could not list the sweeps of the history", err)
				return
			}
			opts := make([]string, len(list))
			v.earlierIDs = make([]string, len(list))
			for i, s := range list {
				opts[i] = fmt.Sprintf("%s · %s · %s streams", s.StartedAt.Local().Format("Jan 2 15:04"), s.Model, s.Streams)
				if s.Stopped {
					opts[i] += " (stopped)"
				}
				v.earlierIDs[i] = s.ID
			}
			v.earlier.OnChanged = nil
			v.earlier.SetOptions(opts)
			v.earlier.ClearSelected()
			v.earlier.OnChanged = func(string) { v.openEarlier() }
		}
	})
}

// openEarlier shows the kept sweep chosen in earlier.
func (v *sweepView) openEarlier() {
	i := v.earlier.SelectedIndex()
	store := v.app.opts.History
	if i < 0 || i >= len(v.earlierIDs) || store == nil || v.app.running {
		return
	}
	id := v.earlierIDs[i]
	v.app.background(func(ctx context.Context, _ *client.Client) func() {
		r, err := sweep.Kept(ctx, store, id)
		return func() {
			if err != nil {
				v.status.SetText(problem("Could not open that sweep", err))
				return
			}
			v.show(r)
			v.progress.SetValue(float64(len(r.Steps)) / float64(max(len(r.Spec.Streams)*r.Spec.Repeat, 1)))
			v.progress.Show()
			v.status.SetText(fmt.Sprintf("Sweep of %s: %s.", r.StartedAt.Local().Format("Jan 2 15:04"), r.Title()))
		}
	})
}
