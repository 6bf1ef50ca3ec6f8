package ui

import (
	"context"
	"fmt"
	"image"
	"slices"

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
)

// compareIntro is the lesson's column before a comparison: what async
// buys, in the three regimes the demo sources show.
const compareIntro = "Press Compare to run the panes' streams one after another, then side by side. What async buys depends on what the streams wait for. " +
	"Panes of demo/task1 and demo/task2 wait on something outside the machine: side by side they take 3 s, not 5 s. " +
	"Two panes of demo/shared share one engine: side by side each runs at half its speed, and nothing is saved. " +
	"Two panes of demo/oneslot meet a server that answers one request at a time, as Ollama does by default: one waits in its queue, and nothing is saved."

// lessonWidth is the width of the lesson's column beside the picture.
const lessonWidth = 300

// comparison is the panes' streams run one after another (sync), then
// side by side (async): the lesson in two runs.
type comparison struct {
	req    wire.RunRequest
	syncID string // set once the sync run has ended
}

// Labels of the compare view's choice of the run the panes show.
const (
	showSync  = "Sync run"
	showAsync = "Async run"
)

// compare runs the panes' streams in sync mode, then in async mode, and
// shows both on one clock in the Compare tab.
// A comparison starts a new conversation: its two runs answer the prompt
// afresh, and neither becomes a turn.
func (a *App) compare() {
	if a.running {
		return
	}
	status := "Comparing: the streams one after another first (sync, 1 of 2)…"
	if a.inConversation() {
		status = "Comparing, in a new conversation: the streams one after another first (sync, 1 of 2)…"
	}
	for _, p := range a.panes {
		p.turns = nil
	}
	req, ok := a.request()
	if !ok {
		a.conversationControls()
		return
	}
	req.Mode = wire.ModeSync
	a.comparing = &comparison{req: req}
	a.startRun(req, status)
	a.conversationControls()
}

// compareNext goes on with a comparison once one of its runs has ended.
func (a *App) compareNext(panes []*Pane) {
	c := a.comparing
	if c.syncID == "" {
		c.syncID = a.runID
		req := c.req
		req.Mode = wire.ModeAsync
		a.startRun(req, "Comparing: now the same streams side by side (async, 2 of 2)…")
		return
	}
	a.comparing = nil
	syncID, asyncID := c.syncID, a.runID
	slots := make([]int, len(panes))
	for i, p := range panes {
		slots[i] = p.slot
	}
	a.background(func(ctx context.Context, cl *client.Client) func() {
		st, err := cl.Run(ctx, syncID)
		var at *wire.Transcript
		if err == nil {
			at, err = cl.Run(ctx, asyncID)
		}
		return func() {
			if err != nil {
				a.runStatus.SetText(problem("Could not read the runs to compare", err))
				return
			}
			a.views.compare.show(st, at, panes, slots)
			a.runStatus.SetText(a.views.compare.heading.Text)
			a.tabs.Select(a.views.compareTab)
		}
	})
}

// compareView shows a comparison: the two runs' timelines stacked on one
// clock, their wall times, what async saved and the lesson read from the
// figures; the panes show either run's texts.
type compareView struct {
	app     *App
	root    fyne.CanvasObject
	heading *widget.Label
	lesson  *widget.Label
	picture *canvas.Raster
	pick    *widget.RadioGroup
	saveBtn *widget.Button

	runs    [2]*wire.Transcript // sync, async
	panes   []*Pane
	diagram *diagram.Diagram
}

func newCompareView(a *App) *compareView {
	v := &compareView{app: a}
	v.heading = widget.NewLabel("Compare runs the panes' streams one after another (sync), then side by side (async), and shows both on one clock.")
	v.heading.TextStyle = fyne.TextStyle{Bold: true}
	v.heading.Wrapping = fyne.TextWrapWord
	v.lesson = widget.NewLabel(compareIntro)
	v.lesson.Wrapping = fyne.TextWrapWord
	v.picture = canvas.NewRaster(func(w, h int) image.Image {
		if v.diagram == nil {
			return image.NewRGBA(image.Rect(0, 0, 1, 1))
		}
		d := *v.diagram
		d.Dark = a.variant() == theme.VariantDark
		d.Title = "" // the tab's heading says it
		// The picture is drawn in pixels: its text as large as the
		// window's.
		scale := float64(w) / float64(max(v.picture.Size().Width, 1))
		d.TextSize = float64(theme.Size(theme.SizeNameCaptionText)) * scale
		return d.Image(w, h)
	})
	v.picture.SetMinSize(fyne.NewSize(200, 160))
	v.pick = widget.NewRadioGroup([]string{showSync, showAsync}, func(s string) { v.showTexts(s) })
	v.pick.Horizontal = true
	v.pick.Disable()
	v.saveBtn = widget.NewButtonWithIcon("Save picture…", theme.DocumentSaveIcon(), func() {
		if v.diagram != nil {
			d := *v.diagram
			a.showSavePicture(func(dark bool) diagram.Picture { d.Dark = dark; return d }, "tokenloom-compare", "comparison")
		}
	})
	v.saveBtn.Disable()
	run := widget.NewButtonWithIcon("Compare", theme.MediaFastForwardIcon(), a.compare)
	bottom := container.NewHBox(widget.NewLabel("Panes show the"), v.pick, v.saveBtn, run)
	// The lesson beside the picture: the picture keeps the height.
	lesson := container.NewVScroll(v.lesson)
	lesson.SetMinSize(fyne.NewSize(lessonWidth, 0))
	v.root = container.NewBorder(v.heading, bottom, nil, lesson, v.picture)
	return v
}

// show puts a finished comparison in the view: the sync run st and the
// async run at of panes, coloured by slots.
func (v *compareView) show(st, at *wire.Transcript, panes []*Pane, slots []int) {
	v.runs = [2]*wire.Transcript{st, at}
	v.panes = panes
	c := figures.Compare(figures.OutcomesOf(st), figures.OutcomesOf(at))
	v.heading.SetText(fmt.Sprintf("Sync %s · async %s · %s", c.Sync.Wall(), c.Async.Wall(), c.Saved()))
	v.lesson.SetText(c.Lesson())
	d := diagram.OfComparison(st, at, slots)
	v.diagram = &d
	v.picture.Refresh()
	v.saveBtn.Enable()
	v.pick.Enable()
	v.pick.Selected = showAsync // the panes show the async run, the last
	v.pick.Refresh()
}

// showTexts shows the chosen run of the comparison in the panes and the
// run's views, while the panes it ran in are all still there.
func (v *compareView) showTexts(which string) {
	a := v.app
	t := v.runs[1]
	if which == showSync {
		t = v.runs[0]
	}
	if t == nil || a.running || t.ID == a.runID {
		return
	}
	for _, p := range v.panes {
		if !slices.Contains(a.panes, p) {
			a.say("A pane of the comparison was closed: its runs can no longer be shown in the panes.")
			return
		}
	}
	if err := a.showRun(t, v.panes); err != nil {
		a.sayProblem("Could not show that run", err)
	}
}

// showRun shows a finished run t in panes (one a stream) and in the run's
// views, as it ended.
func (a *App) showRun(t *wire.Transcript, panes []*Pane) error {
	evs, err := client.TranscriptEvents(t)
	if err != nil {
		return err
	}
	ids := make([]string, len(t.Streams))
	models := make([]string, len(t.Streams))
	for i, st := range t.Streams {
		ids[i], models[i] = st.ID, endpoints.ModelRef{Model: st.Model, Endpoint: st.Endpoint}.String()
	}
	a.runID, a.runMode, a.runPanes = t.ID, t.Mode, panes
	a.beginStreams(panes, ids, models, t.Prompt)
	applyToPanes(panes, evs, true)
	a.views.apply(evs)
	a.views.timeline.Refresh()
	return nil
}
